/* me.h — GET /v1/me: the presenting key and its account. */
#ifndef LK_API_ME_H
#define LK_API_ME_H

#include "http/req.h"

/* The route /me: any valid key may ask; one read, one counted use. */
enum lk_err	lk_me_http(struct lk_req *req);

#endif
