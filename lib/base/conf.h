/* conf.h — the latchkey configuration file: "key = value" lines, '#' comments. */
#ifndef LK_CONF_H
#define LK_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/authz_rules.h"
#include "base/err.h"
#include "base/net.h"

struct lk_conf {
	char		 db_host[256];
	unsigned int	 db_port;
	char		 db_socket[256];
	char		 db_name[65];
	char		 db_user[81];
	char		 db_password[256];
	unsigned int	 db_connect_timeout;	/* seconds */
	unsigned int	 db_read_timeout;
	unsigned int	 db_write_timeout;
	unsigned int	 db_sync_wait;		/* Galera's session wsrep_sync_wait */
	char		 key_prefix[11];
	char		 base_path[128];
	size_t		 max_body;		/* bytes */
	struct lk_cidr	 trusted_proxies[LK_NET_CIDRS_MAX];	/* see lk_net_client_ip */
	size_t		 ntrusted_proxies;
	unsigned int	 max_keys_per_account;	/* key rows one account may hold */
	unsigned int	 max_children_per_account;	/* direct sub-accounts */
	char		 db_admin_user[81];	/* migrate/init connect as this user when set */
	char		 db_admin_password_file[256];	/* read only by migrate/init */
	char		 audit_key_file[256];	/* HMAC secret of the audit chain (hex) */
	char		 audit_old_keys_file[256];	/* retired audit keys, one per line */
	unsigned int	 audit_checkpoint_every;	/* log a checkpoint every N audit rows */
	bool		 password_from_file;	/* db_password_file was read */
	char		 ratelimit_on_db_error[8];	/* "closed" (503) or "open" */
	bool		 ratelimit_open;		/* ratelimit_on_db_error = open */
	unsigned int	 ratelimit_max_override;	/* per minute; above it only the root account */
	unsigned int	 usage_retention_days;	/* daily usage kept this long */
	struct lk_authz	 authz;			/* authz_rule lines, authz_default */
	/* Users and the admin console (docs/operations.md, "Admin console"). */
	unsigned int	 argon2_t_cost;		/* passes */
	unsigned int	 argon2_m_cost;		/* KiB */
	unsigned int	 argon2_parallelism;	/* lanes */
	unsigned int	 session_idle_timeout;	/* seconds */
	unsigned int	 session_absolute_timeout;
	unsigned int	 login_max_failures;	/* per email within login_throttle_window */
	unsigned int	 login_max_failures_ip;	/* per client IP within the window */
	unsigned int	 login_throttle_window;	/* seconds */
	bool		 admin_insecure_cookie;	/* plain-http dev mode: no Secure, no __Host- */
	bool		 admin_trust_remote_user; /* the web server authenticates; REMOTE_USER names the user */
	/* Webhooks and notices (docs/operations.md, "Webhooks"). */
	bool		 webhook_allow_private;	/* dev only: http:// and private addresses */
	char		 webhook_retry_schedule[256];	/* durations between attempts, comma-separated */
	unsigned int	 webhook_connect_timeout;	/* seconds */
	unsigned int	 webhook_timeout;		/* seconds, a whole attempt */
	unsigned int	 webhook_lease;		/* seconds a claimed message is the worker's */
	unsigned int	 webhook_poll_ms;	/* the worker's wait between empty passes */
	unsigned int	 webhook_disable_after;	/* seconds of failing deliveries: disabled */
	unsigned int	 webhook_secret_overlap;	/* seconds the old secret signs after a rotation */
	char		 expiry_notice_days[64];	/* thresholds in days, comma-separated ("30,7,1") */
	char		 mail_command[256];	/* "/usr/sbin/sendmail -t -i"; "" = no mail */
	char		 console_url[256];	/* the admin console's address, for links in mail */
	/* Leak reports (docs/operations.md, "Leaked keys"): GitHub's public keys, read per report. */
	char		 github_secret_scanning_keys_file[256];	/* "" = POST /v1/leaks/github off */
	/* The host-local verify cache (docs/operations.md, "Verify cache"). */
	bool		 verify_cache;		/* on: verify, me and the authorizer read it first */
	char		 cache_dir[256];	/* its LMDB environment (0700, files 0600) */
	unsigned int	 cache_sync_interval;	/* seconds: changes made elsewhere reach it within */
	unsigned int	 cache_stale_max;	/* seconds it answers after the last sync (DB down) */
	unsigned int	 cache_max_entries;	/* keys held; when full, some dropped at random */
};

#define LK_CONF_LIST_MAX	16	/* entries of webhook_retry_schedule, expiry_notice_days */

/*
 * Parse a comma-separated list: durations (unit 1: "5s", "30m", 3600) or
 * whole numbers multiplied by unit (86400: days). 1..max values > 0 into out.
 */
bool		lk_conf_durations(const char *text, int64_t unit, int64_t *out, size_t max,
		    size_t *n);

/* Fill c with the defaults. */
void		lk_conf_defaults(struct lk_conf *c);

/*
 * Parse the text of a config file (NUL-terminated) into c, which holds the
 * defaults or earlier values. db_password_file is read here. Comments are
 * whole lines starting with '#'; a '#' after blanks in a value (an inline
 * comment) is refused, except in db_password. On error writes "line N: why"
 * to err and returns LK_ERR_VALIDATION.
 */
enum lk_err	lk_conf_parse(struct lk_conf *c, const char *text, char *err, size_t errsz);

/* lk_conf_defaults + read + lk_conf_parse of the file at path; err is "PATH: line N: why". */
enum lk_err	lk_conf_load(struct lk_conf *c, const char *path, char *err, size_t errsz);

/*
 * Read the first line of the secret file at path into buf (NUL-terminated,
 * line end stripped; the rest of buf wiped). False if it cannot be read or
 * does not fit.
 */
bool		lk_conf_read_secret(const char *path, char *buf, size_t size);

/* Load the file named by $LATCHKEY_CONF (defaults only if unset). */
enum lk_err	lk_conf_load_env(struct lk_conf *c, char *err, size_t errsz);

#endif
