/*
 * admin.h — the HTML admin console (cgi-bin/admin routes here). One file per
 * area: admin.c (frame, stylesheet, form helpers, error pages, the
 * bridge to the API handlers), admin_login.c, admin_keys.c,
 * admin_accounts.c, admin_audit.c, admin_users.c, admin_webhooks.c.
 *
 * Every change goes through the same code as the JSON API: the console turns
 * a form into the API's body (same field names) and runs the API handler as
 * the signed-in user (lk_admin_api_*), so no business rule exists twice.
 */
#ifndef LK_ADMIN_H
#define LK_ADMIN_H

#include <stdbool.h>

#include "api/auth.h"
#include "console/sessions.h"
#include "http/html.h"
#include "http/req.h"

#define LK_ADMIN_BASE	"/admin"

struct lk_admin {
	struct lk_req		*req;
	struct lk_session	 s;		/* the signed-in session */
	struct lk_caller	 caller;	/* what the session's user may do */
	struct lk_html		 h;
	json_t			*form;		/* the POST form's raw fields, or NULL */
	json_t			*errors;	/* invalid fields of the last refused API call:
						   name -> message (lk_admin_api_end) */
	char			 notice[200];	/* one line shown above the page's content */
	enum lk_method		 method;	/* the request's own, kept across API calls */
};

/* ---- admin.c ---- */

/*
 * Open the page frame: head, header with navigation (area marks the current
 * one), main with the title; then, after a refused form, the summary of its
 * invalid fields (a->errors), each a link to its input.
 */
void		 lk_admin_begin(struct lk_admin *a, const char *title, const char *area);
/* Close the frame and send the page with status. Returns LK_OK. */
enum lk_err	 lk_admin_end(struct lk_admin *a, int status);
/* 303 See Other to an /admin/… path. */
enum lk_err	 lk_admin_redirect(struct lk_admin *a, const char *path);
/* An error page: status, error code, message (req->err_message) and request id. */
enum lk_err	 lk_admin_error(struct lk_admin *a, enum lk_err e);
/* True if name is one of the console's static files (style.css, admin.js). */
bool		 lk_admin_is_asset(const char *name);
/* GET /admin/<asset>: the file, with its content type and the console's headers. */
enum lk_err	 lk_admin_asset(struct lk_req *req);

/* True if the signed-in user holds scope. */
bool		 lk_admin_can(const struct lk_admin *a, const char *scope);
/* The 403 page unless the user holds scope (LK_OK then). */
enum lk_err	 lk_admin_require(struct lk_admin *a, const char *scope);

/* A POST form to action (an /admin/… path) with its CSRF field; close with lk_html_close. */
void		 lk_admin_form(struct lk_admin *a, const char *action, const char *cls);
/*
 * A labelled input (type "text", "email", "password", "date", "number") or
 * "textarea": its value is the form's raw value when re-rendering (a->form),
 * else value. Its message in a->errors, or err when err_field names this
 * field, is shown next to it (aria-invalid, aria-describedby).
 */
void		 lk_admin_input(struct lk_admin *a, const char *label, const char *name,
		    const char *type, const char *value, const char *hint,
		    const char *err_field, const char *err);
/*
 * A labelled select of choices (NULL-terminated); the selected one is the
 * form's or value. Its message in a->errors is shown next to it.
 */
void		 lk_admin_select(struct lk_admin *a, const char *label, const char *name,
		    const char *const *choices, const char *value);
/*
 * The label and select of lk_admin_select without its field box: the select
 * has id id (the label's for) and the option equal to selected (may be NULL)
 * is selected. For the small forms inside a table row.
 */
void		 lk_admin_choices(struct lk_admin *a, const char *label, const char *id,
		    const char *name, const char *const *choices, const char *selected);
void		 lk_admin_button(struct lk_admin *a, const char *text, const char *cls);
/* A select of accounts from lk_accounts_tree() (objects with id, name, depth), indented by depth. */
void		 lk_admin_account_select(struct lk_admin *a, const char *label, const char *name,
		    json_t *tree, const char *selected);

/*
 * An error line (role "alert") above or beside what it is about; none when
 * message is one of a->errors (the summary and the field show it).
 */
void		 lk_admin_alert(struct lk_admin *a, const char *message);

/*
 * Open a data table in a region (named label) that may scroll sideways as a
 * last resort: the table (attribute attr = value: its id or class), its
 * caption, a header row of the n column names heads; the body is left open
 * (close the tbody, table and region with lk_html_close). On a narrow
 * screen each row becomes a block of lines, headed by the cells' data-label
 * (lk_admin_cell); cells of class "opt" are left out there.
 */
void		 lk_admin_table(struct lk_admin *a, const char *label, enum lk_attr attr,
		    const char *value, const char *caption, const char *const *heads, size_t n);

/* Open a table cell whose line on a narrow screen is headed label; cls may be NULL. */
void		 lk_admin_cell(struct lk_admin *a, const char *label, const char *cls);

/* A table cell holding text as code (ids, key starts). */
void		 lk_admin_code_cell(struct lk_admin *a, const char *text);

/* The string member name of o, "" if absent (API answers shown on pages). */
const char	*lk_admin_str(json_t *o, const char *name);

/*
 * The signed-in user's account and its subtree as lk_accounts_tree objects
 * (at most LK_ADMIN_TREE_MAX): the accounts page and every account picker.
 * *tree is new; root (if not NULL) gets the user's account.
 */
#define LK_ADMIN_TREE_MAX	1000
enum lk_err	 lk_admin_tree(struct lk_admin *a, struct lk_account *root, json_t **tree);

/*
 * Account id by name: its name from tree (lk_admin_tree) as a link to its
 * page, the id as the link's title and in small type after it; an account
 * not in tree (outside the user's subtree, or deleted) as the id alone.
 */
void		 lk_admin_account_name(struct lk_admin *a, json_t *tree, const char *id);

/* The raw POSTed value of name as text ("" if absent). */
const char	*lk_admin_value(const struct lk_admin *a, const char *name);

/* "in 5 days", "3 h ago", or never when t is 0; the exact time follows when exact, else is its title. */
void		 lk_admin_reltime(struct lk_admin *a, int64_t t, const char *never, bool exact);

/*
 * Run an API handler as the signed-in user: begin swaps in method, body
 * (stolen; NULL for none) and query (stolen; NULL for none) and sets up
 * capture; the handler's JSON answer is then in a->req->captured. end
 * restores the request and returns e; when the call was refused naming
 * fields (details.errors, or details.field and the message), a->errors
 * becomes them, for the form shown again (it outlives later API calls).
 */
/*
 * The key page's usage section (console/admin_chart.c) from the usage API's
 * "data" (30 days, oldest first).
 */
void		 lk_admin_usage_section(struct lk_admin *a, json_t *data);

void		 lk_admin_api_begin(struct lk_admin *a, enum lk_method m, json_t *body,
		    json_t *query);
enum lk_err	 lk_admin_api_end(struct lk_admin *a, enum lk_err e);
/*
 * The message for the form field name: a->errors' (the refused call's), or
 * err when err_field names it; NULL if the field is fine. For fields drawn
 * without lk_admin_input (fieldsets of checkboxes).
 */
const char	*lk_admin_field_error(const struct lk_admin *a, const char *name,
		    const char *err_field, const char *err);
/* The field the last API error named (details.field), or NULL. */
const char	*lk_admin_err_field(const struct lk_admin *a);

/* ---- pieces of pages (the keys and webhooks pages) ---- */

/* The strings of the JSON array list, space-separated, into out (cut to size). */
void		 lk_admin_join(json_t *list, char *out, size_t size);
/*
 * The form's values of the repeated field name (checkboxes) as one space-
 * separated string; the values as they are if they do not fit in max bytes
 * (the API then refuses them); NULL if the form has none. New reference.
 */
json_t		*lk_admin_form_words(const struct lk_admin *a, const char *name, size_t max);
/* A dt name and its dd value (as code when code) of a dl.fields. */
void		 lk_admin_row(struct lk_admin *a, const char *name, const char *value, bool code);
/*
 * The box that shows a secret once (a new key, a signing secret): the
 * warning, text in a code element of id id with a copy button (admin.js),
 * and the copy status. The box is left open for the caller's lines (close
 * it with lk_html_close).
 */
void		 lk_admin_once_box(struct lk_admin *a, const char *label, const char *what,
		    const char *id, const char *text);
/* Actions row with one link: the button-like link text (id id) to href. */
void		 lk_admin_link_row(struct lk_admin *a, const char *text, const char *id,
		    const char *href);
/*
 * A form that may be sent once: open the page (title, area), err as an
 * alert if not NULL, and the POST form to action (class "stack") with a new
 * one-time form_token. The caller adds the fields and closes the form.
 */
enum lk_err	 lk_admin_once_form(struct lk_admin *a, const char *title, const char *area,
		    const char *action, const char *err);
/*
 * Claim the form_token of a form of lk_admin_once_form; into done (at least
 * LK_PUBLIC_ID_MAX bytes) what an earlier sending made. LK_OK: the first
 * sending. LK_ERR_CONFLICT: sent before, and the page saying so (nothing
 * made again, what was made linked as base/<done>, named what) is sent.
 * LK_ERR_NOT_FOUND: not a token of this session (expired).
 */
enum lk_err	 lk_admin_once_claim(struct lk_admin *a, const char *area, const char *what,
		    const char *base, char *done);
/*
 * The end of a confirmation page (its title and text written): a POST form
 * to action with the danger button, and Cancel back to back. Sends the page.
 */
enum lk_err	 lk_admin_confirm(struct lk_admin *a, const char *action, const char *button,
		    const char *back);

/* ---- one entry per area: route segs[1..] of /admin/<area>/… ---- */
enum lk_err	 lk_admin_login(struct lk_req *req);		/* /admin/login, no session */
enum lk_err	 lk_admin_logout(struct lk_admin *a);
enum lk_err	 lk_admin_password(struct lk_admin *a);	/* the user's own password */
enum lk_err	 lk_admin_keys(struct lk_admin *a);
enum lk_err	 lk_admin_accounts(struct lk_admin *a);
enum lk_err	 lk_admin_audit(struct lk_admin *a);
enum lk_err	 lk_admin_users(struct lk_admin *a);
enum lk_err	 lk_admin_webhooks(struct lk_admin *a);	/* webhooks:read; writes: webhooks:write */

/* The audit rows of one target (key detail page), newest first, at most limit. */
void		 lk_admin_audit_table(struct lk_admin *a, const char *target_id, int limit);

/* Serve one console request (cgi-bin/admin.c). */
enum lk_err	 lk_admin_serve(struct lk_req *req);

#endif
