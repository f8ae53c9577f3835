-- 004_users_sessions: humans (users), their console sessions, one-time form tokens and login
-- throttling. Times are BIGINT Unix seconds (UTC). Idempotent (see 001_init.sql).

CREATE TABLE IF NOT EXISTS users (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id      VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id     BIGINT UNSIGNED NOT NULL,
  email          VARCHAR(254) NOT NULL,
  password_hash  VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  role           ENUM('owner', 'developer', 'viewer') NOT NULL,
  disabled_at    BIGINT NULL,
  created_at     BIGINT NOT NULL,
  updated_at     BIGINT NOT NULL,
  last_login_at  BIGINT NULL,
  UNIQUE KEY users_public_id (public_id),
  UNIQUE KEY users_email (email),
  KEY users_list (account_id, created_at, public_id),
  CONSTRAINT users_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A session is known only by SHA-256 of its id (the cookie value).
CREATE TABLE IF NOT EXISTS sessions (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  digest        BINARY(32) NOT NULL,
  user_id       BIGINT UNSIGNED NOT NULL,
  created_at    BIGINT NOT NULL,
  last_seen_at  BIGINT NOT NULL,
  UNIQUE KEY sessions_digest (digest),
  KEY sessions_user (user_id),
  KEY sessions_seen (last_seen_at),
  CONSTRAINT sessions_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- One-time tokens of forms that create something (a key): a resubmitted form is recognised.
CREATE TABLE IF NOT EXISTS form_tokens (
  digest      BINARY(32) NOT NULL PRIMARY KEY,
  session_id  BIGINT UNSIGNED NOT NULL,
  created_at  BIGINT NOT NULL,
  used_at     BIGINT NULL,
  result_id   VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NULL,
  KEY form_tokens_session (session_id),
  CONSTRAINT form_tokens_session_fk FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Failed logins per subject ("email:…" or "ip:…") within the current window.
CREATE TABLE IF NOT EXISTS login_failures (
  subject       VARCHAR(300) NOT NULL PRIMARY KEY,
  failures      INT UNSIGNED NOT NULL,
  window_start  BIGINT NOT NULL,
  KEY login_failures_window (window_start)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
