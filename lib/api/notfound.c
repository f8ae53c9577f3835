/*
 * notfound.c — the catch-all under /v1 and the web servers' error handler, so
 * that every answer below /v1 has the API's JSON error shape. Routed last
 * (after every real endpoint): any other path is 404 NOT_FOUND. Called by
 * lighttpd's server.error-handler or Apache's ErrorDocument, it answers the
 * server's own error (REDIRECT_STATUS: 411, 413, 500, ...) in the same shape.
 */
#include <stdlib.h>

#include "api/notfound.h"
#include "http/resp.h"

enum lk_err
lk_notfound_http(struct lk_req *req)
{
	const char	*rs = lk_req_param(req, "REDIRECT_STATUS");
	int		 status = rs != NULL ? atoi(rs) : 0;
	enum lk_err	 e;

	if (status < 400 || status > 599)	/* lighttpd's mod_cgi sends 200 */
		return lk_req_no_route(req);
	e = lk_err_from_status(status);
	if (e == LK_ERR_NOT_FOUND)
		return lk_req_fail(req, e, NULL, "No such endpoint");
	return lk_req_fail(req, e, NULL, "%s", lk_err_message(e));
}
