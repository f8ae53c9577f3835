/* sessions.c — console sessions, login throttling and one-time form tokens; SQL lives here. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "console/sessions.h"

static const char SQL_FIND[] =
    "SELECT s.id, s.created_at, s.last_seen_at, u.public_id FROM sessions s"
    " JOIN users u ON u.id = s.user_id WHERE s.digest = ? AND u.disabled_at IS NULL";
static const char SQL_INSERT[] =
    "INSERT INTO sessions (digest, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)";
static const char SQL_SEEN[] =
    "UPDATE sessions SET last_seen_at = ? WHERE id = ?";
static const char SQL_DELETE[] =
    "DELETE FROM sessions WHERE id = ?";
/* Housekeeping at each login: sessions past either timeout, failure windows long over. */
static const char SQL_PRUNE_SESSIONS[] =
    "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?";
static const char SQL_PRUNE_FAILURES[] =
    "DELETE FROM login_failures WHERE window_start < ?";
static const char SQL_FAILURES[] =
    "SELECT failures, window_start FROM login_failures WHERE subject = ?";
static const char SQL_FAIL[] =
    "INSERT INTO login_failures (subject, failures, window_start) VALUES (?, 1, ?)"
    " ON DUPLICATE KEY UPDATE failures = IF(window_start + ? <= ?, 1, failures + 1),"
    " window_start = IF(window_start + ? <= ?, ?, window_start)";
static const char SQL_FORGIVE[] =
    "DELETE FROM login_failures WHERE subject = ?";
static const char SQL_FORM_NEW[] =
    "INSERT INTO form_tokens (digest, session_id, created_at) VALUES (?, ?, ?)";
static const char SQL_FORM_GET[] =
    "SELECT used_at, result_id FROM form_tokens WHERE digest = ? AND session_id = ? FOR UPDATE";
static const char SQL_FORM_USE[] =
    "UPDATE form_tokens SET used_at = ? WHERE digest = ?";
static const char SQL_FORM_RESULT[] =
    "UPDATE form_tokens SET result_id = ? WHERE digest = ?";
static const char SQL_FORM_PRUNE[] =
    "DELETE FROM form_tokens WHERE session_id = ? AND created_at < ?";

#define SEEN_INTERVAL	10	/* last_seen_at is written at most this often */

const char *
lk_sessions_cookie_name(const struct lk_conf *conf)
{
	return conf->admin_insecure_cookie ? "latchkey_session" : "__Host-latchkey_session";
}

static bool
sid_ok(const char *s, size_t n)
{
	size_t i;

	if (n != LK_SESSION_ID_LEN)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

bool
lk_sessions_cookie(struct lk_req *req, char *out, size_t size)
{
	const char	*h = lk_req_param(req, "HTTP_COOKIE");
	const char	*name = lk_sessions_cookie_name(req->conf);
	size_t		 nlen = strlen(name), vlen;

	while (h != NULL && *h != '\0') {
		while (*h == ' ' || *h == ';')
			h++;
		vlen = strcspn(h, ";");
		if (strncmp(h, name, nlen) == 0 && h[nlen] == '=' &&
		    sid_ok(h + nlen + 1, vlen - nlen - 1) && vlen - nlen - 1 < size) {
			memcpy(out, h + nlen + 1, vlen - nlen - 1);
			out[vlen - nlen - 1] = '\0';
			return true;
		}
		h += vlen;
	}
	return false;
}

void
lk_sessions_set_cookie(const struct lk_conf *conf, const char *sid, char *out, size_t size)
{
	snprintf(out, size, "%s=%s; %sHttpOnly; SameSite=Strict; Path=/%s",
	    lk_sessions_cookie_name(conf), sid != NULL ? sid : "",
	    conf->admin_insecure_cookie ? "" : "Secure; ",
	    sid != NULL ? "" : "; Max-Age=0");
}

static void
digest_of(const char *s, unsigned char d[LK_SHA256_LEN])
{
	lk_crypto_sha256(s, strlen(s), d);
}

static void
csrf_of(const char *sid, char out[LK_CSRF_LEN + 1])
{
	unsigned char	 d[LK_SHA256_LEN];
	char		 buf[LK_SESSION_ID_LEN + 8];
	size_t		 i;

	snprintf(buf, sizeof(buf), "csrf:%s", sid);
	digest_of(buf, d);
	for (i = 0; i < LK_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	lk_crypto_wipe(buf, sizeof(buf));
}

bool
lk_sessions_csrf_ok(const struct lk_session *s, const char *token)
{
	return token != NULL && strlen(token) == LK_CSRF_LEN &&
	    lk_crypto_equal(token, s->csrf, LK_CSRF_LEN);
}

void
lk_sessions_caller(const struct lk_session *s, struct lk_caller *c)
{
	const struct lk_user	*u = &s->user;
	struct lk_key		*k = &c->key;

	memset(c, 0, sizeof(*c));
	snprintf(k->public_id, sizeof(k->public_id), "%s", u->public_id);
	k->owner = u->owner;
	snprintf(k->env, sizeof(k->env), "live");
	snprintf(k->label, sizeof(k->label), "%s", u->email);
	snprintf(k->scopes, sizeof(k->scopes), "%s", lk_role_scopes(u->role));
	k->created_at = u->created_at;
	snprintf(k->meta, sizeof(k->meta), "{}");
}

/* ---- finding a session ---- */

struct find_ctx {
	const unsigned char	*digest;
	struct lk_session	*s;
	char			 user[LK_PUBLIC_ID_MAX];
	int64_t			 now, idle, absolute;
	bool			 expired;
};

static enum lk_err
find_row(const struct lk_row *r, void *arg)
{
	struct find_ctx *c = arg;

	c->s->id = strtoull(r->v[0], NULL, 10);
	c->s->created_at = strtoll(r->v[1], NULL, 10);
	c->s->last_seen_at = strtoll(r->v[2], NULL, 10);
	snprintf(c->user, sizeof(c->user), "%s", r->v[3]);
	return LK_OK;
}

static enum lk_err
find_work(struct lk_db *db, void *arg)
{
	struct find_ctx		*c = arg;
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN) };
	enum lk_err		 e;

	c->s->id = 0;
	c->expired = false;
	if ((e = lk_db_exec(db, SQL_FIND, p, 1, find_row, c, NULL)) != LK_OK)
		return e;
	if (c->s->id == 0)
		return LK_ERR_NOT_FOUND;
	if (c->now - c->s->last_seen_at > c->idle ||
	    c->now - c->s->created_at > c->absolute) {
		const struct lk_param d[] = { LK_INT(c->s->id) };

		c->expired = true;
		return lk_db_exec(db, SQL_DELETE, d, 1, NULL, NULL, NULL);
	}
	if (c->now - c->s->last_seen_at >= SEEN_INTERVAL) {
		const struct lk_param u[] = { LK_INT(c->now), LK_INT(c->s->id) };

		c->s->last_seen_at = c->now;
		return lk_db_exec(db, SQL_SEEN, u, 2, NULL, NULL, NULL);
	}
	return LK_OK;
}

enum lk_err
lk_sessions_check(struct lk_req *req, const char *sid, struct lk_session *out)
{
	unsigned char	 d[LK_SHA256_LEN];
	struct find_ctx	 c;
	enum lk_err	 e;

	memset(out, 0, sizeof(*out));
	digest_of(sid, d);
	c = (struct find_ctx){ d, out, "", req->now, req->conf->session_idle_timeout,
	    req->conf->session_absolute_timeout, false };
	if ((e = lk_db_txn(req->db, find_work, &c)) != LK_OK)
		return e;
	if (c.expired)
		return LK_ERR_NOT_FOUND;
	if ((e = lk_users_get(req->db, c.user, &out->user)) != LK_OK)
		return e;
	csrf_of(sid, out->csrf);
	return LK_OK;
}

/* ---- starting a session ---- */

/* A success clears subject's failures (the email's: its address may hold others' failures). */
static enum lk_err
forgive(struct lk_db *db, const char *subject)
{
	const struct lk_param p[] = { LK_STR(subject) };

	return lk_db_exec(db, SQL_FORGIVE, p, 1, NULL, NULL, NULL);
}

struct start_ctx {
	struct lk_req		*req;
	struct lk_user		*u;
	const char		*method, *forgive;
	const unsigned char	*digest;
	uint64_t		 id;
};

static enum lk_err
start_work(struct lk_db *db, void *arg)
{
	struct start_ctx	*c = arg;
	struct lk_actor		 actor = { c->u->public_id, c->req->ip, c->req->request_id };
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN),
	    LK_INT(c->u->id), LK_INT(c->req->now), LK_INT(c->req->now) };
	json_t			*changes;
	enum lk_err		 e;

	const struct lk_param	 old[] = {
	    LK_INT(c->req->now - (int64_t)c->req->conf->session_idle_timeout),
	    LK_INT(c->req->now - (int64_t)c->req->conf->session_absolute_timeout) };
	const struct lk_param	 stale[] = {
	    LK_INT(c->req->now - (int64_t)c->req->conf->login_throttle_window) };

	if ((e = lk_db_exec(db, SQL_PRUNE_SESSIONS, old, 2, NULL, NULL, NULL)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_PRUNE_FAILURES, stale, 1, NULL, NULL, NULL)) != LK_OK)
		return e;
	if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
		return e;
	c->id = lk_db_insert_id(db);
	if ((e = lk_users_touch_login(db, c->u, c->req->now)) != LK_OK)
		return e;
	if (c->forgive != NULL && (e = forgive(db, c->forgive)) != LK_OK)
		return e;
	changes = json_pack("{s:s}", "method", c->method);
	e = lk_audit_write(db, &(struct lk_audit_event){ &actor, c->u->owner.public_id,
	    c->u->owner.path, "user.login", c->u->public_id, changes }, c->req->now);
	json_decref(changes);
	return e;
}

static enum lk_err
start(struct lk_req *req, const struct lk_user *u, const char *method,
    const char *forgive, char *sid, struct lk_session *out)
{
	unsigned char		 d[LK_SHA256_LEN];
	struct start_ctx	 c;
	enum lk_err		 e;

	memset(out, 0, sizeof(*out));
	out->user = *u;
	if (!lk_crypto_base62(sid, LK_SESSION_ID_LEN))
		return LK_ERR_INTERNAL;
	digest_of(sid, d);
	c = (struct start_ctx){ req, &out->user, method, forgive, d, 0 };
	if ((e = lk_db_txn(req->db, start_work, &c)) != LK_OK) {
		lk_crypto_wipe(sid, LK_SESSION_ID_LEN);
		return e;
	}
	out->id = c.id;
	out->created_at = out->last_seen_at = req->now;
	csrf_of(sid, out->csrf);
	return LK_OK;
}

enum lk_err
lk_sessions_start(struct lk_req *req, const struct lk_user *u, const char *method,
    char *sid, struct lk_session *out)
{
	return start(req, u, method, NULL, sid, out);
}

/* ---- password login, the password page's check, and throttling ---- */

/* What a failed password counts against: one email (in lower case) and one client address. */
struct subjects {
	char	email[LK_EMAIL_MAX * 4 + 8];	/* "email:…" */
	char	ip[80];				/* "ip:…" */
};

static void
subjects_of(const struct lk_req *req, const char *email, struct subjects *sub)
{
	size_t i;

	snprintf(sub->email, sizeof(sub->email), "email:%s", email);
	for (i = 6; sub->email[i] != '\0'; i++)
		sub->email[i] = (char)tolower((unsigned char)sub->email[i]);
	snprintf(sub->ip, sizeof(sub->ip), "ip:%s", req->ip);
}

struct fail_row {
	int64_t	failures, window_start;
};

static enum lk_err
failures_row(const struct lk_row *r, void *arg)
{
	struct fail_row *f = arg;

	f->failures = strtoll(r->v[0], NULL, 10);
	f->window_start = strtoll(r->v[1], NULL, 10);
	return LK_OK;
}

struct throttle_ctx {
	const char	*subject[2];
	int64_t		 max[2], window, now, retry_after;
};

static enum lk_err
throttle_work(struct lk_db *db, void *arg)
{
	struct throttle_ctx	*c = arg;
	int			 i;
	enum lk_err		 e;

	c->retry_after = 0;
	for (i = 0; i < 2; i++) {
		const struct lk_param	 p[] = { LK_STR(c->subject[i]) };
		struct fail_row		 f = { 0, 0 };

		if ((e = lk_db_exec(db, SQL_FAILURES, p, 1, failures_row, &f, NULL)) != LK_OK)
			return e;
		if (f.failures >= c->max[i] && f.window_start + c->window > c->now &&
		    f.window_start + c->window - c->now > c->retry_after)
			c->retry_after = f.window_start + c->window - c->now;
	}
	return LK_OK;
}

/*
 * LK_ERR_RATE_LIMITED, with *retry_after the seconds until the later window
 * ends, while the email or the address holds its limit of failures; else LK_OK.
 */
static enum lk_err
throttled(struct lk_req *req, const struct subjects *sub, int64_t *retry_after)
{
	const struct lk_conf	*conf = req->conf;
	struct throttle_ctx	 t = { { sub->email, sub->ip },
	    { conf->login_max_failures, conf->login_max_failures_ip },
	    conf->login_throttle_window, req->now, 0 };
	enum lk_err		 e;

	*retry_after = 0;
	if ((e = lk_db_read(req->db, throttle_work, &t)) != LK_OK)
		return e;
	*retry_after = t.retry_after;
	return t.retry_after > 0 ? LK_ERR_RATE_LIMITED : LK_OK;
}

/* A refused password: counted (unless count is NULL), a session ended with it, audited. */
struct fail_ctx {
	struct lk_req		*req;
	const char		*actor;		/* "anonymous" at login, the user on the password page */
	const struct lk_user	*u;		/* NULL: unknown email */
	const struct lk_account	*root;		/* where an unknown email's failure is audited */
	const struct subjects	*count;
	const char		*action, *reason;
	uint64_t		 end_session;	/* 0: none */
};

static enum lk_err
fail_work(struct lk_db *db, void *arg)
{
	struct fail_ctx		*c = arg;
	struct lk_actor		 actor = { c->actor, c->req->ip, c->req->request_id };
	int64_t			 now = c->req->now, window = c->req->conf->login_throttle_window;
	json_t			*changes;
	int			 i;
	enum lk_err		 e;

	for (i = 0; c->count != NULL && i < 2; i++) {
		const struct lk_param p[] = {
		    LK_STR(i == 0 ? c->count->email : c->count->ip), LK_INT(now),
		    LK_INT(window), LK_INT(now), LK_INT(window), LK_INT(now), LK_INT(now) };

		if ((e = lk_db_exec(db, SQL_FAIL, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	if (c->end_session != 0) {
		const struct lk_param d[] = { LK_INT(c->end_session) };

		if ((e = lk_db_exec(db, SQL_DELETE, d, 1, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	changes = json_pack("{s:s}", "reason", c->reason);
	if (c->u != NULL)
		e = lk_audit_write(db, &(struct lk_audit_event){ &actor, c->u->owner.public_id,
		    c->u->owner.path, c->action, c->u->public_id, changes }, now);
	else
		e = lk_audit_write(db, &(struct lk_audit_event){ &actor, c->root->public_id,
		    c->root->path, c->action, "", changes }, now);
	json_decref(changes);
	return e;
}

static enum lk_err
forgive_work(struct lk_db *db, void *arg)
{
	const struct subjects *sub = arg;

	return forgive(db, sub->email);
}

enum lk_err
lk_sessions_login(struct lk_req *req, const char *email, const char *password,
    char *sid, struct lk_session *out, int64_t *retry_after)
{
	struct subjects		 sub;
	struct lk_user		 u;
	struct lk_account	 root;
	struct fail_ctx		 f;
	enum lk_err		 e;
	bool			 known;

	subjects_of(req, email, &sub);
	if ((e = throttled(req, &sub, retry_after)) != LK_OK)
		return e;
	e = lk_users_by_email(req->db, email, &u);
	if (e != LK_OK && e != LK_ERR_NOT_FOUND)
		return e;
	known = e == LK_OK;
	if (lk_users_password_check(req->conf, known ? &u : NULL, password))
		return start(req, &u, "password", sub.email, sid, out);
	if (!known && (e = lk_accounts_root(req->db, &root)) != LK_OK)
		return e;
	f = (struct fail_ctx){ req, "anonymous", known ? &u : NULL, &root, &sub,
	    "user.login_failed",
	    !known ? "unknown user" : u.disabled_at != 0 ? "disabled" : "wrong password", 0 };
	if ((e = lk_db_txn(req->db, fail_work, &f)) != LK_OK)
		return e;
	return LK_ERR_INVALID_KEY;
}

enum lk_err
lk_sessions_password_check(struct lk_req *req, const struct lk_session *s,
    const char *password, int64_t *retry_after)
{
	const struct lk_user	*u = &s->user;
	struct subjects		 sub;
	struct fail_ctx		 f;
	enum lk_err		 e;

	subjects_of(req, u->email, &sub);
	if ((e = throttled(req, &sub, retry_after)) == LK_ERR_RATE_LIMITED) {
		f = (struct fail_ctx){ req, u->public_id, u, NULL, NULL,
		    "user.password_failed", "throttled", s->id };
		if ((e = lk_db_txn(req->db, fail_work, &f)) != LK_OK)
			return e;
		return LK_ERR_RATE_LIMITED;
	}
	if (e != LK_OK)
		return e;
	if (lk_users_password_check(req->conf, u, password))
		return lk_db_txn(req->db, forgive_work, &sub);
	f = (struct fail_ctx){ req, u->public_id, u, NULL, &sub,
	    "user.password_failed", "wrong password", 0 };
	if ((e = lk_db_txn(req->db, fail_work, &f)) != LK_OK)
		return e;
	return LK_ERR_INVALID_KEY;
}

/* ---- logout (ending a user's sessions lives in users.c) ---- */

struct logout_ctx {
	struct lk_req			*req;
	const struct lk_session		*s;
};

static enum lk_err
logout_work(struct lk_db *db, void *arg)
{
	struct logout_ctx	*c = arg;
	const struct lk_user	*u = &c->s->user;
	struct lk_actor		 actor = { u->public_id, c->req->ip, c->req->request_id };
	enum lk_err		 e;

	if ((e = lk_users_end_sessions(db, u->id, 0)) != LK_OK)
		return e;
	return lk_audit_write(db, &(struct lk_audit_event){ &actor, u->owner.public_id,
	    u->owner.path, "user.logout", u->public_id, NULL }, c->req->now);
}

enum lk_err
lk_sessions_logout(struct lk_req *req, const struct lk_session *s)
{
	struct logout_ctx c = { req, s };

	return lk_db_txn(req->db, logout_work, &c);
}

/* ---- one-time form tokens ---- */

struct token_ctx {
	const unsigned char	*digest;
	uint64_t		 session;
	int64_t			 now, oldest;
	const char		*result;
};

static enum lk_err
token_work(struct lk_db *db, void *arg)
{
	struct token_ctx	*c = arg;
	/* Tokens older than a session can live are of no use: drop them. */
	const struct lk_param	 prune[] = { LK_INT(c->session), LK_INT(c->oldest) };
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN),
	    LK_INT(c->session), LK_INT(c->now) };
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_FORM_PRUNE, prune, 2, NULL, NULL, NULL)) != LK_OK)
		return e;
	return lk_db_exec(db, SQL_FORM_NEW, p, LK_NELEM(p), NULL, NULL, NULL);
}

enum lk_err
lk_sessions_form_token(struct lk_req *req, const struct lk_session *s, char *out)
{
	unsigned char		d[LK_SHA256_LEN];
	struct token_ctx	c;

	if (!lk_crypto_base62(out, LK_FORM_TOKEN_LEN))
		return LK_ERR_INTERNAL;
	digest_of(out, d);
	c = (struct token_ctx){ d, s->id, req->now,
	    req->now - (int64_t)req->conf->session_absolute_timeout, NULL };
	return lk_db_txn(req->db, token_work, &c);
}

struct claim_ctx {
	const unsigned char	*digest;
	uint64_t		 session;
	int64_t			 now;
	bool			 found, used;
	char			*result;
};

static enum lk_err
claim_row(const struct lk_row *r, void *arg)
{
	struct claim_ctx *c = arg;

	c->found = true;
	c->used = !r->null[0];
	snprintf(c->result, LK_PUBLIC_ID_MAX, "%s", r->null[1] ? "" : r->v[1]);
	return LK_OK;
}

static enum lk_err
claim_work(struct lk_db *db, void *arg)
{
	struct claim_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_BLOB(c->digest, LK_SHA256_LEN), LK_INT(c->session) };
	const struct lk_param	 u[] = { LK_INT(c->now), LK_BLOB(c->digest, LK_SHA256_LEN) };
	enum lk_err		 e;

	c->found = c->used = false;
	if ((e = lk_db_exec(db, SQL_FORM_GET, p, 2, claim_row, c, NULL)) != LK_OK)
		return e;
	if (!c->found)
		return LK_ERR_NOT_FOUND;
	if (c->used)
		return LK_ERR_CONFLICT;
	return lk_db_exec(db, SQL_FORM_USE, u, 2, NULL, NULL, NULL);
}

enum lk_err
lk_sessions_form_claim(struct lk_req *req, const struct lk_session *s,
    const char *token, char *result)
{
	unsigned char		d[LK_SHA256_LEN];
	struct claim_ctx	c;

	result[0] = '\0';
	if (token == NULL || strlen(token) != LK_FORM_TOKEN_LEN)
		return LK_ERR_NOT_FOUND;
	digest_of(token, d);
	c = (struct claim_ctx){ d, s->id, req->now, false, false, result };
	return lk_db_txn(req->db, claim_work, &c);
}

static enum lk_err
result_work(struct lk_db *db, void *arg)
{
	struct token_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_STR(c->result), LK_BLOB(c->digest, LK_SHA256_LEN) };

	return lk_db_exec(db, SQL_FORM_RESULT, p, 2, NULL, NULL, NULL);
}

enum lk_err
lk_sessions_form_result(struct lk_req *req, const char *token, const char *result)
{
	unsigned char		d[LK_SHA256_LEN];
	struct token_ctx	c;

	digest_of(token, d);
	c = (struct token_ctx){ d, 0, req->now, 0, result };
	return lk_db_txn(req->db, result_work, &c);
}
