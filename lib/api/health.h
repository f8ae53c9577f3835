/* health.h — GET /v1/health: can this program serve, for load balancers. */
#ifndef LK_API_HEALTH_H
#define LK_API_HEALTH_H

#include "http/req.h"

/*
 * 200 {"status": "ok", "db": STATE} when the database answers a read on a
 * ready node (STATE "ok" for a plain server, "Synced" for a Galera node);
 * 503 in the error shape, details.db the state, otherwise. No key, nothing
 * secret, never audited, not rate limited.
 */
enum lk_err	lk_health_http(struct lk_req *req);

#endif
