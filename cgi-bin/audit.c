/* audit — GET /v1/audit: the audit rows of the caller's (or X-Account-Id's) subtree. */
#include <string.h>

#include "api/audit.h"
#include "http/serve.h"

static enum lk_err
handle(struct lk_req *req)
{
	if (req->nsegs != 1 || strcmp(req->segs[0], "audit") != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
	return lk_audit_http_list(req);
}

int
main(void)
{
	return lk_serve(handle);
}
