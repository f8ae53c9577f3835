-- 002_audit_hmac: the audit chain is signed with HMAC-SHA-256 under a secret kept outside the
-- database (audit_key_file). Rows written before this migration keep their plain SHA-256 hash
-- (key_id = '', "epoch 0"); every later row carries the id of the key that signed it and its
-- position in the chain (seq, 1-based over all rows). See docs/operations.md, "The audit log".
-- prev_hash and hash keep their names: for a signed row they hold the previous row's MAC and its own.

ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS seq BIGINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS key_id VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

-- The head also records the newest row's seq, internal id and signing key id.
ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS seq BIGINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS last_id BIGINT UNSIGNED NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN IF NOT EXISTS key_id VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '';

-- Count the unsigned rows already there, so the first signed row's seq is its position.
-- Only while nothing is signed yet: re-running it later changes nothing.
UPDATE audit_head SET seq = (SELECT COUNT(*) FROM audit_log), last_id = (SELECT COALESCE(MAX(id), 0) FROM audit_log) WHERE id = 1 AND key_id = '';
