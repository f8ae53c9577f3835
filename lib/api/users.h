/*
 * users.h — the handlers of console users, of the same shape as the other
 * resources (a collection and its items), so that a /v1/users API is a route
 * away. Today the console alone runs them (lk_admin_api_begin/end); no
 * cgi-bin program routes to them. The caller needs "admin"; it acts only on
 * users of its subtree (others are 404) whose role it dominates
 * (lk_users_may_manage), and never on itself.
 */
#ifndef LK_API_USERS_H
#define LK_API_USERS_H

#include "http/req.h"

/*
 * GET: the users of the caller's subtree, newest first ({"data",
 * "next_cursor"}; limit, cursor). POST {email, role, account_id, password}:
 * create one; an empty password is generated. 201 with the user, and
 * "password" when it was generated (shown once).
 */
enum lk_err	lk_users_http_collection(struct lk_req *req);

/*
 * POST on one user, action: "role" {role}, "disable", "enable", or
 * "password" (a new generated password). 200 with the user, and "password"
 * after a reset (shown once).
 */
enum lk_err	lk_users_http_item(struct lk_req *req, const char *id, const char *action);

#endif
