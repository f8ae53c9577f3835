/* users.c — the console users' handlers (api/users.h); the rules are model/users'. */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/users.h"
#include "http/resp.h"
#include "model/users.h"


/*
 * The body's string fields, by name; any other field is 400. Values are
 * checked by the handlers, whose messages name what to enter.
 */
static enum lk_err
body_strings(struct lk_req *req, const char *const *names)
{
	const char	*name;
	json_t		*v;
	size_t		 i;

	json_object_foreach(req->body, name, v) {
		for (i = 0; names[i] != NULL && strcmp(names[i], name) != 0; i++)
			;
		if (names[i] == NULL || !json_is_string(v))
			return lk_req_fail(req, LK_ERR_VALIDATION, name,
			    "Unknown or read-only field '%.64s'", name);
	}
	return LK_OK;
}

static const char *
body_str(const struct lk_req *req, const char *name)
{
	const char *s = json_string_value(json_object_get(req->body, name));

	return s != NULL ? s : "";
}

/* The caller may give role: it exists (400) and the caller dominates it (403). */
static enum lk_err
role_ok(struct lk_req *req, const struct lk_caller *c, const char *role)
{
	if (lk_role_scopes(role) == NULL)
		return lk_req_fail(req, LK_ERR_VALIDATION, "role",
		    "Choose owner, developer or viewer.");
	if (!lk_users_may_manage(c->key.scopes, role))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, "role",
		    "You cannot give a role above your own.");
	return LK_OK;
}

static const struct lk_field list_fields[] = {
	LK_PAGE_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

static enum lk_err
list_users(struct lk_db *db, const struct lk_account *root, json_t *f, struct lk_page *page)
{
	(void)f;
	return lk_users_list(db, root, page);
}

static enum lk_err
list(struct lk_req *req, struct lk_caller *c)
{
	return lk_auth_list_subtree(req, c, list_fields, list_users);
}

static enum lk_err
create(struct lk_req *req, struct lk_caller *c)
{
	static const char *const names[] = { "email", "role", "account_id", "password", NULL };
	struct lk_account	 acct;
	struct lk_user		 u;
	char			 gen[LK_PASSWORD_GEN + 1];
	const char		*email, *role, *pw, *account;
	json_t			*o;
	enum lk_err		 e;

	if ((e = lk_req_read_body(req)) != LK_OK || (e = body_strings(req, names)) != LK_OK)
		return e;
	email = body_str(req, "email");
	role = body_str(req, "role");
	pw = body_str(req, "password");
	account = body_str(req, "account_id");
	/* every bad field at once (the console shows each next to its input) */
	if (!lk_email_ok(email))
		lk_req_invalid(req, "email", "Enter an email address such as name@example.com.");
	if (lk_role_scopes(role) == NULL)
		lk_req_invalid(req, "role", "Choose owner, developer or viewer.");
	if (*pw != '\0' && !lk_password_ok(pw))
		lk_req_invalid(req, "password",
		    "A password is 10 to 128 characters without control characters.");
	if ((e = lk_req_invalids(req)) != LK_OK || (e = role_ok(req, c, role)) != LK_OK)
		return e;
	if (!lk_crypto_public_id_ok(account, "acct_") ||
	    (e = lk_accounts_get(req->db, account, &acct)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && !lk_path_within(acct.path, c->key.owner.path)))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such account.");
	if (e != LK_OK)
		return e;
	if (*pw == '\0') {
		if (!lk_password_generate(gen, sizeof(gen)))
			return LK_ERR_INTERNAL;
		pw = gen;
	}
	e = lk_users_create(req->db, req->conf, &c->actor, &acct, email, role, pw, req->now, &u);
	if (e == LK_ERR_CONFLICT)
		e = lk_req_fail(req, e, "email", "There is already a user with this email.");
	if (e == LK_OK) {
		o = lk_user_json(&u);
		if (pw == gen)
			json_object_set_new(o, "password", json_string(gen));
		lk_resp_json(req, 201, o);
	}
	lk_crypto_wipe(gen, sizeof(gen));
	return e;
}

enum lk_err
lk_users_http_collection(struct lk_req *req)
{
	return lk_auth_collection(req, "admin", "admin", list, create);
}

/* A user the caller may manage: in its subtree (else 404) and dominated (else 403). */
static enum lk_err
managed_user(struct lk_req *req, const struct lk_caller *c, const char *id,
    struct lk_user *u)
{
	enum lk_err e;

	if (!lk_crypto_public_id_ok(id, "usr_") ||
	    (e = lk_users_get(req->db, id, u)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && !lk_path_within(u->owner.path, c->key.owner.path)))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such user.");
	if (e != LK_OK)
		return e;
	if (strcmp(u->public_id, c->key.public_id) == 0)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "Change your own account under Password; an owner can change your role.");
	if (!lk_users_may_manage(c->key.scopes, u->role))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "You cannot change a user who holds scopes you do not hold.");
	return LK_OK;
}

enum lk_err
lk_users_http_item(struct lk_req *req, const char *id, const char *action)
{
	static const char *const role_names[] = { "role", NULL }, *const none[] = { NULL };
	struct lk_caller	 c;
	struct lk_user		 u;
	char			 gen[LK_PASSWORD_GEN + 1];
	const char		*role;
	bool			 is_role = strcmp(action, "role") == 0;
	bool			 is_password = strcmp(action, "password") == 0;
	enum lk_err		 e;

	if (!is_role && !is_password && strcmp(action, "disable") != 0 &&
	    strcmp(action, "enable") != 0)
		return lk_req_no_route(req);
	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_auth_caller_scope(req, &c, "admin")) != LK_OK ||
	    (e = managed_user(req, &c, id, &u)) != LK_OK ||
	    (e = lk_req_read_body(req)) != LK_OK ||
	    (e = body_strings(req, is_role ? role_names : none)) != LK_OK)
		return e;
	if (is_role) {
		role = body_str(req, "role");
		if ((e = role_ok(req, &c, role)) != LK_OK ||
		    (e = lk_users_set_role(req->db, &c.actor, &u, role, req->now)) != LK_OK)
			return e;
	} else if (is_password) {
		if (!lk_password_generate(gen, sizeof(gen)))
			return LK_ERR_INTERNAL;
		e = lk_users_set_password(req->db, req->conf, &c.actor, &u, gen, 0, req->now);
		if (e == LK_OK) {
			json_t *o = lk_user_json(&u);

			json_object_set_new(o, "password", json_string(gen));
			lk_resp_json(req, 200, o);
		}
		lk_crypto_wipe(gen, sizeof(gen));
		return e;
	} else if ((e = lk_users_set_disabled(req->db, &c.actor, &u,
	    strcmp(action, "disable") == 0, req->now)) != LK_OK)
		return e;
	lk_resp_json(req, 200, lk_user_json(&u));
	return LK_OK;
}
