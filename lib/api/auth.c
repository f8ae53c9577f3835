/* auth.c — authentication, scope checks, and the account subtree rule (404, never 403, outside it). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/auth.h"
#include "base/timefmt.h"
#include "http/resp.h"
#include "model/cache.h"

enum lk_err
lk_auth_credential(struct lk_req *req, struct lk_keyparts *parts)
{
	const char	*h = lk_req_param(req, "HTTP_AUTHORIZATION");
	const char	*k = NULL;
	size_t		 n;

	if (h != NULL) {
		while (isspace((unsigned char)*h))
			h++;
		if (strncasecmp(h, "Bearer", 6) != 0 || !isspace((unsigned char)h[6]))
			return lk_req_fail(req, LK_ERR_INVALID_KEY, NULL,
			    "The Authorization header must use the Bearer scheme");
		k = h + 7;
	} else if ((k = lk_req_param(req, "HTTP_X_API_KEY")) == NULL)
		return lk_req_fail(req, LK_ERR_MISSING_KEY, NULL,
		    "Send the API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'");
	while (isspace((unsigned char)*k))
		k++;
	n = strlen(k);
	while (n > 0 && isspace((unsigned char)k[n - 1]))
		n--;
	if (n == 0)
		return lk_req_fail(req, LK_ERR_MISSING_KEY, NULL, "The API key is empty");
	if (lk_keyfmt_presented(k, n, req->conf->key_prefix, parts) != LK_OK)
		return LK_ERR_INVALID_KEY;
	return LK_OK;
}

enum lk_err
lk_auth_status(struct lk_req *req, const struct lk_key *k)
{
	char t[LK_TIME_MAX];

	switch (lk_key_status(k, req->now)) {
	case LK_KEY_REVOKED:
		lk_time_format(k->revoked_at, t);
		lk_req_detail(req, "revoked_at", json_string(t));
		return LK_ERR_REVOKED_KEY;
	case LK_KEY_EXPIRED:
		lk_time_format(k->expires_at, t);
		lk_req_detail(req, "expired_at", json_string(t));
		return LK_ERR_EXPIRED_KEY;
	case LK_KEY_ACTIVE:
		break;
	}
	return LK_OK;
}

static enum lk_err caller(struct lk_req *, struct lk_caller *, struct lk_account *, bool);

void
lk_auth_actor(struct lk_req *req, struct lk_caller *c)
{
	c->actor.id = c->key.public_id;
	c->actor.ip = req->ip;
	c->actor.request_id = req->request_id;
}

enum lk_err
lk_auth_caller(struct lk_req *req, struct lk_caller *c)
{
	return lk_auth_caller_account(req, c, NULL);
}

enum lk_err
lk_auth_caller_account(struct lk_req *req, struct lk_caller *c,
    struct lk_account *acct)
{
	return caller(req, c, acct, false);
}

enum lk_err
lk_auth_caller_cached(struct lk_req *req, struct lk_caller *c, struct lk_account *acct)
{
	return caller(req, c, acct, true);
}

/* The caller's key (with its account into acct, when not NULL), through the verify cache if cached. */
static enum lk_err
caller(struct lk_req *req, struct lk_caller *c, struct lk_account *acct, bool cached)
{
	struct lk_keyparts	 parts;
	bool			 found, unused;
	enum lk_err		 e;

	if (req->caller != NULL) {	/* a console user, authenticated by its session */
		*c = *req->caller;
		lk_auth_actor(req, c);
		return acct != NULL ? lk_accounts_get(req->db, c->key.owner.public_id, acct) : LK_OK;
	}
	if ((e = lk_auth_credential(req, &parts)) != LK_OK)
		return e;
	if (acct != NULL && cached)
		e = lk_cache_key_with_account(req->db, req->conf, parts.digest, &c->key, acct,
		    &found);
	else if (acct != NULL)
		e = lk_keys_with_account(req->db, parts.digest, &c->key, acct, &found);
	else if (cached)
		e = lk_cache_keys_by_digests(req->db, req->conf, parts.digest, &c->key, &found,
		    parts.digest, &c->key, &unused);
	else
		e = lk_keys_by_digests(req->db, parts.digest, &c->key, &found,
		    parts.digest, &c->key, &unused);
	if (e != LK_OK)
		return e;
	if (!found)
		return LK_ERR_INVALID_KEY;
	return lk_auth_count(req, c);
}

enum lk_err
lk_auth_caller_scope(struct lk_req *req, struct lk_caller *c, const char *scope)
{
	enum lk_err e;

	if ((e = lk_auth_caller(req, c)) != LK_OK)
		return e;
	return lk_auth_require(req, c, scope);
}

enum lk_err
lk_auth_collection(struct lk_req *req, const char *read_scope, const char *write_scope,
    lk_auth_handler_fn *list, lk_auth_handler_fn *create)
{
	struct lk_caller	c;
	enum lk_err		e;

	if (req->method != LK_GET && req->method != LK_POST)
		return lk_req_method_not_allowed(req, "GET, POST");
	if ((e = lk_auth_caller_scope(req, &c, req->method == LK_GET ? read_scope :
	    write_scope)) != LK_OK)
		return e;
	return req->method == LK_GET ? list(req, &c) : create(req, &c);
}

enum lk_err
lk_auth_list_subtree(struct lk_req *req, const struct lk_caller *c,
    const struct lk_field *fields, lk_auth_subtree_fn *fn)
{
	struct lk_account	 root;
	struct lk_page		 page;
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_req_fields(req, req->query, fields, &f)) != LK_OK)
		return e;
	if ((e = lk_req_page(req, f, &page)) == LK_OK &&
	    (e = lk_auth_account(req, c, NULL, &root)) == LK_OK &&
	    (e = fn(req->db, &root, f, &page)) == LK_OK)
		lk_resp_json(req, 200, lk_page_json(&page));
	lk_page_free(&page);
	json_decref(f);
	return e;
}

/*
 * The rate-limit headers of st (nothing if st was not counted):
 * RateLimit-Policy, RateLimit, RateLimit-Limit, RateLimit-Remaining,
 * RateLimit-Reset, and Retry-After when the use was rate limited.
 */
static void
ratelimit_headers(struct lk_req *req, const struct lk_rl_state *st)
{
	char v[96];

	if (!st->counted)
		return;
	snprintf(v, sizeof(v), "\"default\";q=%lld;w=%lld",
	    (long long)st->limit, (long long)st->window);
	lk_req_header(req, "RateLimit-Policy", v);
	snprintf(v, sizeof(v), "\"default\";r=%lld;t=%lld",
	    (long long)st->remaining, (long long)st->reset);
	lk_req_header(req, "RateLimit", v);
	snprintf(v, sizeof(v), "%lld", (long long)st->limit);
	lk_req_header(req, "RateLimit-Limit", v);
	snprintf(v, sizeof(v), "%lld", (long long)st->remaining);
	lk_req_header(req, "RateLimit-Remaining", v);
	snprintf(v, sizeof(v), "%lld", (long long)st->reset);
	lk_req_header(req, "RateLimit-Reset", v);
	if (st->outcome == LK_OUTCOME_RATE_LIMITED)
		lk_req_header(req, "Retry-After", v);
}

enum lk_err
lk_auth_count(struct lk_req *req, struct lk_caller *c)
{
	const struct lk_use	 u = { req->now, req->ip, NULL, 1 };
	enum lk_err		 e;

	if ((e = lk_use_key(req->db, req->conf, &c->key, &u, &c->rl)) != LK_OK)
		return e;
	ratelimit_headers(req, &c->rl);
	return lk_auth_outcome(req, c);
}

enum lk_err
lk_auth_outcome(struct lk_req *req, struct lk_caller *c)
{
	const struct lk_key	*k = &c->key;
	enum lk_err		 e;

	switch (c->rl.outcome) {
	case LK_OUTCOME_REVOKED:
	case LK_OUTCOME_EXPIRED:
		if ((e = lk_auth_status(req, k)) != LK_OK)
			return e;
		break;
	case LK_OUTCOME_ACCOUNT_SUSPENDED:
		lk_req_detail(req, "suspended_account_id", json_string(k->policy.suspended_by));
		return lk_req_fail(req, LK_ERR_ACCOUNT_SUSPENDED, NULL, "%s",
		    strcmp(k->policy.suspended_by, k->owner.public_id) == 0 ?
		    "The API key's account is suspended" :
		    "An account above the API key's account is suspended");
	case LK_OUTCOME_IP_NOT_ALLOWED:
		lk_req_detail(req, "ip", json_string(req->ip));
		return lk_req_fail(req, LK_ERR_IP_NOT_ALLOWED, NULL,
		    "The API key may not be used from %s: it is outside the key's allowed_ips",
		    req->ip);
	case LK_OUTCOME_RATE_LIMITED:
		lk_req_detail(req, "retry_after", json_integer(c->rl.reset));
		return lk_req_fail(req, LK_ERR_RATE_LIMITED, NULL,
		    "The API key's rate limit of %lld requests per %lld s is used up; "
		    "retry after %lld s", (long long)c->rl.limit,
		    (long long)c->rl.window, (long long)c->rl.reset);
	case LK_OUTCOME_USAGE_EXCEEDED:
		lk_req_detail(req, "credits", json_pack("{s:I}", "remaining",
		    (json_int_t)c->rl.credits));
		return lk_req_fail(req, LK_ERR_USAGE_EXCEEDED, NULL,
		    "The API key's credits are used up (%lld left)", (long long)c->rl.credits);
	default:
		break;
	}
	c->key.last_used_at = req->now;
	lk_auth_actor(req, c);
	return LK_OK;
}

bool
lk_auth_is_admin(const struct lk_caller *c)
{
	return lk_scopes_allow(c->key.scopes, "admin");
}

enum lk_err
lk_auth_require(struct lk_req *req, const struct lk_caller *c, const char *scope)
{
	if (lk_scopes_allow(c->key.scopes, scope))
		return LK_OK;
	lk_req_detail(req, "required_scope", json_string(scope));
	return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
	    "The API key lacks the scope '%s'", scope);
}

enum lk_err
lk_auth_account(struct lk_req *req, const struct lk_caller *c, const char *id,
    struct lk_account *out)
{
	enum lk_err e;

	if (id == NULL && (id = lk_req_param(req, "HTTP_X_ACCOUNT_ID")) == NULL)
		id = lk_req_param(req, "HTTP_X_TENANT_ID");
	if (id == NULL || strcmp(id, "me") == 0)
		id = c->key.owner.public_id;
	if (!lk_crypto_public_id_ok(id, "acct_"))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such account");
	if ((e = lk_accounts_get(req->db, id, out)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && !lk_path_within(out->path, c->key.owner.path)))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such account");
	return e;
}

enum lk_err
lk_auth_key(struct lk_req *req, const struct lk_caller *c, const char *id,
    struct lk_key *out)
{
	enum lk_err e;

	if (!lk_crypto_public_id_ok(id, "key_"))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such key");
	if ((e = lk_keys_get(req->db, id, out)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && !lk_auth_sees(c, out)))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such key");
	return e;
}

bool
lk_auth_env_ok(const struct lk_caller *c, const char *env)
{
	return strcmp(c->key.env, "test") != 0 || strcmp(env, "test") == 0;
}

const char *
lk_auth_only_env(const struct lk_caller *c)
{
	return lk_auth_env_ok(c, "live") ? NULL : "test";
}

bool
lk_auth_sees(const struct lk_caller *c, const struct lk_key *k)
{
	return lk_path_within(k->owner.path, c->key.owner.path) &&
	    lk_auth_env_ok(c, k->env);
}

enum lk_err
lk_auth_dominates(struct lk_req *req, const struct lk_caller *c,
    const char *target_scopes)
{
	const char	*bad;
	size_t		 badlen;

	if (lk_scopes_grantable(c->key.scopes, target_scopes, &bad, &badlen))
		return LK_OK;
	lk_req_detail(req, "required_scope", json_stringn(bad, badlen));
	return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
	    "The target holds the scope '%.*s', which the caller lacks: only a "
	    "caller holding every scope of its target may change it",
	    (int)badlen, bad);
}

enum lk_err
lk_auth_plan(struct lk_req *req, const struct lk_caller *c,
    const struct lk_account *target, const char *plan)
{
	if (plan == NULL)
		return LK_OK;
	if (target != NULL && target->id == c->key.owner.id &&
	    strcmp(plan, target->plan) != 0)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "plan",
		    "A caller cannot change its own account's plan");
	if (lk_plan_rank(plan) > lk_plan_rank(c->key.owner.plan))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "plan",
		    "A sub-account's plan cannot be above the caller's own account's (%s)",
		    c->key.owner.plan);
	return LK_OK;
}
