-- 008_webhooks: signed webhooks (docs/api.md "Events and webhooks") and expiry notices.
-- webhook_endpoints: where an account's subtree's events go. secret is the current signing
--   secret (whsec_…); old_secret keeps signing beside it until old_secret_until after a rotation.
--   events: space-separated event types or patterns ("*", "key.*"). disabled_reason: why
--   enabled = 0 ('manual' by PATCH, 'failing' by the delivery worker); failing_since: the first
--   failed attempt since the last success.
-- webhook_messages: the outbox, one row per event and endpoint, written in the change's
--   transaction. The worker claims a row by moving next_attempt_at past a lease and setting
--   lease (its random token); a row whose lease passed is claimable again.
-- key_notices: the expiry notices sent (kind 'expiring:N' per threshold of N days, 'expired'),
--   so the periodic sweep emits each once.
-- Times are BIGINT Unix seconds (UTC). Idempotent (see 001_init.sql).

CREATE TABLE IF NOT EXISTS webhook_endpoints (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id         VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  account_id        BIGINT UNSIGNED NOT NULL,
  url               VARCHAR(2048) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  description       VARCHAR(400) NULL,
  events            VARCHAR(1000) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  enabled           TINYINT(1) NOT NULL DEFAULT 1,
  disabled_reason   ENUM('manual', 'failing') NULL,
  secret            VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  old_secret        VARCHAR(80) CHARACTER SET ascii COLLATE ascii_bin NULL,
  old_secret_until  BIGINT NULL,
  failing_since     BIGINT NULL,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  UNIQUE KEY webhook_endpoints_public_id (public_id),
  KEY webhook_endpoints_list (account_id, created_at, public_id),
  CONSTRAINT webhook_endpoints_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS webhook_messages (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  public_id        VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  endpoint_id      BIGINT UNSIGNED NOT NULL,
  type             VARCHAR(40) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  payload          MEDIUMTEXT NOT NULL,
  created_at       BIGINT NOT NULL,
  status           ENUM('pending', 'delivered', 'failed') NOT NULL DEFAULT 'pending',
  attempts         INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at  BIGINT NOT NULL,
  lease            CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL,
  last_attempt_at  BIGINT NULL,
  response_code    INT NULL,
  latency_ms       INT UNSIGNED NULL,
  last_error       VARCHAR(200) NULL,
  delivered_at     BIGINT NULL,
  UNIQUE KEY webhook_messages_public_id (public_id),
  KEY webhook_messages_due (status, next_attempt_at),
  KEY webhook_messages_list (endpoint_id, created_at, public_id),
  CONSTRAINT webhook_messages_endpoint_fk FOREIGN KEY (endpoint_id)
    REFERENCES webhook_endpoints (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS key_notices (
  key_id   BIGINT UNSIGNED NOT NULL,
  kind     VARCHAR(20) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  sent_at  BIGINT NOT NULL,
  PRIMARY KEY (key_id, kind),
  CONSTRAINT key_notices_key_fk FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB;
