/*
 * health.c — GET /v1/health for load balancers (HAProxy's option httpchk,
 * Apache's mod_proxy_balancer, lighttpd): this web node can serve when its
 * programs reach a database node that takes work. lk_db_health moves on to
 * the next node of db_host itself, so a web node is healthy while any node
 * of its list is. Unauthenticated: the answer names no host, key or account.
 */
#include <string.h>

#include "api/health.h"
#include "http/resp.h"

enum lk_err
lk_health_http(struct lk_req *req)
{
	char		 state[32];
	enum lk_err	 e;

	if (req->nsegs != 1 || strcmp(req->segs[0], "health") != 0)
		return lk_req_no_route(req);
	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_req_no_query(req)) != LK_OK)
		return e;
	if (lk_db_health(req->db, state, sizeof(state)) != LK_OK) {
		lk_req_detail(req, "db", json_string(state));
		return lk_req_fail(req, LK_ERR_UNAVAILABLE, NULL,
		    "The database is not ready");
	}
	lk_resp_json(req, 200, json_pack("{s:s,s:s}", "status", "ok", "db", state));
	return LK_OK;
}
