/*
 * me.c — GET /v1/me: the presenting key and its account. Any valid key may ask.
 * One read (key and account together) and one write (the count); with
 * verify_cache = on, both from the host's cache when it holds them.
 */
#include <string.h>

#include "api/auth.h"
#include "api/me.h"
#include "http/resp.h"
#include "model/accounts.h"

enum lk_err
lk_me_http(struct lk_req *req)
{
	struct lk_caller	 c;
	struct lk_account	 acct;
	enum lk_err		 e;

	if (req->nsegs != 1 || strcmp(req->segs[0], "me") != 0)
		return lk_req_no_route(req);
	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_auth_caller_cached(req, &c, &acct)) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK)
		return e;
	lk_resp_json(req, 200, json_pack("{s:o,s:o}",
	    "key", lk_key_json(&c.key, req->now), "account", lk_account_json(&acct)));
	return LK_OK;
}
