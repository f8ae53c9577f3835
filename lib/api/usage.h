/* usage.h — the usage endpoints (the query is model/usage's). */
#ifndef LK_API_USAGE_H
#define LK_API_USAGE_H

#include "http/req.h"
#include "model/usage.h"

/*
 * GET …/keys/{id}/usage and GET /v1/accounts/{id}/usage: ?days=, then
 * respond. only_env: what the caller sees (lk_auth_only_env); a key it does
 * not see is 404 before this (lk_auth_key).
 */
enum lk_err	lk_usage_http_key(struct lk_req *req, const struct lk_key *k,
		    const char *only_env);
enum lk_err	lk_usage_http_account(struct lk_req *req, const struct lk_account *a,
		    const char *only_env);

#endif
