/*
 * accounts.h — the HTTP side of /v1/accounts and /v1/accounts/{id}
 * (cgi-bin/accounts routes here; the admin console runs the same functions).
 */
#ifndef LK_API_ACCOUNTS_H
#define LK_API_ACCOUNTS_H

#include "http/req.h"

/*
 * The routes /accounts, /accounts/{id}, /accounts/{id}/usage and
 * /accounts/{id}/keys… (which behave like /keys… with that account as
 * context): cgi-bin/accounts.
 */
enum lk_err	lk_accounts_http(struct lk_req *req);

/* GET (list the context account's sub-accounts) and POST (create) on /v1/accounts. */
enum lk_err	lk_accounts_http_collection(struct lk_req *req);

/* GET, PATCH (name, plan) and DELETE of one account in the caller's subtree. */
enum lk_err	lk_accounts_http_item(struct lk_req *req, const char *id);

/* GET /v1/accounts/{id}/usage: daily usage summed over the account's subtree. */
enum lk_err	lk_accounts_http_usage(struct lk_req *req, const char *id);

/* POST /v1/accounts/{id}/suspend {"reason"} (on) and /v1/accounts/{id}/reactivate. */
enum lk_err	lk_accounts_http_suspend(struct lk_req *req, const char *id, bool on);

#endif
