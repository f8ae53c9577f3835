-- 005_usage_env: each usage row records the env of its key, so an account's usage can be summed
-- over its test keys alone (what a test key may see: docs/api.md "Test and live keys"), deleted
-- keys included. lib/ratelimit.c writes it with every new row; a key's env never changes.
-- Rows already there take their key's env; rows of keys deleted before this migration cannot be
-- told and stay 'live' (a test key does not see them).

ALTER TABLE key_usage ADD COLUMN IF NOT EXISTS env ENUM('live', 'test') NOT NULL DEFAULT 'live';
UPDATE key_usage u JOIN api_keys k ON k.id = u.key_id SET u.env = k.env WHERE u.env <> k.env;
