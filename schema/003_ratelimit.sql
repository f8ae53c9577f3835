-- 003_ratelimit: the rate-limit counter and the daily usage history, in one row per key and UTC day.
-- Every counted use of a key is ONE upsert of its row for today (lib/ratelimit.c):
--   win_start, win_len, n  the current fixed window and the uses counted in it (the limit's counter);
--                          a use in a newer (or differently sized) window restarts n at 1, so past
--                          windows are folded into the day's totals by the write that opens the next
--   valid … insufficient_scope   the day's uses by outcome (the usage history)
--   last_valid_at          the last valid use (a key's last_used_at is derived from it)
-- Windows are aligned to UTC midnight, so a window never spans two rows.
-- Rows older than the retention (usage_retention_days) are removed by `latchkey gc` and by the
-- programs themselves (lib/usage.c), after their last_valid_at is kept in api_keys.last_used_at.
-- key_id and account_id are not foreign keys: an account's history outlives a deleted key.

CREATE TABLE IF NOT EXISTS key_usage (
  key_id              BIGINT UNSIGNED NOT NULL,
  day                 INT NOT NULL,
  account_id          BIGINT UNSIGNED NOT NULL,
  win_start           BIGINT NOT NULL,
  win_len             INT UNSIGNED NOT NULL,
  n                   BIGINT UNSIGNED NOT NULL,
  valid               INT UNSIGNED NOT NULL DEFAULT 0,
  rate_limited        INT UNSIGNED NOT NULL DEFAULT 0,
  revoked             INT UNSIGNED NOT NULL DEFAULT 0,
  expired             INT UNSIGNED NOT NULL DEFAULT 0,
  insufficient_scope  INT UNSIGNED NOT NULL DEFAULT 0,
  last_valid_at       BIGINT NULL,
  PRIMARY KEY (key_id, day),
  KEY key_usage_account (account_id, day),
  KEY key_usage_day (day)
) ENGINE=InnoDB;
