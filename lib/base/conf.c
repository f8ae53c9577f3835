/* conf.c — a declared table of settings, each with its type and bounds. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "base/crypto.h"
#include "base/keyfmt.h"
#include "base/timefmt.h"

#define LK_CONF_FILE_MAX	65536

enum ctype { C_STR, C_UINT, C_SIZE, C_PASSFILE, C_BOOL, C_CIDRS, C_AUTHZ_RULE, C_AUTHZ_DEFAULT };

static const struct setting {
	const char	*name;
	enum ctype	 type;
	size_t		 off;
	size_t		 size;		/* buffer size for C_STR */
	unsigned long	 min, max;	/* bounds for numbers */
} settings[] = {
#define S(f) offsetof(struct lk_conf, f), sizeof(((struct lk_conf *)0)->f)
	{ "db_host", C_STR, S(db_host), 0, 0 },
	{ "db_port", C_UINT, S(db_port), 1, 65535 },
	{ "db_socket", C_STR, S(db_socket), 0, 0 },
	{ "db_name", C_STR, S(db_name), 0, 0 },
	{ "db_user", C_STR, S(db_user), 0, 0 },
	{ "db_password", C_STR, S(db_password), 0, 0 },
	{ "db_password_file", C_PASSFILE, S(db_password), 0, 0 },
	{ "db_connect_timeout", C_UINT, S(db_connect_timeout), 1, 300 },
	{ "db_read_timeout", C_UINT, S(db_read_timeout), 1, 300 },
	{ "db_write_timeout", C_UINT, S(db_write_timeout), 1, 300 },
	{ "db_sync_wait", C_UINT, S(db_sync_wait), 0, 15 },
	{ "key_prefix", C_STR, S(key_prefix), 0, 0 },
	{ "base_path", C_STR, S(base_path), 0, 0 },
	{ "max_body", C_SIZE, S(max_body), 1024, 16 * 1024 * 1024 },
	{ "argon2_t_cost", C_UINT, S(argon2_t_cost), 1, 100 },
	{ "argon2_m_cost", C_UINT, S(argon2_m_cost), 1024, 4 * 1024 * 1024 },
	{ "argon2_parallelism", C_UINT, S(argon2_parallelism), 1, 64 },
	{ "session_idle_timeout", C_UINT, S(session_idle_timeout), 1, 7 * 86400 },
	{ "session_absolute_timeout", C_UINT, S(session_absolute_timeout), 1, 30 * 86400 },
	{ "login_max_failures", C_UINT, S(login_max_failures), 1, 1000 },
	{ "login_max_failures_ip", C_UINT, S(login_max_failures_ip), 1, 100000 },
	{ "login_throttle_window", C_UINT, S(login_throttle_window), 1, 86400 },
	{ "admin_insecure_cookie", C_BOOL, S(admin_insecure_cookie), 0, 0 },
	{ "admin_trust_remote_user", C_BOOL, S(admin_trust_remote_user), 0, 0 },
	{ "trusted_proxies", C_CIDRS, S(trusted_proxies), 0, 0 },
	{ "max_keys_per_account", C_UINT, S(max_keys_per_account), 1, 10000000 },
	{ "max_children_per_account", C_UINT, S(max_children_per_account), 1, 1000000 },
	{ "db_admin_user", C_STR, S(db_admin_user), 0, 0 },
	{ "db_admin_password_file", C_STR, S(db_admin_password_file), 0, 0 },
	{ "audit_key_file", C_STR, S(audit_key_file), 0, 0 },
	{ "audit_old_keys_file", C_STR, S(audit_old_keys_file), 0, 0 },
	{ "audit_checkpoint_every", C_UINT, S(audit_checkpoint_every), 1, 1000000 },
	{ "ratelimit_on_db_error", C_STR, S(ratelimit_on_db_error), 0, 0 },
	{ "ratelimit_max_override", C_UINT, S(ratelimit_max_override), 1, 1000000000 },
	{ "usage_retention_days", C_UINT, S(usage_retention_days), 1, 36600 },
	{ "webhook_allow_private", C_BOOL, S(webhook_allow_private), 0, 0 },
	{ "webhook_retry_schedule", C_STR, S(webhook_retry_schedule), 0, 0 },
	{ "webhook_connect_timeout", C_UINT, S(webhook_connect_timeout), 1, 60 },
	{ "webhook_timeout", C_UINT, S(webhook_timeout), 1, 300 },
	{ "webhook_lease", C_UINT, S(webhook_lease), 1, 3600 },
	{ "webhook_poll_ms", C_UINT, S(webhook_poll_ms), 10, 600000 },
	{ "webhook_disable_after", C_UINT, S(webhook_disable_after), 1, 365 * 86400 },
	{ "webhook_secret_overlap", C_UINT, S(webhook_secret_overlap), 0, 30 * 86400 },
	{ "expiry_notice_days", C_STR, S(expiry_notice_days), 0, 0 },
	{ "mail_command", C_STR, S(mail_command), 0, 0 },
	{ "console_url", C_STR, S(console_url), 0, 0 },
	{ "github_secret_scanning_keys_file", C_STR, S(github_secret_scanning_keys_file), 0, 0 },
	{ "verify_cache", C_BOOL, S(verify_cache), 0, 0 },
	{ "cache_dir", C_STR, S(cache_dir), 0, 0 },
	{ "cache_sync_interval", C_UINT, S(cache_sync_interval), 1, 3600 },
	{ "cache_stale_max", C_UINT, S(cache_stale_max), 1, 86400 },
	{ "cache_max_entries", C_UINT, S(cache_max_entries), 100, 100000000 },
	{ "authz_rule", C_AUTHZ_RULE, S(authz), 0, 0 },		/* repeated: one rule a line */
	{ "authz_default", C_AUTHZ_DEFAULT, S(authz), 0, 0 },
#undef S
};

void
lk_conf_defaults(struct lk_conf *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->db_host, sizeof(c->db_host), "127.0.0.1");
	c->db_port = 3306;
	snprintf(c->db_name, sizeof(c->db_name), "latchkey");
	snprintf(c->db_user, sizeof(c->db_user), "latchkey");
	/* Low, so a hung database gives clients a 503 in seconds (docs/operations.md). */
	c->db_connect_timeout = 2;
	c->db_read_timeout = 3;
	c->db_write_timeout = 3;
	c->db_sync_wait = 1;	/* Galera: reads see every commit made before them, on any node */
	snprintf(c->key_prefix, sizeof(c->key_prefix), "lk");
	snprintf(c->base_path, sizeof(c->base_path), "/v1");
	c->max_body = 65536;
	c->argon2_t_cost = 2;		/* OWASP's argon2id minimum: 19 MiB, 2 passes, 1 lane */
	c->argon2_m_cost = 19456;
	c->argon2_parallelism = 1;
	c->session_idle_timeout = 1800;
	c->session_absolute_timeout = 43200;
	c->login_max_failures = 5;
	c->login_max_failures_ip = 50;
	c->login_throttle_window = 900;
	c->max_keys_per_account = 10000;
	c->max_children_per_account = 1000;
	c->audit_checkpoint_every = 100;
	snprintf(c->ratelimit_on_db_error, sizeof(c->ratelimit_on_db_error), "closed");
	c->ratelimit_max_override = 60000;	/* 10 x enterprise: 1000 a second */
	c->usage_retention_days = 400;
	/* Standard Webhooks' suggested schedule: 8 attempts over about 27 hours. */
	snprintf(c->webhook_retry_schedule, sizeof(c->webhook_retry_schedule), "5s,5m,30m,2h,5h,10h,10h");
	c->webhook_connect_timeout = 5;
	c->webhook_timeout = 15;
	c->webhook_lease = 60;		/* > webhook_timeout: a live attempt keeps its message */
	c->webhook_poll_ms = 1000;
	c->webhook_disable_after = 432000;	/* 5 days */
	c->webhook_secret_overlap = 86400;
	snprintf(c->expiry_notice_days, sizeof(c->expiry_notice_days), "7");
	/* The host-local verify cache (docs/operations.md, "Verify cache"): off, strict. */
	snprintf(c->cache_dir, sizeof(c->cache_dir), "/var/cache/latchkey");
	c->cache_sync_interval = 1;
	c->cache_stale_max = 300;
	c->cache_max_entries = 1000000;
}

/* Read a whole small file into buf (NUL-terminated). Returns false on error or if too large. */
static bool
read_file(const char *path, char *buf, size_t size)
{
	FILE	*f;
	size_t	 n;
	bool	 ok;

	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, size - 1, f);
	ok = !ferror(f) && feof(f) && n < size - 1;
	fclose(f);
	buf[n] = '\0';
	return ok;
}

bool
lk_conf_read_secret(const char *path, char *buf, size_t size)
{
	size_t n;

	if (!read_file(path, buf, size)) {
		lk_crypto_wipe(buf, size);
		return false;
	}
	n = strcspn(buf, "\r\n");
	lk_crypto_wipe(buf + n, size - n);
	return true;
}

static bool
set_value(struct lk_conf *c, const struct setting *s, const char *v,
    char *why, size_t whysz)
{
	char		*field = (char *)c + s->off, *end;
	unsigned long	 n;
	char		 pass[512];

	switch (s->type) {
	case C_STR:
		/* A password file, wherever it stands, wins over db_password. */
		if (s->off == offsetof(struct lk_conf, db_password) && c->password_from_file)
			return true;
		if (strlen(v) >= s->size) {
			snprintf(why, whysz, "%s is too long", s->name);
			return false;
		}
		memcpy(field, v, strlen(v) + 1);
		return true;
	case C_PASSFILE:
		if (!lk_conf_read_secret(v, pass, sizeof(pass))) {
			snprintf(why, whysz, "cannot read db_password_file %s", v);
			return false;
		}
		if (strlen(pass) >= s->size) {
			lk_crypto_wipe(pass, sizeof(pass));
			snprintf(why, whysz, "password in %s is too long", v);
			return false;
		}
		memcpy(field, pass, strlen(pass) + 1);
		c->password_from_file = true;
		lk_crypto_wipe(pass, sizeof(pass));
		return true;
	case C_CIDRS:
		return lk_net_cidrs_parse(v, c->trusted_proxies, LK_NET_CIDRS_MAX,
		    &c->ntrusted_proxies, why, whysz);
	case C_AUTHZ_RULE:
		return lk_authz_rule_add(&c->authz, v, why, whysz);
	case C_AUTHZ_DEFAULT:
		return lk_authz_default_set(&c->authz, v, why, whysz);
	case C_UINT:
	case C_SIZE:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
		    n < s->min || n > s->max) {
			snprintf(why, whysz, "%s must be a number from %lu to %lu",
			    s->name, s->min, s->max);
			return false;
		}
		if (s->type == C_UINT)
			*(unsigned int *)(void *)field = (unsigned int)n;
		else
			*(size_t *)(void *)field = (size_t)n;
		return true;
	case C_BOOL:
		/* on/off too: verify_cache = on reads as the setting is named in the docs */
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0 &&
		    strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
			snprintf(why, whysz, "%s must be yes or no", s->name);
			return false;
		}
		*(bool *)(void *)field = strcmp(v, "yes") == 0 || strcmp(v, "on") == 0;
		return true;
	}
	return false;
}

/* Trim leading and trailing blanks in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

enum lk_err
lk_conf_parse(struct lk_conf *c, const char *text, char *err, size_t errsz)
{
	char		 line[1024], why[256];
	int64_t		 out[LK_CONF_LIST_MAX];
	const char	*p = text;
	size_t		 i, n;
	int		 lineno = 0;

	while (*p != '\0') {
		char *k, *v, *eq;

		lineno++;
		n = strcspn(p, "\n");
		if (n >= sizeof(line)) {
			snprintf(err, errsz, "line %d: too long", lineno);
			return LK_ERR_VALIDATION;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		k = trim(line);
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			lk_crypto_wipe(line, sizeof(line));
			snprintf(err, errsz, "line %d: expected key = value", lineno);
			return LK_ERR_VALIDATION;
		}
		*eq = '\0';
		k = trim(k);
		v = trim(eq + 1);
		/* "db_port = 3306  # note" would silently become part of a text value. */
		if (strcmp(k, "db_password") != 0 &&
		    (strstr(v, " #") != NULL || strstr(v, "\t#") != NULL || *v == '#')) {
			snprintf(err, errsz, "line %d: inline comments are not allowed "
			    "(put '# ...' on a line of its own)", lineno);
			lk_crypto_wipe(line, sizeof(line));
			return LK_ERR_VALIDATION;
		}
		for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
			if (strcmp(settings[i].name, k) == 0)
				break;
		if (i == sizeof(settings) / sizeof(settings[0])) {
			snprintf(err, errsz, "line %d: unknown setting '%.64s'", lineno, k);
			lk_crypto_wipe(line, sizeof(line));
			return LK_ERR_VALIDATION;
		}
		if (!set_value(c, &settings[i], v, why, sizeof(why))) {
			snprintf(err, errsz, "line %d: %s", lineno, why);
			lk_crypto_wipe(line, sizeof(line));
			return LK_ERR_VALIDATION;
		}
		lk_crypto_wipe(line, sizeof(line));
	}
	if (!lk_keyfmt_prefix_ok(c->key_prefix)) {
		snprintf(err, errsz, "key_prefix must be 2 to 10 letters a-z");
		return LK_ERR_VALIDATION;
	}
	if (c->base_path[0] != '/' || c->base_path[strlen(c->base_path) - 1] == '/') {
		snprintf(err, errsz, "base_path must start with '/' and not end with one");
		return LK_ERR_VALIDATION;
	}
	if (!lk_conf_durations(c->webhook_retry_schedule, 1, out, LK_CONF_LIST_MAX, &n)) {
		snprintf(err, errsz, "webhook_retry_schedule must be 1 to %d durations "
		    "(seconds or 30m, 12h, 1d), comma-separated", LK_CONF_LIST_MAX);
		return LK_ERR_VALIDATION;
	}
	if (!lk_conf_durations(c->expiry_notice_days, 86400, out, LK_CONF_LIST_MAX, &n)) {
		snprintf(err, errsz, "expiry_notice_days must be 1 to %d numbers of days, "
		    "comma-separated (\"30,7,1\")", LK_CONF_LIST_MAX);
		return LK_ERR_VALIDATION;
	}
	if (c->webhook_lease <= c->webhook_timeout) {
		snprintf(err, errsz, "webhook_lease must be longer than webhook_timeout "
		    "(a message must stay its worker's for a whole attempt)");
		return LK_ERR_VALIDATION;
	}
	c->ratelimit_open = strcmp(c->ratelimit_on_db_error, "open") == 0;
	if (!c->ratelimit_open && strcmp(c->ratelimit_on_db_error, "closed") != 0) {
		snprintf(err, errsz, "ratelimit_on_db_error must be closed or open");
		return LK_ERR_VALIDATION;
	}
	return LK_OK;
}

bool
lk_conf_durations(const char *text, int64_t unit, int64_t *out, size_t max, size_t *n)
{
	char	 item[32];
	size_t	 len;

	for (*n = 0; *text != '\0'; text += len + (text[len] == ',')) {
		text += strspn(text, " ");
		len = strcspn(text, ",");
		if (len == 0 || len >= sizeof(item) || *n == max)
			return false;
		memcpy(item, text, len);
		while (len > 0 && item[len - 1] == ' ')
			len--;
		item[len] = '\0';
		if (unit == 1 ? !lk_duration_parse(item, 366 * 86400LL, &out[*n]) :
		    (item[strspn(item, "0123456789")] != '\0' || len > 4 ||
		    (out[*n] = strtoll(item, NULL, 10) * unit) == 0))
			return false;
		(*n)++;
		len = strcspn(text, ",");
	}
	return *n > 0;
}

enum lk_err
lk_conf_load(struct lk_conf *c, const char *path, char *err, size_t errsz)
{
	static char	 text[LK_CONF_FILE_MAX];
	enum lk_err	 e;

	char		 why[512];

	lk_conf_defaults(c);
	if (!read_file(path, text, sizeof(text))) {
		snprintf(err, errsz, "cannot read config file %s", path);
		return LK_ERR_VALIDATION;
	}
	if ((e = lk_conf_parse(c, text, why, sizeof(why))) != LK_OK)
		snprintf(err, errsz, "%s: %s", path, why);
	lk_crypto_wipe(text, sizeof(text));
	return e;
}

enum lk_err
lk_conf_load_env(struct lk_conf *c, char *err, size_t errsz)
{
	const char *path = getenv("LATCHKEY_CONF");

	if (path == NULL || *path == '\0') {
		lk_conf_defaults(c);
		return LK_OK;
	}
	return lk_conf_load(c, path, err, errsz);
}
