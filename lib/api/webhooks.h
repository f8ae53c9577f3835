/* webhooks.h — /v1/webhooks: endpoints, their secrets, test events and deliveries. */
#ifndef LK_API_WEBHOOKS_H
#define LK_API_WEBHOOKS_H

#include "http/req.h"

/*
 * GET/POST /v1/webhooks, GET/PATCH/DELETE /v1/webhooks/{id},
 * POST /v1/webhooks/{id}/rotate, POST /v1/webhooks/{id}/test,
 * GET /v1/webhooks/{id}/messages, POST /v1/webhooks/{id}/messages/{msg}/resend.
 */
enum lk_err	lk_webhooks_http(struct lk_req *req);

#endif
