/* admin_login.c — the console's gate: sessions, CSRF and origin checks, login, logout, password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "console/admin.h"

/*
 * Same origin: the Origin header names this host (scheme from HTTPS), or,
 * without Origin, the browser says Sec-Fetch-Site: same-origin. A POST with
 * neither is refused.
 */
static bool
same_origin(struct lk_req *req)
{
	const char	*origin = lk_req_param(req, "HTTP_ORIGIN");
	const char	*site = lk_req_param(req, "HTTP_SEC_FETCH_SITE");
	const char	*host = lk_req_param(req, "HTTP_HOST");
	const char	*https = lk_req_param(req, "HTTPS");
	char		 want[300];

	if (site != NULL && strcmp(site, "same-origin") != 0)
		return false;
	if (origin == NULL)
		return site != NULL;
	if (host == NULL)
		return false;
	snprintf(want, sizeof(want), "%s://%s",
	    https != NULL && strcmp(https, "on") == 0 ? "https" : "http", host);
	return strcmp(origin, want) == 0;
}

static void
set_cookie(struct lk_req *req, const char *sid)
{
	char cookie[200];

	lk_sessions_set_cookie(req->conf, sid, cookie, sizeof(cookie));
	lk_req_header(req, "Set-Cookie", cookie);
}

/* ---- the login page ---- */

static enum lk_err
login_page(struct lk_admin *a, int status, const char *err)
{
	struct lk_html *h = &a->h;

	lk_admin_begin(a, "Log in", NULL);
	if (a->req->conf->admin_insecure_cookie)
		lk_html_leaf(h, LK_E_P, "Plain-HTTP development mode: the session cookie is "
		    "sent without Secure and without the __Host- prefix "
		    "(admin_insecure_cookie = yes). Use it on 127.0.0.1 only.",
		    LK_A_CLASS, "banner", LK_A__MAX);
	if (err != NULL)
		lk_admin_alert(a, err);
	lk_html_elem(h, LK_E_FORM, LK_A_METHOD, "post", LK_A_ACTION, LK_ADMIN_BASE "/login",
	    LK_A_CLASS, "stack", LK_A__MAX);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Email", LK_A_FOR, "f-email", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_ID, "f-email", LK_A_NAME, "email", LK_A_TYPE, "email",
	    LK_A_AUTOCOMPLETE, "username", LK_A_REQUIRED, "",
	    LK_A_VALUE, lk_admin_value(a, "email"), LK_A__MAX);
	lk_html_close(h);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Password", LK_A_FOR, "f-password", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_ID, "f-password", LK_A_NAME, "password",
	    LK_A_TYPE, "password", LK_A_AUTOCOMPLETE, "current-password", LK_A_REQUIRED, "",
	    LK_A__MAX);
	lk_html_close(h);
	lk_admin_button(a, "Log in", NULL);
	lk_html_close(h);
	return lk_admin_end(a, status);
}

/* 429: the login page saying why (what) and how long to wait, with Retry-After. */
static enum lk_err
throttled_page(struct lk_admin *a, const char *what, int64_t retry_after)
{
	char retry[32], msg[160];

	snprintf(retry, sizeof(retry), "%lld", (long long)retry_after);
	lk_req_header(a->req, "Retry-After", retry);
	snprintf(msg, sizeof(msg), "%s Try again in %lld minute(s).", what,
	    (long long)(retry_after + 59) / 60);
	return login_page(a, 429, msg);
}

enum lk_err
lk_admin_login(struct lk_req *req)
{
	struct lk_admin		 a;
	struct lk_session	 s;
	char			 sid[LK_SESSION_ID_LEN + 1];
	const char		*email, *password;
	int64_t			 retry_after;
	enum lk_err		 e;

	memset(&a, 0, sizeof(a));
	a.req = req;
	if (req->conf->admin_trust_remote_user)
		return lk_admin_redirect(&a, LK_ADMIN_BASE "/keys");
	if (req->method == LK_GET)
		return login_page(&a, 200, NULL);
	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "GET, POST");
	if (!same_origin(req))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "The form was not sent from this site.");
	if ((e = lk_req_read_body(req)) != LK_OK)
		return e;
	a.form = req->body;
	email = lk_admin_value(&a, "email");
	password = lk_admin_value(&a, "password");
	if (!lk_fields_text_ok(email, LK_EMAIL_MAX) || strlen(password) > LK_PASSWORD_MAX)
		return login_page(&a, 401, "Wrong email or password.");
	e = lk_sessions_login(req, email, password, sid, &s, &retry_after);
	if (e == LK_ERR_INVALID_KEY)
		return login_page(&a, 401, "Wrong email or password.");
	if (e == LK_ERR_RATE_LIMITED)
		return throttled_page(&a, "Too many failed logins.", retry_after);
	if (e != LK_OK)
		return e;
	set_cookie(req, sid);
	lk_crypto_wipe(sid, sizeof(sid));
	return lk_admin_redirect(&a, LK_ADMIN_BASE "/keys");
}

/* ---- logout and the user's own password ---- */

enum lk_err
lk_admin_logout(struct lk_admin *a)
{
	enum lk_err e;

	if (a->method != LK_POST)
		return lk_req_method_not_allowed(a->req, "POST");
	if ((e = lk_sessions_logout(a->req, &a->s)) != LK_OK)
		return e;
	set_cookie(a->req, NULL);
	return lk_admin_redirect(a, LK_ADMIN_BASE "/login");
}

static enum lk_err
password_page(struct lk_admin *a, int status, const char *field, const char *err)
{
	lk_admin_begin(a, "Change your password", NULL);
	lk_html_leaf(&a->h, LK_E_P, "Changing the password ends your other sessions.",
	    LK_A_CLASS, "hint", LK_A__MAX);
	lk_admin_form(a, LK_ADMIN_BASE "/password", "stack");
	lk_admin_input(a, "Current password", "current_password", "password", "", NULL,
	    field, err);
	lk_admin_input(a, "New password", "password", "password", "",
	    "10 to 128 characters.", field, err);
	lk_admin_button(a, "Change password", NULL);
	lk_html_close(&a->h);
	return lk_admin_end(a, status);
}

enum lk_err
lk_admin_password(struct lk_admin *a)
{
	struct lk_actor	 actor = { a->s.user.public_id, a->req->ip, a->req->request_id };
	int64_t		 retry_after;
	enum lk_err	 e;

	if (a->req->conf->admin_trust_remote_user)
		return lk_req_fail(a->req, LK_ERR_NOT_FOUND, NULL,
		    "Passwords are managed by the web server here.");
	if (a->method == LK_GET)
		return password_page(a, 200, NULL, NULL);
	e = lk_sessions_password_check(a->req, &a->s, lk_admin_value(a, "current_password"),
	    &retry_after);
	if (e == LK_ERR_INVALID_KEY)
		return password_page(a, 400, "current_password", "This is not your password.");
	if (e == LK_ERR_RATE_LIMITED) {
		/* The check ended this session: as after a logout, the user must log in again. */
		memset(&a->s, 0, sizeof(a->s));
		set_cookie(a->req, NULL);
		return throttled_page(a, "Too many wrong passwords: you were logged out.",
		    retry_after);
	}
	if (e != LK_OK)
		return e;
	if (!lk_password_ok(lk_admin_value(a, "password")))
		return password_page(a, 400, "password",
		    "A password is 10 to 128 characters without control characters.");
	e = lk_users_set_password(a->req->db, a->req->conf, &actor, &a->s.user,
	    lk_admin_value(a, "password"), a->s.id, a->req->now);
	if (e != LK_OK)
		return e;
	json_decref(a->form);
	a->form = NULL;
	snprintf(a->notice, sizeof(a->notice),
	    "Your password was changed; your other sessions were ended.");
	return password_page(a, 200, NULL, NULL);
}

/* ---- the gate ---- */

/* The session of this request: cookie, or REMOTE_USER when the web server authenticates. */
static enum lk_err
find_session(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	struct lk_user	 u;
	char		 sid[LK_SESSION_ID_LEN + 1];
	const char	*ru;
	bool		 have = lk_sessions_cookie(req, sid, sizeof(sid));
	enum lk_err	 e;

	e = have ? lk_sessions_check(req, sid, &a->s) : LK_ERR_NOT_FOUND;
	lk_crypto_wipe(sid, sizeof(sid));
	if (e != LK_OK && e != LK_ERR_NOT_FOUND)
		return e;
	if (!req->conf->admin_trust_remote_user)
		return e;
	/* The web server names the user; a session only carries the CSRF token. */
	ru = lk_req_param(req, "REMOTE_USER");
	if (ru == NULL || *ru == '\0')
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "The web server did not authenticate this request (no REMOTE_USER).");
	if (e == LK_OK && strcasecmp(a->s.user.email, ru) == 0)
		return LK_OK;
	if ((e = lk_users_by_email(req->db, ru, &u)) == LK_ERR_NOT_FOUND ||
	    (e == LK_OK && u.disabled_at != 0))
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "There is no enabled latchkey user named by REMOTE_USER.");
	if (e != LK_OK)
		return e;
	if ((e = lk_sessions_start(req, &u, "remote_user", sid, &a->s)) != LK_OK)
		return e;
	set_cookie(req, sid);
	lk_crypto_wipe(sid, sizeof(sid));
	return LK_OK;
}

static enum lk_err
route(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	const char	*area = req->nsegs > 0 ? req->segs[0] : "";
	enum lk_err	 e;

	if (req->method != LK_GET && req->method != LK_POST)
		return lk_req_method_not_allowed(req, "GET, POST");
	if ((e = find_session(a)) == LK_ERR_NOT_FOUND)
		return lk_admin_redirect(a, LK_ADMIN_BASE "/login");
	if (e != LK_OK)
		return e;
	lk_sessions_caller(&a->s, &a->caller);
	/* A console user acts as a key of its account would: refused while it is suspended. */
	if ((e = lk_accounts_suspended_on(req->db, a->caller.key.owner.path,
	    a->caller.key.policy.suspended_by, sizeof(a->caller.key.policy.suspended_by))) != LK_OK)
		return e;
	if (a->caller.key.policy.suspended_by[0] != '\0')
		return lk_req_fail(req, LK_ERR_ACCOUNT_SUSPENDED, NULL, "Your account%s is "
		    "suspended: the console is closed to its users until it is reactivated.",
		    strcmp(a->caller.key.policy.suspended_by, a->caller.key.owner.public_id) == 0 ?
		    "" : " (through an account above it)");
	a->method = req->method;
	if (req->method == LK_POST) {
		if (!same_origin(req))
			return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
			    "The form was not sent from this site.");
		if ((e = lk_req_read_body(req)) != LK_OK)
			return e;
		a->form = json_incref(req->body);
		if (!lk_sessions_csrf_ok(&a->s, lk_admin_value(a, "csrf_token"))) {
			json_decref(a->form);
			a->form = NULL;
			return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
			    "The form's security token is missing or stale. Reload the page and try again.");
		}
	}
	if (*area == '\0')
		return lk_admin_redirect(a, LK_ADMIN_BASE "/keys");
	if (strcmp(area, "keys") == 0)
		return lk_admin_keys(a);
	if (strcmp(area, "accounts") == 0)
		return lk_admin_accounts(a);
	if (strcmp(area, "audit") == 0)
		return lk_admin_audit(a);
	if (strcmp(area, "users") == 0)
		return lk_admin_users(a);
	if (strcmp(area, "webhooks") == 0)
		return lk_admin_webhooks(a);
	if (strcmp(area, "logout") == 0)
		return lk_admin_logout(a);
	if (strcmp(area, "password") == 0)
		return lk_admin_password(a);
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
}

enum lk_err
lk_admin_serve(struct lk_req *req)
{
	struct lk_admin	 a;
	enum lk_err	 e;

	if (req->nsegs == 1 && lk_admin_is_asset(req->segs[0]))
		return lk_admin_asset(req);
	memset(&a, 0, sizeof(a));
	a.req = req;
	if (req->nsegs >= 1 && strcmp(req->segs[0], "login") == 0)
		e = lk_admin_login(req);
	else
		e = route(&a);
	if (e != LK_OK && !req->responded) {
		json_decref(a.form);
		a.form = NULL;
		e = lk_admin_error(&a, e);
	}
	json_decref(a.form);
	json_decref(a.errors);
	lk_html_free(&a.h);
	return e;
}
