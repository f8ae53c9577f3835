/* notfound.h — the JSON answer for every path below /v1 that no endpoint takes. */
#ifndef LK_API_NOTFOUND_H
#define LK_API_NOTFOUND_H

#include "http/req.h"

/*
 * 404 NOT_FOUND, or, called as the web server's error handler, the server's
 * own error (REDIRECT_STATUS) in the API's error shape.
 */
enum lk_err	lk_notfound_http(struct lk_req *req);

#endif
