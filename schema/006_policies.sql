-- 006_policies: account and key policies (docs/api.md "Policies").
-- accounts: status (suspended_at set = suspended, with its reason; suspended_by = the suspended
--   account nearest the root on its path, itself included, kept by every suspend, reactivate and
--   create so a key's read needs no subquery), the scope ceiling a parent sets
--   on a sub-account (grantable_scopes, space-separated patterns; NULL = none) and the inactivity
--   policy (revoke_after_inactive_days; NULL = inherit / off).
-- api_keys: the IP allowlist (allowed_ips, space-separated addresses and CIDR ranges; NULL = any),
--   credits (credits_remaining NULL = unlimited) with their refill (refill_amount, refill_interval
--   'daily' | 'monthly', refill_day 1..31 for monthly, refilled_at = the start of the period last
--   refilled), why a key was revoked (revoked_reason), and whether it was imported (imported: its
--   digest is of a key latchkey did not make).
-- key_usage: three more outcomes (the attempts refused by these policies).

ALTER TABLE accounts
  ADD COLUMN IF NOT EXISTS suspended_at BIGINT NULL,
  ADD COLUMN IF NOT EXISTS suspend_reason VARCHAR(200) NULL,
  ADD COLUMN IF NOT EXISTS suspended_by VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN IF NOT EXISTS grantable_scopes VARCHAR(2200) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN IF NOT EXISTS revoke_after_inactive_days INT UNSIGNED NULL,
  ADD KEY IF NOT EXISTS accounts_suspended (suspended_at);

ALTER TABLE api_keys
  ADD COLUMN IF NOT EXISTS allowed_ips VARCHAR(5000) CHARACTER SET ascii COLLATE ascii_bin NULL,
  ADD COLUMN IF NOT EXISTS credits_remaining BIGINT NULL,
  ADD COLUMN IF NOT EXISTS refill_amount BIGINT NULL,
  ADD COLUMN IF NOT EXISTS refill_interval ENUM('daily', 'monthly') NULL,
  ADD COLUMN IF NOT EXISTS refill_day TINYINT UNSIGNED NULL,
  ADD COLUMN IF NOT EXISTS refilled_at BIGINT NULL,
  ADD COLUMN IF NOT EXISTS revoked_reason ENUM('manual', 'inactive', 'leaked', 'rotated', 'ceiling') NULL,
  ADD COLUMN IF NOT EXISTS imported TINYINT(1) NOT NULL DEFAULT 0;

ALTER TABLE key_usage
  ADD COLUMN IF NOT EXISTS account_suspended INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS ip_not_allowed INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS usage_exceeded INT UNSIGNED NOT NULL DEFAULT 0;
