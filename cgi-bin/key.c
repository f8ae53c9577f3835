/* key — /v1/keys/{id}: GET, PATCH, DELETE; POST /v1/keys/{id}/revoke|reactivate|rotate. */
#include <string.h>

#include "api/keys.h"
#include "http/serve.h"

static enum lk_err
handle(struct lk_req *req)
{
	if (req->nsegs < 2 || req->nsegs > 3 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
	return lk_keys_http_item(req, NULL, req->segs[1],
	    req->nsegs == 3 ? req->segs[2] : NULL);
}

int
main(void)
{
	return lk_serve(handle);
}
