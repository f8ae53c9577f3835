/*
 * authorize.h — the authorizer: the decision for one request, by the rule its
 * URL needs (base/authz_rules.h) and the key it brings (api/auth.h).
 */
#ifndef LK_API_AUTHORIZE_H
#define LK_API_AUTHORIZE_H

#include "base/err.h"

struct lk_req;

/*
 * The authorizer's answer to one request (FCGI_ROLE=AUTHORIZER; 500 with a
 * configuration hint in any other role): pick the rule
 * for its method and path (or the one LATCHKEY_AUTHZ_SCOPES imposes), check
 * the key (credential, one indexed read, one counted use against its rate
 * limit, status, scopes) and answer: 200 with the Variable-LATCHKEY_* headers,
 * or the error to send (429 with Retry-After and the RateLimit-* headers).
 */
enum lk_err	lk_authz_handle(struct lk_req *req);

#endif
