/* keys — /v1/keys: GET lists the context account's keys, POST creates one. */
#include <string.h>

#include "api/keys.h"
#include "http/serve.h"

static enum lk_err
handle(struct lk_req *req)
{
	if (req->nsegs != 1 || strcmp(req->segs[0], "keys") != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
	return lk_keys_http_collection(req, NULL);
}

int
main(void)
{
	return lk_serve(handle);
}
