/*
 * admin_users.c — the console's users page (owners): list, create, change
 * role, disable/enable, reset password, each through api/users' handlers (the
 * rules: a user acts only on users of its subtree whose role it dominates).
 */
#include <stdio.h>
#include <string.h>

#include "api/users.h"
#include "console/admin.h"
#include "model/users.h"

static void
password_once(struct lk_admin *a, const char *email, const char *password)
{
	lk_html_elem(&a->h, LK_E_DIV, LK_A_CLASS, "secret", LK_A_ROLE, "region",
	    LK_A_ARIA_LABEL, "New password", LK_A__MAX);
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_textf(&a->h, "The password of %s is shown only this once:", email);
	lk_html_close(&a->h);
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_CODE, password, LK_A_ID, "new-password", LK_A__MAX);
	lk_html_close(&a->h);
	lk_html_close(&a->h);
}

static enum lk_err
users_page(struct lk_admin *a, int status, const char *err_id, const char *err)
{
	static const char *const heads[] = { "Email", "Role", "Account", "State", "Change" };
	struct lk_html		*h = &a->h;
	struct lk_req		*req = a->req;
	json_t			*o, *users, *tree = NULL;
	size_t			 i;
	char			 href[200], fid[80], msg[sizeof(req->err_message)];
	enum lk_err		 e;

	/* The error to show may live in the request, which the list's API call resets. */
	if (err != NULL) {
		snprintf(msg, sizeof(msg), "%s", err);
		err = msg;
	}
	if ((e = lk_admin_tree(a, NULL, &tree)) != LK_OK)
		return e;
	lk_admin_api_begin(a, LK_GET, NULL, json_pack("{s:i}", "limit", LK_PAGE_MAX));
	if ((e = lk_admin_api_end(a, lk_users_http_collection(req))) != LK_OK) {
		json_decref(tree);
		return e;
	}
	users = json_incref(json_object_get(req->captured, "data"));
	if (!a->h.buf)
		lk_admin_begin(a, "Users", "users");
	if (err != NULL && err_id != NULL && strcmp(err_id, "new") != 0)
		lk_admin_alert(a, err);
	lk_admin_table(a, "Users (scrolls sideways)", LK_A_ID, "users",
	    "People who can log in to this console", heads, LK_NELEM(heads));
	json_array_foreach(users, i, o) {
		const char *id = lk_admin_str(o, "id");
		bool disabled = json_is_true(json_object_get(o, "disabled"));
		bool self = strcmp(id, a->s.user.public_id) == 0;

		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		lk_admin_cell(a, "Email", NULL);
		lk_html_text(h, lk_admin_str(o, "email"));
		lk_html_close(h);
		lk_admin_cell(a, "Role", NULL);
		lk_html_text(h, lk_admin_str(o, "role"));
		lk_html_close(h);
		lk_admin_cell(a, "Account", NULL);
		lk_admin_account_name(a, tree, lk_admin_str(o, "account_id"));
		lk_html_close(h);
		lk_admin_cell(a, "State", NULL);
		lk_html_text(h, disabled ? "disabled" : "active");
		lk_html_close(h);
		lk_admin_cell(a, "Change", NULL);
		if (!self && lk_users_may_manage(a->caller.key.scopes, lk_admin_str(o, "role"))) {
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/users/%s/role", id);
			lk_admin_form(a, href, "inline");
			snprintf(fid, sizeof(fid), "role-%s", id);
			lk_admin_choices(a, "Role", fid, "role", lk_roles, lk_admin_str(o, "role"));
			lk_admin_button(a, "Set role", "plain");
			lk_html_close(h);
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/users/%s/%s", id,
			    disabled ? "enable" : "disable");
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, disabled ? "Enable" : "Disable", disabled ? "plain" : "danger");
			lk_html_close(h);
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/users/%s/password", id);
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, "Reset password", "plain");
			lk_html_close(h);
		} else {
			lk_html_text(h, self ? "(you)" : "—");
		}
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);

	lk_html_leaf(h, LK_E_H2, "Add a user", LK_A_ID, "create", LK_A__MAX);
	if (err != NULL && err_id != NULL && strcmp(err_id, "new") == 0)
		lk_admin_alert(a, err);
	lk_admin_form(a, LK_ADMIN_BASE "/users/new", "stack");
	lk_admin_input(a, "Email", "email", "email", "", NULL, NULL, NULL);
	lk_admin_select(a, "Role", "role", lk_roles, "viewer");
	lk_admin_account_select(a, "Account", "account_id", tree,
	    a->form != NULL ? lk_admin_value(a, "account_id") : NULL);
	lk_admin_input(a, "Password", "password", "password", "",
	    "Leave empty to generate one (shown once).", NULL, NULL);
	lk_admin_button(a, "Add user", NULL);
	lk_html_close(h);
	json_decref(users);
	json_decref(tree);
	return lk_admin_end(a, status);
}

/* After a change that made a password: show it once, then the page. */
static enum lk_err
with_password(struct lk_admin *a, const char *email, int status)
{
	json_t *pw = json_object_get(a->req->captured, "password");

	lk_admin_begin(a, "Users", "users");
	if (status == 201)
		lk_html_leaf(&a->h, LK_E_P, "The user was added.", LK_A_CLASS, "notice",
		    LK_A_ROLE, "status", LK_A__MAX);
	if (pw != NULL)
		password_once(a, email, json_string_value(pw));
	json_decref(a->form);
	a->form = NULL;
	return users_page(a, status, NULL, NULL);
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	json_t		*body;
	enum lk_err	 e;

	body = json_pack("{s:s,s:s,s:s,s:s}", "email", lk_admin_value(a, "email"),
	    "role", lk_admin_value(a, "role"), "account_id", lk_admin_value(a, "account_id"),
	    "password", lk_admin_value(a, "password"));
	lk_admin_api_begin(a, LK_POST, body, NULL);
	e = lk_admin_api_end(a, lk_users_http_collection(req));
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN || e == LK_ERR_CONFLICT)
		return users_page(a, lk_err_status(e), "new", req->err_message);
	if (e != LK_OK)
		return e;
	return with_password(a, lk_admin_str(req->captured, "email"), 201);
}

static enum lk_err
change(struct lk_admin *a, const char *id, const char *action)
{
	struct lk_req	*req = a->req;
	json_t		*body = strcmp(action, "role") == 0 ?
			    json_pack("{s:s}", "role", lk_admin_value(a, "role")) : NULL;
	enum lk_err	 e;

	lk_admin_api_begin(a, LK_POST, body, NULL);
	if ((e = lk_admin_api_end(a, lk_users_http_item(req, id, action))) != LK_OK)
		return e;
	if (strcmp(action, "password") == 0)
		return with_password(a, lk_admin_str(req->captured, "email"), 200);
	return lk_admin_redirect(a, LK_ADMIN_BASE "/users?done=saved");
}

enum lk_err
lk_admin_users(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	enum lk_err	 e;

	if ((e = lk_admin_require(a, "admin")) != LK_OK)
		return e;
	if (req->nsegs == 1 && a->method == LK_GET) {
		if (json_object_get(req->query, "done") != NULL)
			snprintf(a->notice, sizeof(a->notice), "Saved.");
		return users_page(a, 200, NULL, NULL);
	}
	if (a->method != LK_POST)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if (req->nsegs == 2 && strcmp(req->segs[1], "new") == 0)
		return create(a);
	if (req->nsegs == 3 && (strcmp(req->segs[2], "role") == 0 ||
	    strcmp(req->segs[2], "disable") == 0 || strcmp(req->segs[2], "enable") == 0 ||
	    strcmp(req->segs[2], "password") == 0))
		return change(a, req->segs[1], req->segs[2]);
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
}
