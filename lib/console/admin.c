/* admin.c — the console's frame, stylesheet, form helpers, error pages and API bridge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/scopes.h"
#include "base/timefmt.h"
#include "console/admin.h"
#include "http/resp.h"

/* Every console response carries these (plus no-store, nosniff and X-Request-Id from http/resp.c). */
static void
security_headers(struct lk_req *req)
{
	lk_req_header(req, "Content-Security-Policy",
	    "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
	lk_req_header(req, "Referrer-Policy", "same-origin");
}

static const char style[] =
":root{--fg:#1b1b1b;--bg:#fff;--muted:#595959;--line:#d0d0d0;--accent:#0b57a4;"
"--ok:#1e6b2e;--bad:#a4161a;--warn:#7a4a00;--soft:#f3f5f8}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg)}\n"
"header{background:#12233b;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}\n"
"header a{color:#fff}header .brand{font-weight:700;text-decoration:none;font-size:1.1rem}\n"
"nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\n"
"nav a[aria-current]{font-weight:700;text-decoration-thickness:3px}\n"
"header .who{margin-left:auto;display:flex;gap:.75rem;align-items:center;flex-wrap:wrap}\n"
"header .who button{background:none;border:1px solid #fff;color:#fff;padding:.2rem .6rem}\n"
"main{max-width:72rem;margin:0 auto;padding:1rem}\n"
"h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\n"
"a{color:var(--accent)}\n"
"table{border-collapse:collapse;width:100%;margin:.5rem 0}\n"
"th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}\n"
"th{background:var(--soft)}\n"
".scroll{overflow-x:auto}\n"
"form.stack{display:grid;gap:.75rem;max-width:40rem}\n"
"form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.5rem 0}\n"
".field{display:flex;flex-direction:column;gap:.2rem}\n"
"label{font-weight:600}\n"
"input,select,textarea,button{font:inherit;padding:.4rem .5rem;border:1px solid #767676;border-radius:4px;max-width:100%}\n"
"textarea{width:100%;font-family:ui-monospace,monospace}\n"
"input[type=checkbox]{width:1.1rem;height:1.1rem}\n"
"fieldset{border:1px solid var(--line);border-radius:4px}\n"
".checks label{font-weight:400;display:inline-flex;gap:.3rem;align-items:center;margin-right:1rem}\n"
"button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer}\n"
"button.danger{background:var(--bad);border-color:var(--bad)}\n"
"button.plain{background:#fff;color:var(--accent)}\n"
"a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #f2a900;outline-offset:2px}\n"
".hint{color:var(--muted);font-size:.9rem}\n"
".error{color:var(--bad);font-weight:600}\n"
".notice{background:#e8f1fb;border-left:4px solid var(--accent);padding:.5rem .75rem;margin:.5rem 0}\n"
".banner{background:#fff4e0;border-left:4px solid var(--warn);padding:.5rem .75rem;margin:.5rem 0}\n"
".secret{background:#fff4e0;border:2px dashed var(--warn);padding:.75rem;margin:.5rem 0}\n"
".secret code{font-size:1.05rem;word-break:break-all;user-select:all}\n"
".status-active{color:var(--ok);font-weight:600}\n"
".status-revoked{color:var(--bad);font-weight:600}\n"
".status-expired{color:var(--warn);font-weight:600}\n"
".status-active::before{content:'\\25CF  '}.status-revoked::before{content:'\\2716  '}"
".status-expired::before{content:'\\25D4  '}\n"
"dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}\n"
"dl.fields dt{font-weight:600}dl.fields dd{margin:0;word-break:break-word}\n"
".actions{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}\n"
".tree li{margin:.2rem 0}.tree ul{padding-left:1.5rem}\n"
"td.d1{padding-left:1.5rem}td.d2{padding-left:3rem}td.d3{padding-left:4.5rem}"
"td.d4{padding-left:6rem}td.d5{padding-left:7.5rem}td.d6{padding-left:9rem}"
"td.d7{padding-left:10.5rem}td.d8{padding-left:12rem}\n"
"pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:.9rem}\n"
".chart{max-width:100%;height:auto;border:1px solid var(--line)}\n"
".legend span{display:inline-block;margin-right:1rem}\n"
".sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}\n"
".pager{display:flex;gap:1rem;margin:.5rem 0}\n"
"@media (max-width:40rem){th,td{padding:.3rem}header .who{margin-left:0}}\n";

enum lk_err
lk_admin_style(struct lk_req *req)
{
	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	security_headers(req);
	lk_resp_body(req, 200, "text/css; charset=utf-8", style, sizeof(style) - 1);
	return LK_OK;
}

static void
nav_item(struct lk_admin *a, const char *area, const char *name, const char *text)
{
	char href[64];

	snprintf(href, sizeof(href), LK_ADMIN_BASE "/%s", name);
	lk_html_elem(&a->h, LK_E_LI, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_A, text, LK_A_HREF, href, LK_A_ARIA_CURRENT,
	    area != NULL && strcmp(area, name) == 0 ? "page" : NULL, LK_A__MAX);
	lk_html_close(&a->h);
}

void
lk_admin_begin(struct lk_admin *a, const char *title, const char *area)
{
	struct lk_html *h = &a->h;

	lk_html_free(h);
	lk_html_init(h);
	lk_html_elem(h, LK_E_HTML, LK_A_LANG, "en", LK_A__MAX);
	lk_html_elem(h, LK_E_HEAD, LK_A__MAX);
	lk_html_elem(h, LK_E_META, LK_A_CHARSET, "utf-8", LK_A__MAX);
	lk_html_elem(h, LK_E_META, LK_A_NAME, "viewport",
	    LK_A_CONTENT, "width=device-width, initial-scale=1", LK_A__MAX);
	lk_html_elem(h, LK_E_TITLE, LK_A__MAX);
	lk_html_textf(h, "%s · latchkey", title);
	lk_html_close(h);
	lk_html_elem(h, LK_E_LINK, LK_A_REL, "stylesheet",
	    LK_A_HREF, LK_ADMIN_BASE "/style.css", LK_A__MAX);
	lk_html_close(h);	/* head */
	lk_html_elem(h, LK_E_BODY, LK_A__MAX);
	lk_html_elem(h, LK_E_HEADER, LK_A__MAX);
	lk_html_leaf(h, LK_E_A, "latchkey", LK_A_CLASS, "brand",
	    LK_A_HREF, LK_ADMIN_BASE "/keys", LK_A__MAX);
	if (a->s.id != 0) {
		lk_html_elem(h, LK_E_NAV, LK_A_ARIA_LABEL, "Main", LK_A__MAX);
		lk_html_elem(h, LK_E_UL, LK_A__MAX);
		nav_item(a, area, "keys", "Keys");
		nav_item(a, area, "accounts", "Accounts");
		if (lk_admin_can(a, "audit:read"))
			nav_item(a, area, "audit", "Audit log");
		if (lk_admin_can(a, "admin"))
			nav_item(a, area, "users", "Users");
		lk_html_close(h);
		lk_html_close(h);
		lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "who", LK_A__MAX);
		lk_html_elem(h, LK_E_SPAN, LK_A__MAX);
		lk_html_textf(h, "%s (%s)", a->s.user.email, a->s.user.role);
		lk_html_close(h);
		if (!a->req->conf->admin_trust_remote_user) {
			lk_html_leaf(h, LK_E_A, "Password", LK_A_HREF,
			    LK_ADMIN_BASE "/password", LK_A__MAX);
			lk_admin_form(a, LK_ADMIN_BASE "/logout", "inline-logout");
			lk_html_leaf(h, LK_E_BUTTON, "Log out", LK_A_TYPE, "submit", LK_A__MAX);
			lk_html_close(h);
		}
		lk_html_close(h);
	}
	lk_html_close(h);	/* header */
	lk_html_elem(h, LK_E_MAIN, LK_A_ID, "main", LK_A__MAX);
	lk_html_leaf(h, LK_E_H1, title, LK_A__MAX);
	if (a->notice[0] != '\0')
		lk_html_leaf(h, LK_E_P, a->notice, LK_A_CLASS, "notice", LK_A_ROLE, "status",
		    LK_A__MAX);
}

enum lk_err
lk_admin_end(struct lk_admin *a, int status)
{
	struct lk_req *req = a->req;

	lk_html_closeto(&a->h, 0);
	if (a->h.failed) {
		lk_html_free(&a->h);
		return LK_ERR_INTERNAL;
	}
	security_headers(req);
	lk_resp_body(req, status, "text/html; charset=utf-8", a->h.buf, a->h.len);
	lk_html_free(&a->h);
	return LK_OK;
}

enum lk_err
lk_admin_redirect(struct lk_admin *a, const char *path)
{
	security_headers(a->req);
	lk_req_header(a->req, "Location", path);
	lk_resp_body(a->req, 303, "text/plain; charset=utf-8", NULL, 0);
	return LK_OK;
}

enum lk_err
lk_admin_error(struct lk_admin *a, enum lk_err e)
{
	struct lk_req	*req = a->req;
	char		 msg[sizeof(req->err_message)];

	snprintf(msg, sizeof(msg), "%s", req->err_message[0] ? req->err_message :
	    lk_err_message(e));
	if (e == LK_ERR_FORBIDDEN && !req->err_message[0])
		snprintf(msg, sizeof(msg), "Your role does not allow this.");
	lk_admin_begin(a, lk_err_status(e) == 404 ? "Not found" :
	    lk_err_status(e) == 403 ? "Not allowed" : "Something went wrong", NULL);
	lk_html_elem(&a->h, LK_E_DL, LK_A_CLASS, "fields", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_DT, "Status", LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_html_textf(&a->h, "%d", lk_err_status(e));
	lk_html_close(&a->h);
	lk_html_leaf(&a->h, LK_E_DT, "Code", LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_CODE, lk_err_code(e), LK_A__MAX);
	lk_html_close(&a->h);
	lk_html_leaf(&a->h, LK_E_DT, "Message", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_DD, msg, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_DT, "Request id", LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_CODE, req->request_id, LK_A__MAX);
	lk_html_close(&a->h);
	lk_html_close(&a->h);
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_A, "Back to the keys", LK_A_HREF, LK_ADMIN_BASE "/keys",
	    LK_A__MAX);
	lk_html_close(&a->h);
	if (e == LK_ERR_RATE_LIMITED && strstr(req->extra_headers, "Retry-After") == NULL)
		lk_req_header(req, "Retry-After", "60");
	return lk_admin_end(a, lk_err_status(e));
}

bool
lk_admin_can(const struct lk_admin *a, const char *scope)
{
	return lk_scopes_allow(a->caller.key.scopes, scope);
}

enum lk_err
lk_admin_require(struct lk_admin *a, const char *scope)
{
	if (lk_admin_can(a, scope))
		return LK_OK;
	return lk_req_fail(a->req, LK_ERR_FORBIDDEN, NULL,
	    "Your role (%s) does not include '%s'.", a->s.user.role, scope);
}

void
lk_admin_form(struct lk_admin *a, const char *action, const char *cls)
{
	lk_html_elem(&a->h, LK_E_FORM, LK_A_METHOD, "post", LK_A_ACTION, action,
	    LK_A_CLASS, cls, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "csrf_token",
	    LK_A_VALUE, a->s.csrf, LK_A__MAX);
}

void
lk_admin_alert(struct lk_admin *a, const char *message)
{
	lk_html_leaf(&a->h, LK_E_P, message, LK_A_CLASS, "error", LK_A_ROLE, "alert", LK_A__MAX);
}

void
lk_admin_table(struct lk_admin *a, const char *label, enum lk_attr attr, const char *value,
    const char *caption, const char *const *heads, size_t n)
{
	struct lk_html	*h = &a->h;
	size_t		 i;

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "scroll", LK_A_TABINDEX, "0", LK_A_ROLE, "region",
	    LK_A_ARIA_LABEL, label, LK_A__MAX);
	lk_html_elem(h, LK_E_TABLE, attr, value, LK_A__MAX);
	lk_html_leaf(h, LK_E_CAPTION, caption, LK_A__MAX);
	lk_html_elem(h, LK_E_THEAD, LK_A__MAX);
	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	for (i = 0; i < n; i++)
		lk_html_leaf(h, LK_E_TH, heads[i], LK_A_SCOPE, "col", LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_elem(h, LK_E_TBODY, LK_A__MAX);
}

const char *
lk_admin_str(json_t *o, const char *name)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL ? s : "";
}

enum lk_err
lk_admin_tree(struct lk_admin *a, struct lk_account *root, json_t **tree)
{
	struct lk_account	 mine;
	enum lk_err		 e;

	if (root == NULL)
		root = &mine;
	*tree = NULL;
	if ((e = lk_accounts_get(a->req->db, a->caller.key.owner.public_id, root)) != LK_OK)
		return e;
	return lk_accounts_tree(a->req->db, root, LK_ADMIN_TREE_MAX, tree);
}

const char *
lk_admin_value(const struct lk_admin *a, const char *name)
{
	json_t *v = json_object_get(a->form, name);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_string(v) ? json_string_value(v) : "";
}

void
lk_admin_input(struct lk_admin *a, const char *label, const char *name,
    const char *type, const char *value, const char *hint, const char *err_field,
    const char *err)
{
	struct lk_html	*h = &a->h;
	char		 id[80], hid[90], eid[90], desc[200];
	bool		 bad = err_field != NULL && strcmp(err_field, name) == 0;
	/* the posted value when this form was posted; another form of the page keeps the default */
	const char	*v = json_object_get(a->form, name) != NULL ? lk_admin_value(a, name) : value;

	if (strcmp(type, "password") == 0)
		v = "";		/* never sent back */
	snprintf(id, sizeof(id), "f-%s", name);
	snprintf(hid, sizeof(hid), "%s-hint", id);
	snprintf(eid, sizeof(eid), "%s-error", id);
	snprintf(desc, sizeof(desc), "%s%s%s", bad ? eid : "",
	    bad && hint != NULL ? " " : "", hint != NULL ? hid : "");
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, label, LK_A_FOR, id, LK_A__MAX);
	if (bad)
		lk_html_leaf(h, LK_E_SPAN, err, LK_A_CLASS, "error", LK_A_ID, eid, LK_A__MAX);
	if (strcmp(type, "textarea") == 0)
		lk_html_leaf(h, LK_E_TEXTAREA, v != NULL ? v : "", LK_A_ID, id,
		    LK_A_NAME, name, LK_A_ROWS, "4",
		    LK_A_ARIA_INVALID, bad ? "true" : NULL,
		    LK_A_ARIA_DESCRIBEDBY, desc[0] ? desc : NULL, LK_A__MAX);
	else
		lk_html_elem(h, LK_E_INPUT, LK_A_ID, id, LK_A_NAME, name, LK_A_TYPE, type,
		    LK_A_VALUE, v != NULL ? v : "",
		    LK_A_AUTOCOMPLETE, strcmp(type, "password") == 0 ? "new-password" :
		    strcmp(type, "email") == 0 ? "email" : "off",
		    LK_A_ARIA_INVALID, bad ? "true" : NULL,
		    LK_A_ARIA_DESCRIBEDBY, desc[0] ? desc : NULL, LK_A__MAX);
	if (hint != NULL)
		lk_html_leaf(h, LK_E_SPAN, hint, LK_A_CLASS, "hint", LK_A_ID, hid, LK_A__MAX);
	lk_html_close(h);
}

void
lk_admin_select(struct lk_admin *a, const char *label, const char *name,
    const char *const *choices, const char *value)
{
	struct lk_html	*h = &a->h;
	char		 id[80];
	const char	*v = a->form != NULL && *lk_admin_value(a, name) ?
	    lk_admin_value(a, name) : value;

	snprintf(id, sizeof(id), "f-%s", name);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_admin_choices(a, label, id, name, choices, v);
	lk_html_close(h);
}

void
lk_admin_choices(struct lk_admin *a, const char *label, const char *id, const char *name,
    const char *const *choices, const char *selected)
{
	struct lk_html	*h = &a->h;
	size_t		 i;

	lk_html_leaf(h, LK_E_LABEL, label, LK_A_FOR, id, LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, id, LK_A_NAME, name, LK_A__MAX);
	for (i = 0; choices[i] != NULL; i++)
		lk_html_leaf(h, LK_E_OPTION, choices[i], LK_A_VALUE, choices[i],
		    LK_A_SELECTED, selected != NULL && strcmp(selected, choices[i]) == 0 ? "" : NULL,
		    LK_A__MAX);
	lk_html_close(h);
}

void
lk_admin_code_cell(struct lk_admin *a, const char *text)
{
	lk_html_elem(&a->h, LK_E_TD, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_CODE, text, LK_A__MAX);
	lk_html_close(&a->h);
}

void
lk_admin_account_select(struct lk_admin *a, const char *label, const char *name, json_t *tree,
    const char *selected)
{
	/* "· " is three bytes in UTF-8: indent by whole steps (deeper than 12 stays at 12) */
	static const char	 indent[] = "· · · · · · · · · · · · ";
	struct lk_html		*h = &a->h;
	char			 id[80], text[600];
	json_t			*o;
	size_t			 i;

	snprintf(id, sizeof(id), "f-%s", name);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, label, LK_A_FOR, id, LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, id, LK_A_NAME, name, LK_A__MAX);
	json_array_foreach(tree, i, o) {
		const char	*acct = json_string_value(json_object_get(o, "id"));
		const char	*aname = json_string_value(json_object_get(o, "name"));
		int		 d = (int)json_integer_value(json_object_get(o, "depth"));

		if (acct == NULL)
			continue;
		snprintf(text, sizeof(text), "%.*s%s", d * 3, indent, aname != NULL ? aname : "");
		lk_html_leaf(h, LK_E_OPTION, text, LK_A_VALUE, acct, LK_A_SELECTED,
		    selected != NULL && strcmp(selected, acct) == 0 ? "" : NULL, LK_A__MAX);
	}
	lk_html_close(h);
	lk_html_close(h);
}

void
lk_admin_button(struct lk_admin *a, const char *text, const char *cls)
{
	lk_html_leaf(&a->h, LK_E_BUTTON, text, LK_A_TYPE, "submit", LK_A_CLASS, cls, LK_A__MAX);
}

void
lk_admin_reltime(struct lk_admin *a, int64_t t, const char *never, bool exact)
{
	char		 when[LK_TIME_MAX], rel[64];
	int64_t		 d = t - a->req->now, ad = d < 0 ? -d : d;
	const char	*unit;
	int64_t		 n;

	if (t == 0) {
		lk_html_text(&a->h, never);
		return;
	}
	if (ad < 60) {
		n = ad;
		unit = "s";
	} else if (ad < 3600) {
		n = ad / 60;
		unit = "min";
	} else if (ad < 86400 * 2) {
		n = ad / 3600;
		unit = "h";
	} else {
		n = ad / 86400;
		unit = "days";
	}
	if (ad <= 1)	/* this second or the last: a page made right after a change */
		snprintf(rel, sizeof(rel), "just now");
	else if (d > 0)
		snprintf(rel, sizeof(rel), "in %lld %s", (long long)n, unit);
	else
		snprintf(rel, sizeof(rel), "%lld %s ago", (long long)n, unit);
	lk_time_format(t, when);
	lk_html_leaf(&a->h, LK_E_SPAN, rel, LK_A_TITLE, when, LK_A__MAX);
	if (exact) {
		lk_html_text(&a->h, " ");
		lk_html_leaf(&a->h, LK_E_SMALL, when, LK_A_CLASS, "hint", LK_A__MAX);
	}
}

/* ---- the bridge to the API handlers ---- */

void
lk_admin_api_begin(struct lk_admin *a, enum lk_method m, json_t *body, json_t *query)
{
	struct lk_req *req = a->req;

	json_decref(req->body);
	req->body = body != NULL ? body : json_object();
	json_decref(req->query);
	req->query = query != NULL ? query : json_object();
	json_decref(req->err_details);
	req->err_details = NULL;
	req->err_message[0] = '\0';
	json_decref(req->captured);
	req->captured = NULL;
	req->captured_status = 0;
	a->method = req->method;
	req->method = m;
	req->caller = &a->caller;
	req->capture = true;
	req->responded = false;
}

enum lk_err
lk_admin_api_end(struct lk_admin *a, enum lk_err e)
{
	struct lk_req *req = a->req;

	req->caller = NULL;
	req->capture = false;
	req->responded = false;
	req->method = a->method;
	return e;
}

const char *
lk_admin_err_field(const struct lk_admin *a)
{
	return json_string_value(json_object_get(a->req->err_details, "field"));
}
