-- 009: leaked-key reports (issue 19, item 2; docs/api.md "Leaked keys").
-- key_leaks: one row per key per place it was reported found (url_hash: SHA-256 of the url as
-- given, "" when none was), so a repeated report (GitHub re-sends, a scanner runs again) writes
-- no second audit row, event or mail. A key's rows go with it.
CREATE TABLE IF NOT EXISTS key_leaks (
  id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  key_id       BIGINT UNSIGNED NOT NULL,
  url_hash     BINARY(32) NOT NULL,
  url          VARCHAR(2048) NOT NULL,
  source       VARCHAR(100) NOT NULL,
  reported_at  BIGINT NOT NULL,
  UNIQUE KEY key_leaks_key_url (key_id, url_hash),
  CONSTRAINT key_leaks_key_fk FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
