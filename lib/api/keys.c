/* keys_http.c — method → auth → scope → fields → lib/keys.c → response, for every key route. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/keys.h"
#include "api/usage.h"
#include "base/keyfmt.h"
#include "base/timefmt.h"
#include "http/resp.h"
#include "model/ceiling.h"

static const char *const envs[] = { "live", "test", NULL };
static const char *const statuses[] = { "active", "revoked", "expired", NULL };
static const char *const acct_prefix[] = { "acct_", NULL };

static const struct lk_field list_fields[] = {
	{ "status", LK_FT_ENUM, 0, 0, statuses },
	{ "env", LK_FT_ENUM, 0, 0, envs },
	{ "q", LK_FT_TEXT, 0, LK_LABEL_MAX, NULL },	/* label substring */
	{ "start", LK_FT_TEXT, 0, LK_KEY_START_MAX, NULL },	/* see start_filter */
	{ "expiring_within", LK_FT_DURATION, 0, LK_EXPIRY_MAX, NULL },
	LK_PAGE_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

static const struct lk_field create_fields[] = {
	{ "label", LK_FT_TEXT, LK_FF_REQUIRED, LK_LABEL_MAX, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "env", LK_FT_ENUM, 0, 0, envs },
	{ "expires_at", LK_FT_TIME, LK_FF_NULLABLE, 0, NULL },
	{ "expires_in", LK_FT_DURATION, 0, LK_EXPIRY_MAX, NULL },
	{ "account_id", LK_FT_ID, 0, 0, acct_prefix },
	{ "ratelimit", LK_FT_RATELIMIT, LK_FF_NULLABLE, 0, NULL },
	{ "meta", LK_FT_OBJECT, 0, LK_META_MAX, NULL },
	{ "allowed_ips", LK_FT_IPS, LK_FF_NULLABLE, LK_ALLOWED_IPS_MAX, NULL },
	{ "credits", LK_FT_CREDITS, LK_FF_NULLABLE, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

static const struct lk_field rotate_fields[] = {
	{ "grace_period", LK_FT_DURATION, LK_FF_ZERO, LK_GRACE_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

static const struct lk_field no_fields[] = {
	{ NULL, 0, 0, 0, NULL }
};

/* The grant rule: every scope in scopes must be held by the caller. */
static enum lk_err
check_grant(struct lk_req *req, const struct lk_caller *c, const char *scopes)
{
	const char	*bad;
	size_t		 badlen;

	if (lk_scopes_grantable(c->key.scopes, scopes, &bad, &badlen))
		return LK_OK;
	lk_req_detail(req, "scope", json_stringn(bad, badlen));
	return lk_req_fail(req, LK_ERR_FORBIDDEN, "scopes",
	    "A key cannot grant the scope '%.*s', which it does not hold",
	    (int)badlen, bad);
}

/* The ceiling rule: scopes under every ceiling on the account at path and above it. */
static enum lk_err
check_ceiling(struct lk_req *req, const char *path, const char *scopes)
{
	char		 bad[LK_SCOPE_MAX_LEN + 2], by[LK_PUBLIC_ID_MAX];
	enum lk_err	 e;

	if ((e = lk_ceiling_check(req->db, path, scopes, bad, sizeof(bad), by,
	    sizeof(by))) != LK_ERR_FORBIDDEN)
		return e;
	lk_req_detail(req, "scope", json_string(bad));
	lk_req_detail(req, "ceiling_account_id", json_string(by));
	return lk_req_fail(req, LK_ERR_FORBIDDEN, "scopes",
	    "The scope '%s' is outside the scope ceiling (grantable_scopes) of account %s",
	    bad, by);
}

/* lk_key_expiry_why as a 400 naming field, unless expires_at is absent or null. */
static enum lk_err
check_expiry(struct lk_req *req, const char *field, json_t *expires_at)
{
	const char	*why;
	char		 buf[160];

	if (!json_is_integer(expires_at) || (why = lk_key_expiry_why(
	    json_integer_value(expires_at), req->now, field, buf, sizeof(buf))) == NULL)
		return LK_OK;
	return lk_req_fail(req, LK_ERR_VALIDATION, field, "%s", why);
}

/*
 * The ceilings of a key's rate limit override (limit uses per window s; 0:
 * none, the plan applies), compared per minute: only admin may set one above
 * the plan of the key's account, and only a caller on the root account one
 * above ratelimit_max_override. 403 (details.field "ratelimit") otherwise.
 */
static enum lk_err
check_rate(struct lk_req *req, const struct lk_caller *c, const char *plan,
    int64_t limit, int64_t window)
{
	int64_t max = req->conf->ratelimit_max_override;

	if (limit == 0)
		return LK_OK;
	if (!lk_auth_is_admin(c) && limit * 60 > lk_plan_rate(plan) * window)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "ratelimit",
		    "Only an admin key may set a rate limit above the account's plan (%s)", plan);
	if (!lk_path_is_root(c->key.owner.path) && limit * 60 > max * window) {
		lk_req_detail(req, "max_per_minute", json_integer(max));
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "ratelimit",
		    "A rate limit above %lld requests per minute (ratelimit_max_override) "
		    "can only be set from the root account", (long long)max);
	}
	return LK_OK;
}

/*
 * A change model/keys.c refused under the row lock with LK_ERR_FORBIDDEN: the
 * key (k, as re-read) gained a scope the caller lacks since it was checked.
 */
static enum lk_err
refused(struct lk_req *req, const struct lk_caller *c, const struct lk_key *k,
    enum lk_err e)
{
	if (e != LK_ERR_FORBIDDEN || lk_auth_dominates(req, c, k->scopes) != LK_OK)
		return e;
	return lk_req_fail(req, e, NULL, "The key changed while this request ran");
}

/* Respond 201 with the key object plus its plaintext, then wipe the plaintext. */
static enum lk_err
respond_new_key(struct lk_req *req, const struct lk_key *k, char *plaintext, size_t size)
{
	json_t *o = lk_key_json(k, req->now);

	json_object_set_new(o, "key", json_string(plaintext));
	lk_resp_json(req, 201, o);
	lk_crypto_wipe(plaintext, size);
	return LK_OK;
}

/*
 * ?start=: the displayed start of a key ("lk_live_a1B2c3D4") or its
 * beginning, for finding a leaked key; a trailing "…" or "..." as shown in a
 * truncated display is dropped. Sets *start (within f) or fails with 400.
 */
static enum lk_err
start_filter(struct lk_req *req, json_t *f, const char **start)
{
	json_t	*v = json_object_get(f, "start");
	char	 s[LK_KEY_START_MAX + 8];
	size_t	 n;

	*start = NULL;
	if (v == NULL)
		return LK_OK;
	snprintf(s, sizeof(s), "%s", json_string_value(v));
	n = strlen(s);
	if (n >= 3 && strcmp(s + n - 3, "\xe2\x80\xa6") == 0)	/* U+2026 */
		s[n - 3] = '\0';
	else if (n >= 3 && strcmp(s + n - 3, "...") == 0)
		s[n - 3] = '\0';
	if (!lk_keyfmt_start_ok(s))
		return lk_req_fail(req, LK_ERR_VALIDATION, "start",
		    "start must be a key's displayed start such as lk_live_a1B2c3D4 "
		    "(prefix, env and 1 to 8 characters)");
	json_object_set_new(f, "start", json_string(s));
	*start = json_string_value(json_object_get(f, "start"));
	return LK_OK;
}

static enum lk_err
list(struct lk_req *req, struct lk_caller *c, const char *account_id)
{
	struct lk_account	 acct;
	struct lk_key_filter	 filter;
	struct lk_page		 page;
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_auth_require(req, c, "keys:read")) != LK_OK)
		return e;
	/* A common guess; the account is chosen by the header or the path. */
	if (json_object_get(req->query, "account_id") != NULL) {
		lk_req_detail(req, "hint", json_string("Send the header X-Account-Id: "
		    "acct_… or GET /v1/accounts/{account_id}/keys"));
		return lk_req_fail(req, LK_ERR_VALIDATION, "account_id",
		    "account_id is not a list filter: choose the account with the "
		    "X-Account-Id header or the path /v1/accounts/{account_id}/keys");
	}
	if ((e = lk_req_fields(req, req->query, list_fields, &f)) != LK_OK)
		return e;
	filter.status = json_string_value(json_object_get(f, "status"));
	filter.env = json_string_value(json_object_get(f, "env"));
	filter.q = json_string_value(json_object_get(f, "q"));
	filter.expiring_within = json_integer_value(json_object_get(f, "expiring_within"));
	filter.only_env = lk_auth_only_env(c);
	if ((e = lk_req_page(req, f, &page)) == LK_OK &&
	    (e = start_filter(req, f, &filter.start)) == LK_OK &&
	    (e = lk_auth_account(req, c, account_id, &acct)) == LK_OK &&
	    (e = lk_keys_list(req->db, &acct, &filter, req->now, &page)) == LK_OK)
		lk_resp_json(req, 200, lk_page_json(&page));
	lk_page_free(&page);
	json_decref(f);
	return e;
}

static enum lk_err
create(struct lk_req *req, struct lk_caller *c, const char *account_id)
{
	struct lk_account	 acct;
	struct lk_key_new	 nk;
	struct lk_key_policy	 pol;
	struct lk_key		 k;
	char			 plaintext[LK_KEY_MAX + 1], *meta = NULL;
	const char		*body_acct;
	json_t			*f, *exp_at, *exp_in;
	enum lk_err		 e;

	if ((e = lk_auth_require(req, c, "keys:write")) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, create_fields, &f)) != LK_OK)
		return e;
	exp_at = json_object_get(f, "expires_at");
	exp_in = json_object_get(f, "expires_in");
	if (exp_at != NULL && exp_in != NULL) {
		e = lk_req_fail(req, LK_ERR_VALIDATION, "expires_in",
		    "Give expires_at or expires_in, not both");
		goto out;
	}
	if ((e = check_expiry(req, "expires_at", exp_at)) != LK_OK)
		goto out;
	body_acct = json_string_value(json_object_get(f, "account_id"));
	if (body_acct != NULL && account_id != NULL && strcmp(body_acct, account_id) != 0) {
		e = lk_req_fail(req, LK_ERR_VALIDATION, "account_id",
		    "account_id differs from the account in the path");
		goto out;
	}
	/* Creating outside the subtree is 403 whether or not the account exists. */
	if ((e = lk_auth_account(req, c, body_acct != NULL ? body_acct : account_id,
	    &acct)) == LK_ERR_NOT_FOUND) {
		e = lk_req_fail(req, LK_ERR_FORBIDDEN, "account_id",
		    "A key can only be created in the caller's account or its sub-accounts");
		goto out;
	}
	if (e != LK_OK)
		goto out;
	memset(&nk, 0, sizeof(nk));
	nk.account = &acct;
	nk.label = json_string_value(json_object_get(f, "label"));
	nk.scopes = json_object_get(f, "scopes") != NULL ?
	    json_string_value(json_object_get(f, "scopes")) : "";
	nk.env = json_object_get(f, "env") != NULL ?
	    json_string_value(json_object_get(f, "env")) : c->key.env;
	nk.expires_at = exp_in != NULL ? req->now + json_integer_value(exp_in) :
	    json_integer_value(exp_at);
	lk_key_fields_rate(f, &nk.rl_limit, &nk.rl_window);
	if (!lk_auth_env_ok(c, nk.env)) {
		e = lk_req_fail(req, LK_ERR_FORBIDDEN, "env",
		    "A test key can only create test keys");
		goto out;
	}
	if ((e = check_grant(req, c, nk.scopes)) != LK_OK ||
	    (e = check_ceiling(req, acct.path, nk.scopes)) != LK_OK ||
	    (e = check_rate(req, c, acct.plan, nk.rl_limit, nk.rl_window)) != LK_OK)
		goto out;
	if ((meta = lk_key_fields_meta(f)) == NULL) {
		e = LK_ERR_INTERNAL;
		goto out;
	}
	nk.meta = meta;
	lk_key_fields_policy(f, &pol);
	nk.policy = &pol;
	e = lk_keys_create(req->db, &c->actor, req->conf->key_prefix, &nk,
	    req->conf->max_keys_per_account, req->now, &k, plaintext,
	    sizeof(plaintext));
	if (e == LK_ERR_CONFLICT) {
		lk_req_detail(req, "limit",
		    json_integer(req->conf->max_keys_per_account));
		e = lk_req_fail(req, e, NULL, "The account holds the most keys it "
		    "may (max_keys_per_account); delete some first");
	} else if (e == LK_ERR_NOT_FOUND)
		e = lk_req_fail(req, LK_ERR_CONFLICT, "account_id",
		    "The account was deleted while the key was being created");
	if (e == LK_OK)
		e = respond_new_key(req, &k, plaintext, sizeof(plaintext));
	lk_crypto_wipe(plaintext, sizeof(plaintext));
out:
	free(meta);
	json_decref(f);
	return e;
}

enum lk_err
lk_keys_http_collection(struct lk_req *req, const char *account_id)
{
	struct lk_caller	 c;
	enum lk_err		 e;

	if (req->method != LK_GET && req->method != LK_POST)
		return lk_req_method_not_allowed(req, "GET, POST");
	if ((e = lk_auth_caller(req, &c)) != LK_OK)
		return e;
	return req->method == LK_GET ? list(req, &c, account_id) :
	    create(req, &c, account_id);
}

static enum lk_err
patch(struct lk_req *req, struct lk_caller *c, struct lk_key *k)
{
	struct lk_key_patch	 pt;
	const char		*why;
	json_t			*f;
	char			*meta = NULL;
	enum lk_err		 e;

	if ((e = lk_req_body_fields(req, lk_key_patch_fields, &f)) != LK_OK)
		return e;
	if (json_object_size(f) == 0) {
		e = lk_req_fail(req, LK_ERR_VALIDATION, NULL, "Give at least one of label, "
		    "expires_at, scopes, ratelimit, meta, allowed_ips, credits, credits_add");
		goto out;
	}
	if ((why = lk_key_credits_add_why(f, k)) != NULL) {
		e = lk_req_fail(req, LK_ERR_VALIDATION, "credits_add", "%s", why);
		goto out;
	}
	if (lk_key_patch_of(f, &pt, &meta) != LK_OK) {
		e = LK_ERR_INTERNAL;
		goto out;
	}
	if ((e = check_expiry(req, "expires_at", json_object_get(f, "expires_at"))) != LK_OK ||
	    (pt.has_scopes && ((e = check_grant(req, c, pt.scopes)) != LK_OK ||
	    (e = check_ceiling(req, k->owner.path, pt.scopes)) != LK_OK)) ||
	    (pt.has_ratelimit && (e = check_rate(req, c, k->owner.plan, pt.rl_limit,
	    pt.rl_window)) != LK_OK))
		goto out;
	e = lk_keys_update(req->db, &c->actor, c->key.scopes, k, &pt, req->now);
	if (e == LK_OK)
		lk_resp_json(req, 200, lk_key_json(k, req->now));
	e = refused(req, c, k, e);
out:
	free(meta);
	json_decref(f);
	return e;
}

static enum lk_err
rotate(struct lk_req *req, struct lk_caller *c, struct lk_key *k)
{
	struct lk_key	 nk;
	char		 plaintext[LK_KEY_MAX + 1];
	json_t		*f;
	enum lk_err	 e;

	if ((e = lk_req_body_fields(req, rotate_fields, &f)) != LK_OK)
		return e;
	e = lk_keys_rotate(req->db, &c->actor, c->key.scopes, req->conf->key_prefix,
	    k, json_integer_value(json_object_get(f, "grace_period")), req->now,
	    &nk, plaintext, sizeof(plaintext));
	json_decref(f);
	e = refused(req, c, k, e);
	if (e == LK_ERR_CONFLICT)
		return lk_req_fail(req, e, NULL, "Only an active key can be rotated");
	if (e == LK_OK)
		e = respond_new_key(req, &nk, plaintext, sizeof(plaintext));
	lk_crypto_wipe(plaintext, sizeof(plaintext));
	return e;
}

/* revoke / reactivate: no body fields. */
static enum lk_err
set_state(struct lk_req *req, struct lk_caller *c, struct lk_key *k, bool revoke)
{
	json_t		*f;
	enum lk_err	 e;

	if ((e = lk_req_body_fields(req, no_fields, &f)) != LK_OK)
		return e;
	json_decref(f);
	e = revoke ? lk_keys_revoke(req->db, &c->actor, c->key.scopes, k, req->now) :
	    lk_keys_reactivate(req->db, &c->actor, c->key.scopes, k, req->now);
	e = refused(req, c, k, e);
	if (e == LK_ERR_CONFLICT) {
		char t[LK_TIME_MAX];

		lk_time_format(k->expires_at, t);
		lk_req_detail(req, "expired_at", json_string(t));
		return lk_req_fail(req, e, NULL, "An expired key cannot be reactivated");
	}
	if (e == LK_OK)
		lk_resp_json(req, 200, lk_key_json(k, req->now));
	return e;
}

enum lk_err
lk_keys_http_item(struct lk_req *req, const char *account_id, const char *key_id,
    const char *action)
{
	struct lk_caller	 c;
	struct lk_key		 k;
	struct lk_account	 acct;
	enum lk_err		 e;
	bool			 usage = action != NULL && strcmp(action, "usage") == 0;

	if (action != NULL && !usage && strcmp(action, "revoke") != 0 &&
	    strcmp(action, "reactivate") != 0 && strcmp(action, "rotate") != 0)
		return lk_req_no_route(req);
	if (usage && req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if (action != NULL && !usage && req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if (action == NULL && req->method != LK_GET && req->method != LK_PATCH &&
	    req->method != LK_DELETE)
		return lk_req_method_not_allowed(req, "GET, PATCH, DELETE");
	if ((e = lk_auth_caller_scope(req, &c, req->method == LK_GET ?
	    "keys:read" : "keys:write")) != LK_OK ||
	    (!usage && (e = lk_req_no_query(req)) != LK_OK))
		return e;
	if (account_id != NULL &&
	    (e = lk_auth_account(req, &c, account_id, &acct)) != LK_OK)
		return e;
	if ((e = lk_auth_key(req, &c, key_id, &k)) != LK_OK)
		return e;
	if (account_id != NULL && strcmp(k.owner.public_id, acct.public_id) != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such key");
	if (usage)
		return lk_usage_http_key(req, &k, lk_auth_only_env(&c));
	/* Reading needs keys:read; every change also needs dominance over the key. */
	if (req->method != LK_GET && (e = lk_auth_dominates(req, &c, k.scopes)) != LK_OK)
		return e;
	if (action != NULL && strcmp(action, "rotate") == 0)
		return rotate(req, &c, &k);
	if (action != NULL)
		return set_state(req, &c, &k, strcmp(action, "revoke") == 0);
	switch (req->method) {
	case LK_GET:
		lk_resp_json(req, 200, lk_key_json(&k, req->now));
		return LK_OK;
	case LK_PATCH:
		return patch(req, &c, &k);
	default:
		if ((e = lk_keys_delete(req->db, &c.actor, c.key.scopes, &k,
		    req->now)) == LK_OK)
			lk_resp_json(req, 204, NULL);
		return refused(req, &c, &k, e);
	}
}

enum lk_err
lk_keys_http_keys(struct lk_req *req)
{
	if (req->nsegs != 1 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_no_route(req);
	return lk_keys_http_collection(req, NULL);
}

enum lk_err
lk_keys_http_key(struct lk_req *req)
{
	if (req->nsegs < 2 || req->nsegs > 3 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_no_route(req);
	return lk_keys_http_item(req, NULL, req->segs[1],
	    req->nsegs == 3 ? req->segs[2] : NULL);
}
