/* auth.h — who is calling, what they may do, and which account they act on. */
#ifndef LK_API_AUTH_H
#define LK_API_AUTH_H

#include "http/req.h"
#include "model/accounts.h"
#include "model/keys.h"
#include "model/ratelimit.h"
#include "model/use.h"

struct lk_caller {
	struct lk_key		 key;	/* the presenting key (account_* fields included) */
	struct lk_actor		 actor;	/* for audit rows */
	struct lk_rl_state	 rl;	/* its rate limit after this use was counted */
};

/*
 * Read the key from "Authorization: Bearer" or "X-API-Key" (trimmed) and check
 * it in memory. LK_ERR_MISSING_KEY, LK_ERR_INVALID_KEY or LK_OK.
 */
enum lk_err	lk_auth_credential(struct lk_req *req, struct lk_keyparts *parts);

/* 401 REVOKED/EXPIRED (with details) unless k is active. */
enum lk_err	lk_auth_status(struct lk_req *req, const struct lk_key *k);

/*
 * Authenticate the caller: credential, one indexed read, then lk_auth_count.
 * Unknown and malformed keys count nothing.
 */
enum lk_err	lk_auth_caller(struct lk_req *req, struct lk_caller *c);

/*
 * lk_auth_caller_account (acct may be NULL) reading the key through the
 * verify cache (model/cache.h): the authorizer and /v1/me.
 */
enum lk_err	lk_auth_caller_cached(struct lk_req *req, struct lk_caller *c,
		    struct lk_account *acct);

/* lk_auth_caller, then lk_auth_require(scope): the start of most handlers. */
enum lk_err	lk_auth_caller_scope(struct lk_req *req, struct lk_caller *c, const char *scope);

/* A collection's handler for one method, after the caller is known. */
typedef enum lk_err lk_auth_handler_fn(struct lk_req *req, struct lk_caller *c);

/*
 * A collection route (/v1/accounts, the users): 405 unless GET or POST, then
 * the caller holding read_scope for GET (list) or write_scope for POST (create).
 */
enum lk_err	lk_auth_collection(struct lk_req *req, const char *read_scope,
		    const char *write_scope, lk_auth_handler_fn *list, lk_auth_handler_fn *create);

/* A list of the subtree under root, a page at a time, filtered by the validated query f. */
typedef enum lk_err lk_auth_subtree_fn(struct lk_db *db, const struct lk_account *root,
		    json_t *f, struct lk_page *page);

/*
 * GET of a subtree collection: the page the query asks for (its fields:
 * fields, which include LK_PAGE_FIELDS) of fn's list under the caller's
 * account, answered as JSON.
 */
enum lk_err	lk_auth_list_subtree(struct lk_req *req, const struct lk_caller *c,
		    const struct lk_field *fields, lk_auth_subtree_fn *fn);

/* lk_auth_caller that also fills acct with the caller's account (same single read). */
enum lk_err	lk_auth_caller_account(struct lk_req *req, struct lk_caller *c,
		    struct lk_account *acct);

/*
 * Decide and count one use of the found key c->key from the request's
 * address (lk_use_key: the policies, one write), add the rate-limit headers,
 * then answer for it (lk_auth_outcome); 503 if the count could not be
 * written (ratelimit_on_db_error = closed).
 */
enum lk_err	lk_auth_count(struct lk_req *req, struct lk_caller *c);

/*
 * The answer for the outcome of the counted use c->rl.outcome of c->key:
 * 401 REVOKED/EXPIRED, 403 ACCOUNT_SUSPENDED / IP_NOT_ALLOWED, 429
 * RATE_LIMITED / USAGE_EXCEEDED (with details), else LK_OK with c->actor set.
 */
enum lk_err	lk_auth_outcome(struct lk_req *req, struct lk_caller *c);

/* Set up c->actor once c->key is known. */
void		lk_auth_actor(struct lk_req *req, struct lk_caller *c);

/* 403 FORBIDDEN with details.required_scope unless the caller holds scope. */
enum lk_err	lk_auth_require(struct lk_req *req, const struct lk_caller *c,
		    const char *scope);

/* True if the caller holds "admin". */
bool		lk_auth_is_admin(const struct lk_caller *c);

/*
 * Resolve an account the caller names: id is a public id, "me", or NULL for
 * the request's context (X-Account-Id / X-Tenant-ID header, else the caller's
 * own account). Anything outside the caller's subtree is LK_ERR_NOT_FOUND.
 */
enum lk_err	lk_auth_account(struct lk_req *req, const struct lk_caller *c,
		    const char *id, struct lk_account *out);

/*
 * The test/live rule: true if the caller may see and act on keys of env
 * ("live" or "test"). A live caller acts on both; a test caller on test keys
 * only.
 */
bool		lk_auth_env_ok(const struct lk_caller *c, const char *env);

/*
 * The test/live rule as a filter for lists and sums (keys, audit rows,
 * usage): NULL if the caller sees every env, "test" if it sees test keys only.
 */
const char	*lk_auth_only_env(const struct lk_caller *c);

/*
 * True if the caller may see key k at all: k is in the caller's account
 * subtree and lk_auth_env_ok(c, k->env). Anything else is "no such key" (404,
 * or INVALID_API_KEY on verify).
 */
bool		lk_auth_sees(const struct lk_caller *c, const struct lk_key *k);

/*
 * The dominance rule: a caller may change (PATCH, revoke, reactivate, rotate,
 * delete) a key, or a user, only if it holds every scope of target_scopes
 * (space-separated; "admin" holds all), so it can never change or mint
 * anything more powerful than itself. 403 FORBIDDEN with
 * details.required_scope naming the first missing scope, else LK_OK.
 */
enum lk_err	lk_auth_dominates(struct lk_req *req, const struct lk_caller *c,
		    const char *target_scopes);

/*
 * The plan rule for setting an account's plan to plan (NULL: not set).
 * target is the account being changed, or NULL when creating a sub-account.
 * 403 FORBIDDEN (details.field "plan") if target is the caller's own account
 * and plan differs from its current plan, or if plan ranks above the caller's
 * own account's plan (free < pro < enterprise); else LK_OK.
 */
enum lk_err	lk_auth_plan(struct lk_req *req, const struct lk_caller *c,
		    const struct lk_account *target, const char *plan);

/* A key the caller names by id: LK_ERR_NOT_FOUND unless lk_auth_sees it. */
enum lk_err	lk_auth_key(struct lk_req *req, const struct lk_caller *c,
		    const char *id, struct lk_key *out);

#endif
