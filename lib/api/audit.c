/* audit.c — GET /v1/audit (the query is model/audit_list's). */
#include <string.h>

#include "api/audit.h"
#include "api/auth.h"
#include "http/resp.h"

/* A window that ends before it starts is a bad filter, not an empty one. */
static enum lk_err
check_window(struct lk_req *req, const struct lk_audit_filter *f)
{
	if (f->has_since && f->has_until && f->until < f->since)
		return lk_req_fail(req, LK_ERR_VALIDATION, "until",
		    "Field 'until' must not be before 'since'");
	return LK_OK;
}

static const struct lk_field list_fields[] = {
	LK_AUDIT_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

enum lk_err
lk_audit_http_list(struct lk_req *req)
{
	struct lk_caller	 c;
	struct lk_account	 acct;
	struct lk_audit_filter	 filter;
	struct lk_page		 page;
	json_t			*f;
	enum lk_err		 e;

	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_auth_caller_scope(req, &c, "audit:read")) != LK_OK ||
	    (e = lk_req_fields(req, req->query, list_fields, &f)) != LK_OK)
		return e;
	lk_audit_filter_of(f, &filter);
	filter.only_env = lk_auth_only_env(&c);
	if ((e = lk_req_page(req, f, &page)) == LK_OK &&
	    (e = check_window(req, &filter)) == LK_OK &&
	    (e = lk_auth_account(req, &c, NULL, &acct)) == LK_OK &&
	    (e = lk_audit_list(req->db, acct.path, &filter, &page)) == LK_OK)
		lk_resp_json(req, 200, lk_page_json(&page));
	lk_page_free(&page);
	json_decref(f);
	return e;
}

enum lk_err
lk_audit_http(struct lk_req *req)
{
	if (req->nsegs != 1 || strcmp(req->segs[0], "audit") != 0)
		return lk_req_no_route(req);
	return lk_audit_http_list(req);
}
