-- 011_cache_feed: the verify cache's change feed (docs/operations.md "Verify cache").
-- One row per audited change of a key or an account, written in the change's transaction by the
-- audit writer (model/cache.c lk_cache_audited); every host's follower reads the rows of the last
-- 30 s of this clock each cache_sync_interval, skips the ids it already applied (ids need not grow
-- in commit order: Galera interleaves AUTO_INCREMENT) and drops the cached entries named:
-- target_id a key's public id (its entry) or an account's (every entry). Rows older than an hour
-- are deleted by the hourly sweep (model/usage.c). A change made by hand in SQL writes its row too, in its transaction:
--   INSERT INTO cache_feed (at, target_id) VALUES (UNIX_TIMESTAMP(), 'key_…');
-- Times are BIGINT Unix seconds (UTC). Idempotent (see 001_init.sql).

CREATE TABLE IF NOT EXISTS cache_feed (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at         BIGINT NOT NULL,
  target_id  VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  KEY cache_feed_at (at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
