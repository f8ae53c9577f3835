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

/*
 * The stylesheet. Narrow screens (below 40rem) get one column: the data
 * tables of lk_admin_table stack each row into lines "heading: value" (the
 * cell's data-label), and cells of class "opt" are left out. Nothing may be
 * wider than the page at 1280 or 390 px (the browser test checks every
 * element): long ids and JSON break anywhere inside their cells.
 */
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
"header .who span{overflow-wrap:anywhere}\n"
"header .who button{background:none;border:1px solid #fff;color:#fff;padding:.2rem .6rem}\n"
"main{max-width:72rem;margin:0 auto;padding:1rem}\n"
"h1{font-size:1.5rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}\n"
"a{color:var(--accent)}\n"
"table{border-collapse:collapse;width:100%;margin:.5rem 0}\n"
"caption{text-align:left;color:var(--muted);padding:.25rem 0}\n"
"th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}\n"
"td{overflow-wrap:break-word}td code,td pre{overflow-wrap:anywhere}\n"
"th{background:var(--soft)}\n"
"th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
".scroll{overflow-x:auto}\n"
"form.stack{display:grid;gap:.75rem;max-width:40rem}\n"
"form.inline{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.5rem 0}\n"
".field{display:flex;flex-direction:column;gap:.2rem;min-width:0}\n"
"label{font-weight:600}\n"
"input,select,textarea,button{font:inherit;padding:.4rem .5rem;border:1px solid #767676;border-radius:4px;max-width:100%}\n"
"textarea{width:100%;font-family:ui-monospace,monospace}\n"
"input[type=checkbox]{width:1.1rem;height:1.1rem}\n"
"fieldset{border:1px solid var(--line);border-radius:4px;min-width:0}\n"
".checks label{font-weight:400;display:inline-flex;gap:.3rem;align-items:center;margin-right:1rem}\n"
"button,a.button,.primary a{background:var(--accent);color:#fff;border:1px solid var(--accent);cursor:pointer}\n"
"a.button,.primary a{display:inline-block;padding:.4rem .75rem;border-radius:4px;text-decoration:none;line-height:1.5}\n"
"button.danger{background:var(--bad);border-color:var(--bad)}\n"
"button.plain,a.button.plain{background:#fff;color:var(--accent)}\n"
"a.button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}\n"
"a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #f2a900;outline-offset:2px}\n"
".hint{color:var(--muted);font-size:.9rem}\n"
".error{color:var(--bad);font-weight:600}\n"
".notice{background:#e8f1fb;border-left:4px solid var(--accent);padding:.5rem .75rem;margin:.5rem 0}\n"
".banner{background:#fff4e0;border-left:4px solid var(--warn);padding:.5rem .75rem;margin:.5rem 0}\n"
".empty{border:1px dashed var(--line);border-radius:6px;padding:1.5rem 1rem;margin:.5rem 0;text-align:center}\n"
".secret{background:#fff4e0;border:2px dashed var(--warn);padding:.75rem 1rem;margin:.5rem 0 1rem}\n"
".keybox{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0;max-width:50rem}\n"
".keybox code{flex:1 1 18rem;min-width:0;font-size:1.05rem;overflow-wrap:anywhere;user-select:all;"
"background:#fff;border:1px solid var(--line);border-radius:4px;padding:.4rem .5rem}\n"
".status-active{color:var(--ok);font-weight:600}\n"
".status-revoked{color:var(--bad);font-weight:600}\n"
".status-expired{color:var(--warn);font-weight:600}\n"
".status-active::before{content:'\\25CF  '}.status-revoked::before{content:'\\2716  '}"
".status-expired::before{content:'\\25D4  '}\n"
"dl.fields{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.25rem 1rem;margin:0}\n"
"dl.fields dt{font-weight:600}dl.fields dd{margin:0;overflow-wrap:anywhere}\n"
".actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:1rem 0}\n"
".actions form{margin:0}\n"
".tree li{margin:.2rem 0}.tree ul{padding-left:1.5rem}\n"
"td.d1{padding-left:1.5rem}td.d2{padding-left:3rem}td.d3{padding-left:4.5rem}"
"td.d4{padding-left:6rem}td.d5{padding-left:7.5rem}td.d6{padding-left:9rem}"
"td.d7{padding-left:10.5rem}td.d8{padding-left:12rem}\n"
"pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.9rem}\n"
".pager{display:flex;gap:1rem;margin:.5rem 0}\n"
/* the key page: a line under the title, section links, panels */
".sub{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:baseline;margin:-.5rem 0 .75rem;color:var(--muted)}\n"
"nav.sections ul{gap:.25rem 1.5rem;padding-bottom:.5rem;border-bottom:1px solid var(--line);margin-bottom:.5rem}\n"
".panels{display:grid;grid-template-columns:minmax(0,1fr);gap:0 2.5rem}\n"
"@media (min-width:64rem){.panels{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}}\n"
"section{min-width:0}\n"
"details.edit{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;margin:.5rem 0}\n"
"details.edit[open]{padding-bottom:1rem}\n"
"summary{cursor:pointer;font-weight:600;padding:.25rem 0}\n"
/* the usage chart: bars and grid from the page's SVG, colours by outcome here */
".chart{display:block;width:100%;max-width:60rem;height:auto}\n"
".chart-narrow{display:none}\n"
".chart text{font-size:11px;fill:var(--fg)}.chart .ya{text-anchor:end}.chart .xl{text-anchor:middle}"
".chart .xr{text-anchor:end}.chart .val{text-anchor:middle;font-size:10px;fill:var(--muted)}\n"
".chart .grid{fill:#e4e4e4}.chart .axis{fill:var(--muted)}.chart .slot{fill:transparent}"
".chart .slot:hover{fill:var(--soft)}\n"
".o0{fill:#1e6b2e;background:#1e6b2e}.o1{fill:#c27c0e;background:#c27c0e}"
".o2{fill:#a4161a;background:#a4161a}.o3{fill:#595959;background:#595959}"
".o4{fill:#0b57a4;background:#0b57a4}.o5{fill:#6b3fa0;background:#6b3fa0}"
".o6{fill:#8a5a44;background:#8a5a44}.o7{fill:#c2185b;background:#c2185b}\n"
".legend{display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:.25rem 0;font-size:.9rem}\n"
".sw{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-.05rem}\n"
"table.days{width:auto;min-width:18rem}\n"
"@media (max-width:40rem){th,td{padding:.3rem}header .who{margin-left:0}"
"main{padding:1rem .75rem}"
".chart-wide{display:none}.chart-narrow{display:block}"
"table.days th{overflow-wrap:anywhere;font-size:.85rem}"
/* a table row becomes a block of lines; headings come from data-label */
".scroll table,.scroll tbody,.scroll tr,.scroll td{display:block;width:100%}"
".scroll thead{display:none}"
".scroll table:not(:has(td[data-label])) thead{display:block}"
".scroll table:not(:has(td[data-label])) thead tr{display:flex;flex-wrap:wrap;gap:0 .75rem}"
".scroll table:not(:has(td[data-label])) th{padding:.2rem 0;background:none;border:0}"
".scroll tr{border-bottom:1px solid var(--line);padding:.4rem 0}"
".scroll td{border:0;padding:.1rem 0}"
".scroll caption{display:block}"
".scroll td[data-label]{position:relative;padding-left:7rem}"
".scroll td[data-label]::before{content:attr(data-label);position:absolute;left:0;width:6.5rem;"
"font-weight:600;color:var(--muted)}"
".scroll td.opt{display:none}"
".scroll td[class^=d]{padding-left:0}}\n"
/* accounts, audit */
".acct-tree,.acct-tree ul{list-style:none;margin:0;padding:0}\n"
".acct-tree ul{margin-left:.6rem}\n"
".acct-tree ul>li{position:relative;padding-left:1.3rem}\n"
".acct-tree ul>li::before{content:'';position:absolute;left:0;top:0;width:1rem;height:1.25rem;"
"border-left:2px solid #8c8c8c;border-bottom:2px solid #8c8c8c}\n"
".acct-tree ul>li::after{content:'';position:absolute;left:0;top:1.25rem;bottom:0;"
"border-left:2px solid #8c8c8c}\n"
".acct-tree ul>li:last-child::after{display:none}\n"
".acct-tree .node{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 .6rem;padding:.25rem 0}\n"
".acct-tree .acct-name{font-weight:600}\n"
".plan{font-size:.85rem;border:1px solid #767676;border-radius:1rem;padding:0 .5rem}\n"
".acct-id,.acct-ref small,.acct-meta small,table.audit small{color:var(--muted)}\n"
".acct-tree,.acct-meta,#account-fields,.acct-ref,table.audit td,#users td,main h1{overflow-wrap:anywhere}\n"
".acct-tree .node>*{min-width:0}\n"
"ul.children{display:inline;margin:0;padding:0;list-style:none}"
"ul.children li{display:inline}ul.children li::before{content:' · '}\n"
".error-summary{border:3px solid var(--bad);padding:.25rem 1rem;margin:.5rem 0 1rem}\n"
".error-summary h2{margin:.5rem 0;font-size:1.1rem;color:var(--bad)}\n"
".error-summary ul{margin:.25rem 0 .5rem;padding-left:1.25rem}\n"
"[aria-invalid=true]{border:2px solid var(--bad)}\n"
"ul.changes{list-style:none;margin:0;padding:0}\n"
"ul.changes .fname{font-weight:600}\n"
"table.audit .at{white-space:nowrap}\n"
"ul.changes .old{text-decoration:line-through}\n"
"table.audit .at small,table.audit .target,table.audit .from{display:block}\n"
"form.audit-filter .hint{max-width:14rem}\n"
"form.stack{grid-template-columns:minmax(0,1fr)}\n"
"@media (max-width:40rem){"
".acct-tree ul{margin-left:.3rem}.acct-tree ul>li{padding-left:1rem}"
".acct-tree ul>li::before{width:.75rem}}\n";

/*
 * The console's one script: copy buttons. A button with data-copy="ID" (left
 * hidden by the page) is shown and copies the text of element ID; the status
 * element its aria-describedby names says what happened. Without the script
 * the page still shows the text, selectable with one click (user-select: all).
 */
static const char script[] =
"\"use strict\";\n"
"document.querySelectorAll(\"button[data-copy]\").forEach(function (b) {\n"
"\tvar src = document.getElementById(b.getAttribute(\"data-copy\"));\n"
"\tvar out = document.getElementById(b.getAttribute(\"aria-describedby\"));\n"
"\tif (src === null)\n"
"\t\treturn;\n"
"\tfunction said(ok) {\n"
"\t\tif (out !== null)\n"
"\t\t\tout.textContent = ok ? \"Copied to the clipboard.\" :\n"
"\t\t\t    \"Could not copy: select the text and copy it by hand.\";\n"
"\t}\n"
"\tfunction by_selection() {\n"
"\t\tvar r = document.createRange(), s = window.getSelection();\n"
"\t\tr.selectNodeContents(src);\n"
"\t\ts.removeAllRanges();\n"
"\t\ts.addRange(r);\n"
"\t\ttry {\n"
"\t\t\treturn document.execCommand(\"copy\");\n"
"\t\t} catch (e) {\n"
"\t\t\treturn false;\n"
"\t\t}\n"
"\t}\n"
"\tb.hidden = false;\n"
"\tb.addEventListener(\"click\", function () {\n"
"\t\tvar text = src.textContent;\n"
"\t\tif (navigator.clipboard && window.isSecureContext)\n"
"\t\t\tnavigator.clipboard.writeText(text).then(function () { said(true); },\n"
"\t\t\t    function () { said(by_selection()); });\n"
"\t\telse\n"
"\t\t\tsaid(by_selection());\n"
"\t});\n"
"});\n";

static const struct {
	const char	*name, *type, *body;
	size_t		 len;
} assets[] = {
	{ "style.css", "text/css; charset=utf-8", style, sizeof(style) - 1 },
	{ "admin.js", "text/javascript; charset=utf-8", script, sizeof(script) - 1 },
};

bool
lk_admin_is_asset(const char *name)
{
	size_t i;

	for (i = 0; i < LK_NELEM(assets); i++)
		if (strcmp(assets[i].name, name) == 0)
			return true;
	return false;
}

enum lk_err
lk_admin_asset(struct lk_req *req)
{
	size_t i;

	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	for (i = 0; i < LK_NELEM(assets); i++)
		if (req->nsegs == 1 && strcmp(assets[i].name, req->segs[0]) == 0) {
			security_headers(req);
			lk_resp_body(req, 200, assets[i].type, assets[i].body, assets[i].len);
			return LK_OK;
		}
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
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

/* After a refused form: how many fields need a change, each message a link to its input. */
static void
error_summary(struct lk_admin *a)
{
	struct lk_html	*h = &a->h;
	const char	*name;
	json_t		*msg;
	char		 href[80];
	size_t		 n = json_object_size(a->errors);

	if (n == 0)
		return;
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "error-summary", LK_A_ROLE, "alert",
	    LK_A_ARIA_LABELLEDBY, "error-summary", LK_A__MAX);
	lk_html_elem(h, LK_E_H2, LK_A_ID, "error-summary", LK_A__MAX);
	if (n == 1)
		lk_html_text(h, "One field needs a change");
	else
		lk_html_textf(h, "%zu fields need a change", n);
	lk_html_close(h);
	lk_html_elem(h, LK_E_UL, LK_A__MAX);
	json_object_foreach(a->errors, name, msg) {
		snprintf(href, sizeof(href), "#f-%s", name);
		lk_html_elem(h, LK_E_LI, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, json_string_value(msg), LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
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
	lk_html_leaf(h, LK_E_SCRIPT, NULL, LK_A_SRC, LK_ADMIN_BASE "/admin.js", LK_A_DEFER, "",
	    LK_A__MAX);
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
		if (lk_admin_can(a, "webhooks:read"))
			nav_item(a, area, "webhooks", "Webhooks");
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
	error_summary(a);
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

	json_decref(a->errors);		/* an error page has no form to correct */
	a->errors = NULL;
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
	const char	*name;
	json_t		*m;

	json_object_foreach(a->errors, name, m)
		if (strcmp(json_string_value(m), message) == 0)
			return;
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

void
lk_admin_cell(struct lk_admin *a, const char *label, const char *cls)
{
	lk_html_elem(&a->h, LK_E_TD, LK_A_DATA_LABEL, label, LK_A_CLASS, cls, LK_A__MAX);
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

void
lk_admin_account_name(struct lk_admin *a, json_t *tree, const char *id)
{
	struct lk_html	*h = &a->h;
	json_t		*o = NULL, *x;
	size_t		 i;
	char		 href[200];

	json_array_foreach(tree, i, x)
		if (strcmp(lk_admin_str(x, "id"), id) == 0) {
			o = x;
			break;
		}
	if (o == NULL) {
		lk_html_leaf(h, LK_E_CODE, id, LK_A__MAX);
		return;
	}
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts/%s", id);
	lk_html_elem(h, LK_E_SPAN, LK_A_CLASS, "acct-ref", LK_A__MAX);
	lk_html_leaf(h, LK_E_A, lk_admin_str(o, "name"), LK_A_HREF, href, LK_A_TITLE, id,
	    LK_A__MAX);
	lk_html_text(h, " ");
	lk_html_elem(h, LK_E_SMALL, LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, id, LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
}

const char *
lk_admin_value(const struct lk_admin *a, const char *name)
{
	json_t *v = json_object_get(a->form, name);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_string(v) ? json_string_value(v) : "";
}

const char *
lk_admin_field_error(const struct lk_admin *a, const char *name, const char *err_field,
    const char *err)
{
	const char *m = json_string_value(json_object_get(a->errors, name));

	if (m != NULL)
		return m;
	return err_field != NULL && strcmp(err_field, name) == 0 ? err : NULL;
}

/*
 * Open a field box for a select named name (id "f-<name>" in id, its error's
 * id in eid): its message, if any, is shown first. NULL or the error's id.
 */
static const char *
select_box(struct lk_admin *a, const char *name, char id[80], char eid[90])
{
	const char *msg = lk_admin_field_error(a, name, NULL, NULL);

	snprintf(id, 80, "f-%s", name);
	snprintf(eid, 90, "%s-error", id);
	lk_html_elem(&a->h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	if (msg == NULL)
		return NULL;
	lk_html_leaf(&a->h, LK_E_SPAN, msg, LK_A_CLASS, "error", LK_A_ID, eid, LK_A__MAX);
	return eid;
}

void
lk_admin_input(struct lk_admin *a, const char *label, const char *name,
    const char *type, const char *value, const char *hint, const char *err_field,
    const char *err)
{
	struct lk_html	*h = &a->h;
	char		 id[80], hid[90], eid[90], desc[200];
	const char	*msg = lk_admin_field_error(a, name, err_field, err);
	bool		 bad = msg != NULL;
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
		lk_html_leaf(h, LK_E_SPAN, msg, LK_A_CLASS, "error", LK_A_ID, eid, LK_A__MAX);
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

/* lk_admin_choices; eid (if not NULL) is the id of the error that describes the select. */
static void
choices_select(struct lk_admin *a, const char *label, const char *id, const char *name,
    const char *const *choices, const char *selected, const char *eid)
{
	struct lk_html	*h = &a->h;
	size_t		 i;

	lk_html_leaf(h, LK_E_LABEL, label, LK_A_FOR, id, LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, id, LK_A_NAME, name,
	    LK_A_ARIA_INVALID, eid != NULL ? "true" : NULL, LK_A_ARIA_DESCRIBEDBY, eid, LK_A__MAX);
	for (i = 0; choices[i] != NULL; i++)
		lk_html_leaf(h, LK_E_OPTION, choices[i], LK_A_VALUE, choices[i],
		    LK_A_SELECTED, selected != NULL && strcmp(selected, choices[i]) == 0 ? "" : NULL,
		    LK_A__MAX);
	lk_html_close(h);
}

void
lk_admin_choices(struct lk_admin *a, const char *label, const char *id, const char *name,
    const char *const *choices, const char *selected)
{
	choices_select(a, label, id, name, choices, selected, NULL);
}

void
lk_admin_select(struct lk_admin *a, const char *label, const char *name,
    const char *const *choices, const char *value)
{
	char		 id[80], eid[90];
	const char	*v = a->form != NULL && *lk_admin_value(a, name) ?
	    lk_admin_value(a, name) : value;
	const char	*bad = select_box(a, name, id, eid);

	choices_select(a, label, id, name, choices, v, bad);
	lk_html_close(&a->h);
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
	char			 id[80], eid[90], text[600];
	const char		*bad = select_box(a, name, id, eid);
	json_t			*o;
	size_t			 i;

	lk_html_leaf(h, LK_E_LABEL, label, LK_A_FOR, id, LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, id, LK_A_NAME, name,
	    LK_A_ARIA_INVALID, bad != NULL ? "true" : NULL, LK_A_ARIA_DESCRIBEDBY, bad, LK_A__MAX);
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

/* ---- pieces of pages ---- */

void
lk_admin_join(json_t *list, char *out, size_t size)
{
	size_t	 i, used = 0;
	json_t	*x;

	if (size > 0)
		out[0] = '\0';
	json_array_foreach(list, i, x)
		if (used < size)
			used += snprintf(out + used, size - used, used > 0 ? " %s" : "%s",
			    json_string_value(x) != NULL ? json_string_value(x) : "");
}

json_t *
lk_admin_form_words(const struct lk_admin *a, const char *name, size_t max)
{
	json_t	*v = json_object_get(a->form, name), *joined;
	char	*buf;

	if (!json_is_array(v))
		return json_incref(v);
	if ((buf = calloc(1, max + 1)) == NULL)
		return json_incref(v);
	lk_admin_join(v, buf, max + 1);
	joined = strlen(buf) < max ? json_string(buf) : json_incref(v);
	free(buf);
	return joined;
}

void
lk_admin_row(struct lk_admin *a, const char *name, const char *value, bool code)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_html_leaf(&a->h, code ? LK_E_CODE : LK_E_SPAN, value, LK_A__MAX);
	lk_html_close(&a->h);
}

void
lk_admin_once_box(struct lk_admin *a, const char *label, const char *what, const char *id,
    const char *text)
{
	struct lk_html *h = &a->h;

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "secret", LK_A_ROLE, "region",
	    LK_A_ARIA_LABEL, label, LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	lk_html_elem(h, LK_E_STRONG, LK_A__MAX);
	lk_html_textf(h, "Copy this %s now. It is shown only this once and cannot be shown "
	    "again.", what);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "keybox", LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, text, LK_A_ID, id, LK_A__MAX);
	lk_html_leaf(h, LK_E_BUTTON, "Copy", LK_A_TYPE, "button", LK_A_DATA_COPY, id,
	    LK_A_ARIA_DESCRIBEDBY, "copy-status", LK_A_HIDDEN, "", LK_A__MAX);
	lk_html_close(h);
	lk_html_leaf(h, LK_E_P, "", LK_A_ID, "copy-status", LK_A_ROLE, "status", LK_A__MAX);
}

void
lk_admin_link_row(struct lk_admin *a, const char *text, const char *id, const char *href)
{
	lk_html_elem(&a->h, LK_E_DIV, LK_A_CLASS, "actions", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_A, text, LK_A_HREF, href, LK_A_CLASS, "button", LK_A_ID, id,
	    LK_A__MAX);
	lk_html_close(&a->h);
}

enum lk_err
lk_admin_once_form(struct lk_admin *a, const char *title, const char *area, const char *action,
    const char *err)
{
	char		token[LK_FORM_TOKEN_LEN + 1];
	enum lk_err	e = lk_sessions_form_token(a->req, &a->s, token);

	if (e != LK_OK)
		return e;
	lk_admin_begin(a, title, area);
	if (err != NULL)
		lk_admin_alert(a, err);
	lk_admin_form(a, action, "stack");
	lk_html_elem(&a->h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "form_token",
	    LK_A_VALUE, token, LK_A__MAX);
	return LK_OK;
}

enum lk_err
lk_admin_once_claim(struct lk_admin *a, const char *area, const char *what, const char *base,
    char *done)
{
	struct lk_html	*h = &a->h;
	char		 href[200];
	enum lk_err	 e = lk_sessions_form_claim(a->req, &a->s, lk_admin_value(a, "form_token"),
	    done);

	if (e != LK_ERR_CONFLICT)
		return e;
	lk_admin_begin(a, "Already submitted", area);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	lk_html_textf(h, "This form was already submitted, so no second %s was made. What it "
	    "showed once is not shown again.", what);
	lk_html_close(h);
	if (done[0] != '\0') {
		snprintf(href, sizeof(href), "%s/%s", base, done);
		lk_html_elem(h, LK_E_P, LK_A__MAX);
		lk_html_elem(h, LK_E_A, LK_A_HREF, href, LK_A__MAX);
		lk_html_textf(h, "See the %s that was made", what);
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_admin_end(a, 409);
	return LK_ERR_CONFLICT;
}

enum lk_err
lk_admin_confirm(struct lk_admin *a, const char *action, const char *button, const char *back)
{
	lk_html_elem(&a->h, LK_E_DIV, LK_A_CLASS, "actions", LK_A__MAX);
	lk_admin_form(a, action, "inline");
	lk_admin_button(a, button, "danger");
	lk_html_close(&a->h);
	lk_html_leaf(&a->h, LK_E_A, "Cancel", LK_A_HREF, back, LK_A__MAX);
	lk_html_close(&a->h);
	return lk_admin_end(a, 200);
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

/* A refused call that names fields: they become a->errors (the first message per field). */
static void
keep_errors(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	const char	*field = lk_admin_err_field(a), *f, *m;
	json_t		*list = json_object_get(req->err_details, "errors"), *x;
	size_t		 i;

	if (field == NULL)
		return;
	json_decref(a->errors);
	a->errors = json_object();
	if (!json_is_array(list))
		json_object_set_new(a->errors, field, json_string(req->err_message));
	json_array_foreach(list, i, x) {
		f = json_string_value(json_object_get(x, "field"));
		m = json_string_value(json_object_get(x, "message"));
		if (f != NULL && m != NULL && json_object_get(a->errors, f) == NULL)
			json_object_set_new(a->errors, f, json_string(m));
	}
}

enum lk_err
lk_admin_api_end(struct lk_admin *a, enum lk_err e)
{
	struct lk_req *req = a->req;

	if (e != LK_OK)
		keep_errors(a);
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
