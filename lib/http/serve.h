/* serve.h — the accept loop shared by every cgi-bin program. */
#ifndef LK_SERVE_H
#define LK_SERVE_H

#include "http/req.h"

/*
 * Handle one request: route on req->segs / req->method, authenticate, act and
 * send a response with lk_resp_json. Returning an error instead sends the
 * error shape (with what lk_req_fail recorded).
 */
typedef enum lk_err (*lk_handler_fn)(struct lk_req *req);

/*
 * Load the config ($LATCHKEY_CONF), connect to the database, then serve
 * requests with handler until the web server stops us: FastCGI when started
 * by one, a single request when run as plain CGI. Returns the exit status.
 */
int	lk_serve(lk_handler_fn handler);

/*
 * lk_serve for routes below base ("/admin") instead of the config's base_path ("": that
 * one); NULL: no routing (authorize guards any path).
 */
int	lk_serve_at(lk_handler_fn handler, const char *base);

#endif
