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

/*
 * The largest body of POST /v1/keys/import (unless max_body is larger): what
 * the shipped web server configurations pass, room for LK_IMPORT_MAX keys of
 * about a kilobyte each.
 */
#define IMPORT_BODY_MAX	1000000

static const struct lk_field list_fields[] = {
	{ "status", LK_FT_ENUM, 0, 0, statuses },
	{ "env", LK_FT_ENUM, 0, 0, envs },
	{ "q", LK_FT_TEXT, 0, LK_LABEL_MAX, NULL },	/* label substring */
	{ "start", LK_FT_TEXT, 0, LK_KEY_START_MAX, NULL },	/* see start_filter */
	{ "expiring_within", LK_FT_DURATION, 0, LK_EXPIRY_MAX, NULL },
	{ "inactive_days", LK_FT_INT, 0, LK_INACTIVE_DAYS_MAX, NULL },
	LK_PAGE_FIELDS,
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
	filter.inactive_days = json_integer_value(json_object_get(f, "inactive_days"));
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

/*
 * The rules of a new key made by caller c, create and import alike, on
 * fields f (validated by lk_key_create_fields or lk_key_import_fields): the
 * fields' own (lk_key_new_of), the account (f's account_id, path_account, or
 * the request's context; one outside the subtree is 403), the test/live
 * rule, the grant rule, the scope ceilings and the rate limit's ceilings.
 * Fills acct, nk and pol (nk's policy); *meta, nk's meta, is the caller's to
 * free.
 */
static enum lk_err
new_key(struct lk_req *req, struct lk_caller *c, json_t *f, const char *path_account,
    struct lk_account *acct, struct lk_key_new *nk, struct lk_key_policy *pol, char **meta)
{
	const char	*body_acct = json_string_value(json_object_get(f, "account_id"));
	const char	*field;
	char		 why[LK_KEY_WHY];
	enum lk_err	 e;

	if (!lk_key_new_of(f, c->key.env, req->now, nk, pol, meta, &field, why))
		return field == NULL ? LK_ERR_INTERNAL :
		    lk_req_fail(req, LK_ERR_VALIDATION, field, "%s", why);
	if (body_acct != NULL && path_account != NULL && strcmp(body_acct, path_account) != 0)
		return lk_req_fail(req, LK_ERR_VALIDATION, "account_id",
		    "account_id differs from the account in the path");
	/* Creating outside the subtree is 403 whether or not the account exists. */
	if ((e = lk_auth_account(req, c, body_acct != NULL ? body_acct : path_account,
	    acct)) == LK_ERR_NOT_FOUND)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "account_id",
		    "A key can only be created in the caller's account or its sub-accounts");
	if (e != LK_OK)
		return e;
	nk->account = acct;
	if (!lk_auth_env_ok(c, nk->env))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "env",
		    "A test key can only create test keys");
	if ((e = check_grant(req, c, nk->scopes)) != LK_OK ||
	    (e = check_ceiling(req, acct->path, nk->scopes)) != LK_OK)
		return e;
	return check_rate(req, c, acct->plan, nk->rl_limit, nk->rl_window);
}

/* A new key's row refused by the model: the account is full, or was deleted meanwhile. */
static enum lk_err
not_created(struct lk_req *req, enum lk_err e)
{
	if (e == LK_ERR_CONFLICT) {
		lk_req_detail(req, "limit",
		    json_integer(req->conf->max_keys_per_account));
		return lk_req_fail(req, e, NULL, "The account holds the most keys it "
		    "may (max_keys_per_account); delete some first");
	}
	if (e == LK_ERR_NOT_FOUND)
		return lk_req_fail(req, LK_ERR_CONFLICT, "account_id",
		    "The account was deleted while the key was being created");
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
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_auth_require(req, c, "keys:write")) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, lk_key_create_fields, &f)) != LK_OK)
		return e;
	if ((e = new_key(req, c, f, account_id, &acct, &nk, &pol, &meta)) == LK_OK) {
		e = not_created(req, lk_keys_create(req->db, &c->actor,
		    req->conf->key_prefix, &nk, req->conf->max_keys_per_account,
		    req->now, &k, plaintext, sizeof(plaintext)));
		if (e == LK_OK)
			e = respond_new_key(req, &k, plaintext, sizeof(plaintext));
		lk_crypto_wipe(plaintext, sizeof(plaintext));
	}
	free(meta);
	json_decref(f);
	return e;
}

/*
 * One item of an import: its result, {"index", "status": 201, "key"} or
 * {"index", "status", "error"}. Each item is its own transaction.
 */
static json_t *
import_item(struct lk_req *req, struct lk_caller *c, json_t *item, size_t index,
    bool *duplicate, enum lk_err *err)
{
	struct lk_account	 acct;
	struct lk_key_new	 nk;
	struct lk_key_policy	 pol;
	struct lk_key		 k;
	char			*meta = NULL;
	json_t			*f = NULL;
	enum lk_err		 e;

	*duplicate = false;
	if (!json_is_object(item))
		e = lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "Each item of keys must be a JSON object");
	else if ((e = lk_req_fields(req, item, lk_key_import_fields, &f)) == LK_OK &&
	    (e = new_key(req, c, f, NULL, &acct, &nk, &pol, &meta)) == LK_OK) {
		e = lk_keys_import(req->db, &c->actor, &nk,
		    json_string_value(json_object_get(f, "hash")),
		    json_string_value(json_object_get(f, "start")),
		    req->conf->max_keys_per_account, req->now, &k, duplicate);
		if (*duplicate)
			e = lk_req_fail(req, e, "hash", "A key with this hash exists already");
		else
			e = not_created(req, e);
	}
	free(meta);
	json_decref(f);
	*err = e;
	if (e == LK_OK)
		return json_pack("{s:I,s:i,s:o}", "index", (json_int_t)index, "status", 201,
		    "key", lk_key_json(&k, req->now));
	return json_pack("{s:I,s:i,s:o}", "index", (json_int_t)index,
	    "status", lk_err_status(e), "error", lk_resp_error_object(req, e));
}

/*
 * POST /v1/keys/import {"keys": [...]}: up to LK_IMPORT_MAX keys made
 * elsewhere, known by their SHA-256; 207 with one result per item.
 */
static enum lk_err
import(struct lk_req *req, struct lk_caller *c)
{
	json_t		*items, *item, *results, *v;
	const char	*name;
	size_t		 i, n[3] = { 0, 0, 0 };	/* imported, duplicates, failed */
	bool		 dup, down = false;
	enum lk_err	 e;

	if ((e = lk_auth_require(req, c, "keys:import")) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_read_body_max(req, req->conf->max_body > IMPORT_BODY_MAX ?
	    req->conf->max_body : IMPORT_BODY_MAX)) != LK_OK)
		return e;
	if (req->body_form)
		return lk_req_fail(req, LK_ERR_MEDIA_TYPE, NULL,
		    "An import is a JSON body {\"keys\": [...]} (Content-Type: application/json)");
	json_object_foreach(req->body, name, v)
		if (strcmp(name, "keys") != 0)
			return lk_req_fail(req, LK_ERR_VALIDATION, name,
			    "Unknown or read-only field '%.64s'", name);
	items = json_object_get(req->body, "keys");
	if (!json_is_array(items) || json_array_size(items) == 0 ||
	    json_array_size(items) > LK_IMPORT_MAX) {
		lk_req_detail(req, "max_items", json_integer(LK_IMPORT_MAX));
		return lk_req_fail(req, LK_ERR_VALIDATION, "keys",
		    "Field 'keys' must be an array of 1 to %d key objects", LK_IMPORT_MAX);
	}
	results = json_array();
	json_array_foreach(items, i, item) {
		/* After a 5xx the database is gone: the rest are not tried (a rerun finds them). */
		if (down) {
			lk_req_fail(req, LK_ERR_UNAVAILABLE, NULL,
			    "Not tried: an earlier item could not be written");
			json_array_append_new(results, json_pack("{s:I,s:i,s:o}", "index",
			    (json_int_t)i, "status", lk_err_status(LK_ERR_UNAVAILABLE), "error",
			    lk_resp_error_object(req, LK_ERR_UNAVAILABLE)));
			n[2]++;
			continue;
		}
		json_array_append_new(results, import_item(req, c, item, i, &dup, &e));
		n[e == LK_OK ? 0 : dup ? 1 : 2]++;
		down = lk_err_status(e) >= 500;
	}
	lk_resp_json(req, 207, json_pack("{s:o,s:{s:I,s:I,s:I}}", "results", results,
	    "summary", "imported", (json_int_t)n[0], "duplicates", (json_int_t)n[1],
	    "failed", (json_int_t)n[2]));
	return LK_OK;
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

enum lk_err
lk_keys_http_import(struct lk_req *req)
{
	struct lk_caller	 c;
	enum lk_err		 e;

	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_auth_caller(req, &c)) != LK_OK)
		return e;
	return import(req, &c);
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

/* /keys/import: "import" is never a key id (those are key_…). */
static bool
is_import(const struct lk_req *req)
{
	return req->nsegs == 2 && strcmp(req->segs[0], "keys") == 0 &&
	    strcmp(req->segs[1], "import") == 0;
}

enum lk_err
lk_keys_http_keys(struct lk_req *req)
{
	if (is_import(req))
		return lk_keys_http_import(req);
	if (req->nsegs != 1 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_no_route(req);
	return lk_keys_http_collection(req, NULL);
}

enum lk_err
lk_keys_http_key(struct lk_req *req)
{
	if (is_import(req))	/* the web servers route /v1/keys/... here */
		return lk_keys_http_import(req);
	if (req->nsegs < 2 || req->nsegs > 3 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_no_route(req);
	return lk_keys_http_item(req, NULL, req->segs[1],
	    req->nsegs == 3 ? req->segs[2] : NULL);
}
