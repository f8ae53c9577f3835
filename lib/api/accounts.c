/* accounts_http.c — method → auth → scope → fields → lib/accounts.c → response, for /v1/accounts… */
#include <string.h>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/keys.h"
#include "api/usage.h"
#include "base/page.h"
#include "http/resp.h"

static const char *const plans[] = { "free", "pro", "enterprise", NULL };
static const char *const acct_prefix[] = { "acct_", NULL };

static const struct lk_field create_fields[] = {
	{ "name", LK_FT_TEXT, LK_FF_REQUIRED, LK_ACCOUNT_NAME_MAX, NULL },
	{ "parent_id", LK_FT_ID, 0, 0, acct_prefix },
	{ "plan", LK_FT_ENUM, 0, 0, plans },
	{ NULL, 0, 0, 0, NULL }
};
static const struct lk_field patch_fields[] = {
	{ "name", LK_FT_TEXT, 0, LK_ACCOUNT_NAME_MAX, NULL },
	{ "plan", LK_FT_ENUM, 0, 0, plans },
	{ NULL, 0, 0, 0, NULL }
};

static enum lk_err
list(struct lk_req *req, struct lk_caller *c)
{
	return lk_auth_list_subtree(req, c, lk_accounts_list);
}

static enum lk_err
create(struct lk_req *req, struct lk_caller *c)
{
	struct lk_account	 parent, a;
	const char		*plan;
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, create_fields, &f)) != LK_OK)
		return e;
	plan = json_string_value(json_object_get(f, "plan"));
	if ((e = lk_auth_plan(req, c, NULL, plan)) != LK_OK)
		goto out;
	e = lk_auth_account(req, c, json_string_value(json_object_get(f, "parent_id")),
	    &parent);
	if (e == LK_ERR_NOT_FOUND) {
		e = lk_req_fail(req, LK_ERR_FORBIDDEN, "parent_id",
		    "Accounts can only be created below the caller's account");
		goto out;
	}
	if (e != LK_OK)
		goto out;
	e = lk_accounts_create(req->db, &c->actor, &parent,
	    json_string_value(json_object_get(f, "name")), plan != NULL ? plan : "free",
	    req->conf->max_children_per_account, req->now, &a);
	if (e == LK_ERR_CONFLICT && !lk_accounts_can_nest(&parent))
		e = lk_req_fail(req, e, "parent_id", "The account tree is too deep here");
	else if (e == LK_ERR_CONFLICT) {
		lk_req_detail(req, "limit",
		    json_integer(req->conf->max_children_per_account));
		e = lk_req_fail(req, e, "parent_id", "The parent account has the most "
		    "sub-accounts it may (max_children_per_account)");
	} else if (e == LK_ERR_NOT_FOUND)
		e = lk_req_fail(req, LK_ERR_CONFLICT, "parent_id",
		    "The parent account was deleted while this one was being created");
	if (e == LK_OK)
		lk_resp_json(req, 201, lk_account_json(&a));
out:
	json_decref(f);
	return e;
}

static enum lk_err
item(struct lk_req *req, struct lk_caller *c, const char *id)
{
	struct lk_account	 a;
	json_t			*f;
	const char		*name, *plan;
	enum lk_err		 e;

	if ((e = lk_auth_account(req, c, id, &a)) != LK_OK)
		return e;
	switch (req->method) {
	case LK_GET:
		lk_resp_json(req, 200, lk_account_json(&a));
		return LK_OK;
	case LK_DELETE:
		e = lk_accounts_delete(req->db, &c->actor, &a, req->now);
		if (e == LK_ERR_CONFLICT)
			return lk_req_fail(req, e, NULL,
			    "An account with keys, sub-accounts or users cannot be deleted");
		if (e == LK_OK)
			lk_resp_json(req, 204, NULL);
		return e;
	default:
		break;
	}
	if ((e = lk_req_body_fields(req, patch_fields, &f)) != LK_OK)
		return e;
	name = json_string_value(json_object_get(f, "name"));
	plan = json_string_value(json_object_get(f, "plan"));
	if (name == NULL && plan == NULL)
		e = lk_req_fail(req, LK_ERR_VALIDATION, NULL, "Give name or plan");
	else if ((e = lk_auth_plan(req, c, &a, plan)) == LK_OK &&
	    (e = lk_accounts_update(req->db, &c->actor, &a, name, plan, req->now)) == LK_OK)
		lk_resp_json(req, 200, lk_account_json(&a));
	json_decref(f);
	return e;
}

enum lk_err
lk_accounts_http_collection(struct lk_req *req)
{
	return lk_auth_collection(req, "accounts:read", "accounts:write", list, create);
}

enum lk_err
lk_accounts_http_item(struct lk_req *req, const char *id)
{
	struct lk_caller	 c;
	enum lk_err		 e;

	if (req->method != LK_GET && req->method != LK_PATCH && req->method != LK_DELETE)
		return lk_req_method_not_allowed(req, "GET, PATCH, DELETE");
	if ((e = lk_auth_caller_scope(req, &c, req->method == LK_GET ?
	    "accounts:read" : "accounts:write")) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK)
		return e;
	return item(req, &c, id);
}

enum lk_err
lk_accounts_http_usage(struct lk_req *req, const char *id)
{
	struct lk_caller	 c;
	struct lk_account	 a;
	enum lk_err		 e;

	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_auth_caller_scope(req, &c, "accounts:read")) != LK_OK ||
	    (e = lk_auth_account(req, &c, id, &a)) != LK_OK)
		return e;
	return lk_usage_http_account(req, &a, lk_auth_only_env(&c));
}

enum lk_err
lk_accounts_http(struct lk_req *req)
{
	if (req->nsegs < 1 || strcmp(req->segs[0], "accounts") != 0)
		return lk_req_no_route(req);
	if (req->nsegs >= 3 && strcmp(req->segs[2], "keys") == 0) {
		if (req->nsegs == 3)
			return lk_keys_http_collection(req, req->segs[1]);
		if (req->nsegs <= 5)
			return lk_keys_http_item(req, req->segs[1], req->segs[3],
			    req->nsegs == 5 ? req->segs[4] : NULL);
	}
	if (req->nsegs == 3 && strcmp(req->segs[2], "usage") == 0)
		return lk_accounts_http_usage(req, req->segs[1]);
	if (req->nsegs > 2)
		return lk_req_no_route(req);
	if (req->nsegs == 1)
		return lk_accounts_http_collection(req);
	return lk_accounts_http_item(req, req->segs[1]);
}
