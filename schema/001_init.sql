-- 001_init: accounts, keys, the audit log and its hash-chain head.
-- Every statement ends with ";" at the end of a line: `latchkey migrate` splits on that.
-- Statements are idempotent (IF NOT EXISTS, INSERT IGNORE): DDL commits implicitly, so a migration
-- interrupted half-way is simply run again.
-- Times are BIGINT Unix seconds (UTC). Internal ids never leave the database.

CREATE TABLE IF NOT EXISTS accounts (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id   VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  parent_id   BIGINT UNSIGNED NULL,
  path        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  name        VARCHAR(100) NOT NULL,
  plan        VARCHAR(16) CHARACTER SET ascii NOT NULL DEFAULT 'free',
  created_at  BIGINT NOT NULL,
  updated_at  BIGINT NOT NULL,
  UNIQUE KEY accounts_public_id (public_id),
  KEY accounts_path (path),
  KEY accounts_parent (parent_id),
  CONSTRAINT accounts_parent_fk FOREIGN KEY (parent_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS api_keys (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id     VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id    BIGINT UNSIGNED NOT NULL,
  digest        BINARY(32) NOT NULL,
  start         VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  env           ENUM('live', 'test') NOT NULL,
  label         VARCHAR(100) NOT NULL,
  scopes        VARCHAR(2200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL DEFAULT '',
  created_at    BIGINT NOT NULL,
  expires_at    BIGINT NULL,
  revoked_at    BIGINT NULL,
  last_used_at  BIGINT NULL,
  rotated_from  VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
  rl_limit      INT UNSIGNED NULL,
  rl_window     INT UNSIGNED NULL,
  meta          TEXT NOT NULL,
  UNIQUE KEY api_keys_public_id (public_id),
  UNIQUE KEY api_keys_digest (digest),
  KEY api_keys_list (account_id, created_at, public_id),
  CONSTRAINT api_keys_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS audit_log (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id     VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  at            BIGINT NOT NULL,
  actor         VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id    VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_path  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  action        VARCHAR(40) CHARACTER SET ascii NOT NULL,
  target_id     VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  ip            VARCHAR(64) CHARACTER SET ascii NOT NULL DEFAULT '',
  request_id    VARCHAR(80) CHARACTER SET ascii NOT NULL DEFAULT '',
  changes       TEXT NOT NULL,
  prev_hash     BINARY(32) NOT NULL,
  hash          BINARY(32) NOT NULL,
  UNIQUE KEY audit_public_id (public_id),
  KEY audit_target (target_id),
  KEY audit_path (account_path, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row: the hash of the newest audit row. Locked FOR UPDATE by every change to serialise the chain.
CREATE TABLE IF NOT EXISTS audit_head (
  id    TINYINT UNSIGNED NOT NULL PRIMARY KEY,
  hash  BINARY(32) NOT NULL
) ENGINE=InnoDB;

INSERT IGNORE INTO audit_head (id, hash) VALUES (1, REPEAT(CHAR(0), 32));
