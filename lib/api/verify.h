/* verify.h — POST /v1/verify: is this key good, for the caller's subtree? */
#ifndef LK_API_VERIFY_H
#define LK_API_VERIFY_H

#include "http/req.h"

/*
 * The route /verify: the caller (a key with "verify") asks about another key
 * and optional scopes; 200 with {"valid", "code", "key", "ratelimit"}, or
 * {"valid": false, "code": "INVALID_API_KEY"} for a key it does not see. The
 * verified key's use is counted, not the caller's.
 */
enum lk_err	lk_verify_http(struct lk_req *req);

#endif
