/*
 * accounts — /v1/accounts (GET list, POST create), /v1/accounts/{id} (GET,
 * PATCH, DELETE), and /v1/accounts/{id}/keys… which behaves like /v1/keys…
 * with that account as context, and GET /v1/accounts/{id}/usage.
 */
#include <string.h>

#include "api/accounts.h"
#include "api/keys.h"
#include "http/serve.h"

static enum lk_err
handle(struct lk_req *req)
{
	if (req->nsegs < 1 || strcmp(req->segs[0], "accounts") != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
	if (req->nsegs >= 3 && strcmp(req->segs[2], "keys") == 0) {
		if (req->nsegs == 3)
			return lk_keys_http_collection(req, req->segs[1]);
		if (req->nsegs <= 5)
			return lk_keys_http_item(req, req->segs[1], req->segs[3],
			    req->nsegs == 5 ? req->segs[4] : NULL);
	}
	if (req->nsegs == 3 && strcmp(req->segs[2], "usage") == 0)
		return lk_accounts_http_usage(req, req->segs[1]);
	if (req->nsegs > 2)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
	if (req->nsegs == 1)
		return lk_accounts_http_collection(req);
	return lk_accounts_http_item(req, req->segs[1]);
}

int
main(void)
{
	return lk_serve(handle);
}
