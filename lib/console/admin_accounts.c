/* admin_accounts.c — the console's account tree: create a sub-account, rename, change plan, delete. */
#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "console/admin.h"

static const char *const plans[] = { "free", "pro", "enterprise", NULL };

static enum lk_err
tree_page(struct lk_admin *a, int status, const char *err_id, const char *err_field,
    const char *err)
{
	static const char *const heads[] = { "Name", "Plan", "Keys", "Id", "Change" };
	struct lk_html		*h = &a->h;
	json_t			*tree, *o;
	size_t			 i;
	char			 href[200], cls[16], fid[80];
	bool			 write = lk_admin_can(a, "accounts:write");
	enum lk_err		 e;

	if ((e = lk_admin_tree(a, NULL, &tree)) != LK_OK)
		return e;
	lk_admin_begin(a, "Accounts", "accounts");
	if (err != NULL && err_id == NULL)
		lk_admin_alert(a, err);
	lk_admin_table(a, "Accounts (scrolls sideways)", LK_A_ID, "accounts",
	    "Your account and its sub-accounts", heads, write ? 5 : 4);
	json_array_foreach(tree, i, o) {
		const char *id = lk_admin_str(o, "id");
		int depth = (int)json_integer_value(json_object_get(o, "depth"));
		bool bad = err_id != NULL && strcmp(err_id, id) == 0;

		snprintf(cls, sizeof(cls), "d%d", depth > 8 ? 8 : depth);
		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		lk_html_elem(h, LK_E_TD, LK_A_CLASS, cls, LK_A__MAX);
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?account_id=%s", id);
		lk_html_leaf(h, LK_E_A, lk_admin_str(o, "name"), LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
		lk_html_leaf(h, LK_E_TD, lk_admin_str(o, "plan"), LK_A__MAX);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_html_textf(h, "%lld", (long long)json_integer_value(json_object_get(o, "key_count")));
		lk_html_close(h);
		lk_admin_code_cell(a, id);
		if (write) {
			lk_html_elem(h, LK_E_TD, LK_A__MAX);
			if (bad)
				lk_admin_alert(a, err);
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts/%s", id);
			lk_admin_form(a, href, "inline");
			snprintf(fid, sizeof(fid), "name-%s", id);
			lk_html_leaf(h, LK_E_LABEL, "Name", LK_A_FOR, fid, LK_A__MAX);
			lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "text", LK_A_ID, fid, LK_A_NAME, "name",
			    LK_A_VALUE, bad && json_object_get(a->form, "name") != NULL ?
			    lk_admin_value(a, "name") : lk_admin_str(o, "name"),
			    LK_A__MAX);
			snprintf(fid, sizeof(fid), "plan-%s", id);
			lk_admin_choices(a, "Plan", fid, "plan", plans, lk_admin_str(o, "plan"));
			lk_admin_button(a, "Save", "plain");
			lk_html_close(h);
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts/%s/delete", id);
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, "Delete", "danger");
			lk_html_close(h);
			lk_html_close(h);
		}
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
	if (write) {
		lk_html_leaf(h, LK_E_H2, "Create a sub-account", LK_A_ID, "create", LK_A__MAX);
		if (err_id != NULL && strcmp(err_id, "new") == 0 && err_field == NULL)
			lk_admin_alert(a, err);
		lk_admin_form(a, LK_ADMIN_BASE "/accounts/new", "stack");
		lk_admin_input(a, "Name", "name", "text", "", "1 to 100 characters.",
		    err_id != NULL && strcmp(err_id, "new") == 0 ? err_field : NULL, err);
		lk_admin_account_select(a, "Parent account", "parent_id", tree, NULL);
		lk_admin_select(a, "Plan", "plan", plans, "free");
		lk_admin_button(a, "Create account", NULL);
		lk_html_close(h);
	}
	json_decref(tree);
	return lk_admin_end(a, status);
}

enum lk_err
lk_admin_accounts(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	json_t		*body, *cur;
	const char	*id, *err_id;
	enum lk_err	 e;

	if (req->nsegs == 1) {
		if (a->method != LK_GET)
			return lk_req_method_not_allowed(req, "GET");
		const char *done = json_string_value(json_object_get(req->query, "done"));

		if ((e = lk_admin_require(a, "accounts:read")) != LK_OK)
			return e;
		if (done != NULL && strcmp(done, "created") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was created.");
		else if (done != NULL && strcmp(done, "deleted") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was deleted.");
		else if (done != NULL && strcmp(done, "saved") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was saved.");
		return tree_page(a, 200, NULL, NULL, NULL);
	}
	if (a->method != LK_POST || req->nsegs > 3 ||
	    (req->nsegs == 3 && strcmp(req->segs[2], "delete") != 0))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if ((e = lk_admin_require(a, "accounts:write")) != LK_OK)
		return e;
	id = req->segs[1];
	if (strcmp(id, "new") == 0) {
		body = json_pack("{s:s,s:s,s:s}", "name", lk_admin_value(a, "name"),
		    "parent_id", lk_admin_value(a, "parent_id"), "plan", lk_admin_value(a, "plan"));
		lk_admin_api_begin(a, LK_POST, body, NULL);
		e = lk_admin_api_end(a, lk_accounts_http_collection(req));
		err_id = "new";
	} else {
		/* Only changed fields go in the PATCH (the plan rule applies to a change only). */
		lk_admin_api_begin(a, LK_GET, NULL, NULL);
		if ((e = lk_admin_api_end(a, lk_accounts_http_item(req, id))) != LK_OK)
			return e;
		cur = json_incref(req->captured);
		body = json_object();
		if (req->nsegs == 2) {
			if (strcmp(lk_admin_value(a, "name"), lk_admin_str(cur, "name")) != 0)
				json_object_set_new(body, "name", json_string(lk_admin_value(a, "name")));
			if (strcmp(lk_admin_value(a, "plan"), lk_admin_str(cur, "plan")) != 0)
				json_object_set_new(body, "plan", json_string(lk_admin_value(a, "plan")));
		}
		json_decref(cur);
		if (req->nsegs == 2 && json_object_size(body) == 0) {
			json_decref(body);
			json_decref(a->form);
			a->form = NULL;
			snprintf(a->notice, sizeof(a->notice), "Nothing was changed.");
			return tree_page(a, 200, NULL, NULL, NULL);
		}
		lk_admin_api_begin(a, req->nsegs == 3 ? LK_DELETE : LK_PATCH,
		    req->nsegs == 3 ? NULL : body, NULL);
		if (req->nsegs == 3)
			json_decref(body);
		e = lk_admin_api_end(a, lk_accounts_http_item(req, id));
		err_id = id;
	}
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN || e == LK_ERR_CONFLICT)
		return tree_page(a, lk_err_status(e), err_id, lk_admin_err_field(a),
		    req->err_message);
	if (e != LK_OK)
		return e;
	return lk_admin_redirect(a, strcmp(id, "new") == 0 ? LK_ADMIN_BASE "/accounts?done=created" :
	    req->nsegs == 3 ? LK_ADMIN_BASE "/accounts?done=deleted" :
	    LK_ADMIN_BASE "/accounts?done=saved");
}
