/*
 * admin_users.c — the console's users page (owners): list, create, change
 * role, disable/enable, reset password. A user may act only on users of its
 * subtree (others are 404) whose role it dominates (lk_users_may_manage).
 */
#include <stdio.h>
#include <string.h>

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
users_page(struct lk_admin *a, int status, const char *err_id, const char *err_field,
    const char *err)
{
	struct lk_html		*h = &a->h;
	struct lk_account	 root;
	struct lk_page		 page;
	json_t			*o, *tree = NULL;
	size_t			 i;
	char			 href[200], fid[80];
	enum lk_err		 e;

	if ((e = lk_admin_tree(a, &root, &tree)) != LK_OK)
		return e;
	lk_page_init(&page, LK_PAGE_MAX);
	if ((e = lk_users_list(a->req->db, &root, &page)) != LK_OK) {
		lk_page_free(&page);
		json_decref(tree);
		return e;
	}
	if (!a->h.buf)
		lk_admin_begin(a, "Users", "users");
	if (err != NULL && err_id != NULL && strcmp(err_id, "new") != 0)
		lk_html_leaf(h, LK_E_P, err, LK_A_CLASS, "error", LK_A_ROLE, "alert", LK_A__MAX);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "scroll", LK_A_TABINDEX, "0", LK_A_ROLE, "region",
	    LK_A_ARIA_LABEL, "Users (scrolls sideways)", LK_A__MAX);
	lk_html_elem(h, LK_E_TABLE, LK_A_ID, "users", LK_A__MAX);
	lk_html_leaf(h, LK_E_CAPTION, "People who can log in to this console", LK_A__MAX);
	lk_html_elem(h, LK_E_THEAD, LK_A__MAX);
	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "Email", LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "Role", LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "Account", LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "State", LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_leaf(h, LK_E_TH, "Change", LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_elem(h, LK_E_TBODY, LK_A__MAX);
	json_array_foreach(page.data, i, o) {
		const char *id = lk_admin_str(o, "id");
		bool disabled = json_is_true(json_object_get(o, "disabled"));
		bool self = strcmp(id, a->s.user.public_id) == 0;

		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		lk_html_leaf(h, LK_E_TD, lk_admin_str(o, "email"), LK_A__MAX);
		lk_html_leaf(h, LK_E_TD, lk_admin_str(o, "role"), LK_A__MAX);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_html_leaf(h, LK_E_CODE, lk_admin_str(o, "account_id"), LK_A__MAX);
		lk_html_close(h);
		lk_html_leaf(h, LK_E_TD, disabled ? "disabled" : "active", LK_A__MAX);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		if (!self && lk_users_may_manage(a->caller.key.scopes, lk_admin_str(o, "role"))) {
			snprintf(href, sizeof(href), LK_ADMIN_BASE "/users/%s/role", id);
			lk_admin_form(a, href, "inline");
			snprintf(fid, sizeof(fid), "role-%s", id);
			lk_html_leaf(h, LK_E_LABEL, "Role", LK_A_FOR, fid, LK_A__MAX);
			lk_html_elem(h, LK_E_SELECT, LK_A_ID, fid, LK_A_NAME, "role", LK_A__MAX);
			for (size_t r = 0; lk_roles[r] != NULL; r++)
				lk_html_leaf(h, LK_E_OPTION, lk_roles[r], LK_A_VALUE, lk_roles[r],
				    LK_A_SELECTED, strcmp(lk_roles[r], lk_admin_str(o, "role")) == 0 ? "" : NULL,
				    LK_A__MAX);
			lk_html_close(h);
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
	lk_admin_form(a, LK_ADMIN_BASE "/users/new", "stack");
	if (err_id == NULL || strcmp(err_id, "new") != 0)
		err_field = NULL;
	lk_admin_input(a, "Email", "email", "email", "", NULL, err_field, err);
	lk_admin_select(a, "Role", "role", lk_roles, "viewer");
	lk_admin_account_select(a, "Account", "account_id", tree, NULL);
	lk_admin_input(a, "Password", "password", "password", "",
	    "Leave empty to generate one (shown once).", err_field, err);
	lk_admin_button(a, "Add user", NULL);
	lk_html_close(h);
	lk_page_free(&page);
	json_decref(tree);
	return lk_admin_end(a, status);
}

/* A user the caller may manage: in its subtree (else 404) and dominated (else 403). */
static enum lk_err
managed_user(struct lk_admin *a, const char *id, struct lk_user *u)
{
	enum lk_err e;

	if (!lk_crypto_public_id_ok(id, "usr_") ||
	    (e = lk_users_get(a->req->db, id, u)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && !lk_path_within(u->account_path, a->caller.key.account_path)))
		return lk_req_fail(a->req, LK_ERR_NOT_FOUND, NULL, "No such user.");
	if (e != LK_OK)
		return e;
	if (strcmp(u->public_id, a->s.user.public_id) == 0)
		return lk_req_fail(a->req, LK_ERR_FORBIDDEN, NULL,
		    "Change your own account under Password; an owner can change your role.");
	if (!lk_users_may_manage(a->caller.key.scopes, u->role))
		return lk_req_fail(a->req, LK_ERR_FORBIDDEN, NULL,
		    "You cannot change a user who holds scopes you do not hold.");
	return LK_OK;
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req		*req = a->req;
	struct lk_actor		 actor = { a->s.user.public_id, req->ip, req->request_id };
	struct lk_account	 acct;
	struct lk_user		 u;
	char			 gen[LK_PASSWORD_GEN + 1];
	const char		*email = lk_admin_value(a, "email"), *role = lk_admin_value(a, "role");
	const char		*pw = lk_admin_value(a, "password");
	enum lk_err		 e;

	if (!lk_email_ok(email))
		return users_page(a, 400, "new", "email", "Enter an email address such as name@example.com.");
	if (lk_role_scopes(role) == NULL)
		return users_page(a, 400, "new", "role", "Choose owner, developer or viewer.");
	if (!lk_users_may_manage(a->caller.key.scopes, role))
		return users_page(a, 403, "new", "role", "You cannot give a role above your own.");
	if (*pw != '\0' && !lk_password_ok(pw))
		return users_page(a, 400, "new", "password",
		    "A password is 10 to 128 characters without control characters.");
	if (!lk_crypto_public_id_ok(lk_admin_value(a, "account_id"), "acct_") ||
	    (e = lk_accounts_get(req->db, lk_admin_value(a, "account_id"), &acct)) ==
	    LK_ERR_NOT_FOUND || (e == LK_OK && !lk_path_within(acct.path,
	    a->caller.key.account_path)))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such account.");
	if (e != LK_OK)
		return e;
	if (*pw == '\0') {
		if (!lk_password_generate(gen, sizeof(gen)))
			return LK_ERR_INTERNAL;
		pw = gen;
	}
	e = lk_users_create(req->db, req->conf, &actor, &acct, email, role, pw, req->now, &u);
	if (e == LK_ERR_CONFLICT)
		return users_page(a, 409, "new", "email", "There is already a user with this email.");
	if (e != LK_OK)
		return e;
	lk_admin_begin(a, "Users", "users");
	lk_html_leaf(&a->h, LK_E_P, "The user was added.", LK_A_CLASS, "notice", LK_A_ROLE,
	    "status", LK_A__MAX);
	if (pw == gen)
		password_once(a, u.email, gen);
	lk_crypto_wipe(gen, sizeof(gen));
	json_decref(a->form);
	a->form = NULL;
	return users_page(a, 201, NULL, NULL, NULL);
}

static enum lk_err
change(struct lk_admin *a, const char *id, const char *action)
{
	struct lk_req	*req = a->req;
	struct lk_actor	 actor = { a->s.user.public_id, req->ip, req->request_id };
	struct lk_user	 u;
	char		 gen[LK_PASSWORD_GEN + 1];
	enum lk_err	 e;

	if ((e = managed_user(a, id, &u)) != LK_OK)
		return e;
	if (strcmp(action, "role") == 0) {
		const char *role = lk_admin_value(a, "role");

		if (lk_role_scopes(role) == NULL)
			return lk_req_fail(req, LK_ERR_VALIDATION, "role",
			    "Choose owner, developer or viewer.");
		if (!lk_users_may_manage(a->caller.key.scopes, role))
			return lk_req_fail(req, LK_ERR_FORBIDDEN, "role",
			    "You cannot give a role above your own.");
		e = lk_users_set_role(req->db, &actor, &u, role, req->now);
	} else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
		e = lk_users_set_disabled(req->db, &actor, &u, strcmp(action, "disable") == 0,
		    req->now);
	} else if (strcmp(action, "password") == 0) {
		if (!lk_password_generate(gen, sizeof(gen)))
			return LK_ERR_INTERNAL;
		e = lk_users_set_password(req->db, req->conf, &actor, &u, gen, 0, req->now);
		if (e != LK_OK)
			return e;
		lk_admin_begin(a, "Users", "users");
		password_once(a, u.email, gen);
		lk_crypto_wipe(gen, sizeof(gen));
		json_decref(a->form);
		a->form = NULL;
		return users_page(a, 200, NULL, NULL, NULL);
	} else
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if (e != LK_OK)
		return e;
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
		return users_page(a, 200, NULL, NULL, NULL);
	}
	if (a->method != LK_POST)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if (req->nsegs == 2 && strcmp(req->segs[1], "new") == 0)
		return create(a);
	if (req->nsegs == 3)
		return change(a, req->segs[1], req->segs[2]);
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
}
