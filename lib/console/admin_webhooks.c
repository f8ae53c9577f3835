/*
 * admin_webhooks.c — the console's webhooks pages: the endpoints of the
 * user's subtree, a new endpoint (its signing secret shown once), one
 * endpoint (edit, rotate the secret, send a test event, delete, its recent
 * deliveries with "Resend"), each through api/webhooks' handler as the
 * signed-in user, so the rules (SSRF, event names, tenancy, audit) are the
 * API's. Owners write (admin implies webhooks:write); developers read.
 */
#include <stdio.h>
#include <string.h>

#include "api/webhooks.h"
#include "base/conf.h"
#include "base/crypto.h"
#include "base/timefmt.h"
#include "console/admin.h"
#include "model/webhooks.h"

#define DELIVERIES_SHOWN	25

/* The event choices of the forms before the single types: everything, the two families. */
static const struct {
	const char	*value, *text;
} families[] = {
	{ "*", "every event (*)" }, { "key.*", "every key event (key.*)" },
	{ "account.*", "every account event (account.*)" },
};

static void
wh_href(char *out, size_t size, const char *id, const char *action)
{
	snprintf(out, size, LK_ADMIN_BASE "/webhooks/%s%s%s", id, action ? "/" : "",
	    action ? action : "");
}

/*
 * Run the webhooks API handler on /v1/webhooks[/id[/what[/msg/resend]]] with
 * method m, body and query (both stolen, NULL for none), keeping the page's
 * own path and query. *out (if not NULL): the answer, or NULL.
 */
static enum lk_err
api(struct lk_admin *a, enum lk_method m, const char *id, const char *what, const char *msg,
    json_t *body, json_t *query, json_t **out)
{
	struct lk_req	*req = a->req;
	char		*segs[LK_SEGS_MAX];
	int		 nsegs = req->nsegs;
	json_t		*q = json_incref(req->query);
	enum lk_err	 e;

	memcpy(segs, req->segs, sizeof(segs));
	req->nsegs = 0;
	req->segs[req->nsegs++] = (char *)"webhooks";
	if (id != NULL)
		req->segs[req->nsegs++] = (char *)id;
	if (what != NULL)
		req->segs[req->nsegs++] = (char *)what;
	if (msg != NULL) {
		req->segs[req->nsegs++] = (char *)msg;
		req->segs[req->nsegs++] = (char *)"resend";
	}
	lk_admin_api_begin(a, m, body, query);
	e = lk_admin_api_end(a, lk_webhooks_http(req));
	memcpy(req->segs, segs, sizeof(segs));
	req->nsegs = nsegs;
	json_decref(req->query);
	req->query = q;
	if (out != NULL)
		*out = e == LK_OK ? json_incref(req->captured) : NULL;
	return e;
}

static int64_t
time_in(json_t *o, const char *name)
{
	int64_t t = 0;

	return json_is_string(json_object_get(o, name)) &&
	    lk_time_parse(lk_admin_str(o, name), &t) ? t : 0;
}

/* "5 days", "36 h", "90 min": a setting's seconds for people. */
static void
span_text(int64_t s, char *out, size_t size)
{
	if (s >= 2 * 86400 && s % 86400 == 0)
		snprintf(out, size, "%lld days", (long long)(s / 86400));
	else if (s >= 3600 && s % 3600 == 0)
		snprintf(out, size, "%lld h", (long long)(s / 3600));
	else if (s >= 60 && s % 60 == 0)
		snprintf(out, size, "%lld min", (long long)(s / 60));
	else
		snprintf(out, size, "%lld s", (long long)s);
}

/* An endpoint's events (the API's array) as one space-separated line. */
static void
events_text(json_t *w, char *out, size_t size)
{
	lk_admin_join(json_object_get(w, "events"), out, size);
}

/* True if word is one of the space-separated words of list. */
static bool
has_word(const char *list, const char *word)
{
	size_t		 l = strlen(word);
	const char	*p;

	for (p = list; p != NULL && (p = strstr(p, word)) != NULL; p++)
		if ((p == list || p[-1] == ' ') && (p[l] == '\0' || p[l] == ' '))
			return true;
	return false;
}

/*
 * The form's ticked events as one string (the API splits it), [] for none
 * (an empty form value would be null, every event); null (the API's "every
 * event") when "*" is among them: the API's list field takes scope-like
 * words, which a lone "*" is not.
 */
static json_t *
form_events(const struct lk_admin *a)
{
	json_t *v = lk_admin_form_words(a, "events", LK_WEBHOOK_EVENTS_BUF - 1);

	if (v == NULL)
		return json_array();
	if (json_is_string(v) && has_word(json_string_value(v), "*")) {
		json_decref(v);
		return json_null();
	}
	return v;
}

static void
event_box(struct lk_admin *a, const char *value, const char *text, const char *on_list,
    size_t n)
{
	char id[32];

	snprintf(id, sizeof(id), "f-event-%zu", n);
	lk_html_elem(&a->h, LK_E_LABEL, LK_A_FOR, id, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_ID, id, LK_A_NAME, "events",
	    LK_A_VALUE, value, LK_A_CHECKED, has_word(on_list, value) ? "" : NULL, LK_A__MAX);
	lk_html_text(&a->h, text);
	lk_html_close(&a->h);
}

/*
 * The events fieldset: one checkbox per choice, ticked as current (space-
 * separated) says, or as the form just posted did; its error above them.
 */
static void
events_fields(struct lk_admin *a, const char *current, const char *err_field, const char *err)
{
	struct lk_html	*h = &a->h;
	const char	*msg = lk_admin_field_error(a, "events", err_field, err);
	json_t		*fv = a->form != NULL && json_object_get(a->form, "url") != NULL ?
	    form_events(a) : NULL;
	const char	*on = fv == NULL ? current : json_is_null(fv) ? "*" : json_string_value(fv);
	size_t		 i, n = 0;

	lk_html_elem(h, LK_E_FIELDSET, LK_A_CLASS, "checks", LK_A_ID, "f-events",
	    LK_A_ARIA_DESCRIBEDBY, msg != NULL ? "f-events-error" : NULL, LK_A__MAX);
	lk_html_leaf(h, LK_E_LEGEND, "Events", LK_A__MAX);
	if (msg != NULL)
		lk_html_leaf(h, LK_E_P, msg, LK_A_CLASS, "error", LK_A_ID, "f-events-error",
		    LK_A__MAX);
	for (i = 0; i < LK_NELEM(families); i++)
		event_box(a, families[i].value, families[i].text, on, n++);
	for (i = 0; lk_webhook_event_types[i] != NULL; i++)
		event_box(a, lk_webhook_event_types[i], lk_webhook_event_types[i], on, n++);
	lk_html_close(h);
	json_decref(fv);
}

/* The state of endpoint w in words: enabled, turned off by a person, or for failing. */
static const char *
state_text(json_t *w)
{
	if (json_is_true(json_object_get(w, "enabled")))
		return json_is_string(json_object_get(w, "failing_since")) ?
		    "enabled, failing" : "enabled";
	if (strcmp(lk_admin_str(w, "disabled_reason"), "failing") == 0)
		return "disabled: every delivery failed";
	return "disabled";
}

static void
state_word(struct lk_admin *a, json_t *w)
{
	const char *s = state_text(w);

	lk_html_leaf(&a->h, LK_E_SPAN, s, LK_A_CLASS,
	    strcmp(s, "enabled") == 0 ? "status-active" : strcmp(s, "disabled") == 0 ?
	    "status-expired" : "status-revoked", LK_A__MAX);
}

static bool
auto_disabled(json_t *w)
{
	return !json_is_true(json_object_get(w, "enabled")) &&
	    strcmp(lk_admin_str(w, "disabled_reason"), "failing") == 0;
}

static const char *
done_notice(const char *done)
{
	static const struct { const char *done, *text; } notices[] = {
		{ "deleted", "The endpoint was deleted." },
		{ "saved", "Your changes were saved." },
		{ "test", "A webhook.test event was queued; the delivery worker sends it within "
		    "seconds (see Deliveries)." },
		{ "resent", "The message was queued again; it keeps its webhook-id." },
	};
	size_t i;

	for (i = 0; done != NULL && i < LK_NELEM(notices); i++)
		if (strcmp(done, notices[i].done) == 0)
			return notices[i].text;
	return NULL;
}

/* ---- list ---- */

/* The newest delivery of endpoint id: its status and when, or "none yet". */
static void
last_delivery_cell(struct lk_admin *a, const char *id)
{
	json_t	*page = NULL, *m;

	lk_admin_cell(a, "Latest", NULL);
	if (api(a, LK_GET, id, "messages", NULL, NULL, json_pack("{s:i}", "limit", 1),
	    &page) != LK_OK || (m = json_array_get(json_object_get(page, "data"), 0)) == NULL)
		lk_html_text(&a->h, "none yet");
	else {
		lk_html_textf(&a->h, "%s ", lk_admin_str(m, "status"));
		lk_admin_reltime(a, time_in(m, "last_attempt_at") ? time_in(m, "last_attempt_at") :
		    time_in(m, "created_at"), "", false);
	}
	json_decref(page);
	lk_html_close(&a->h);
}

static void
list_row(struct lk_admin *a, json_t *tree, json_t *w)
{
	struct lk_html	*h = &a->h;
	char		 href[200], ev[LK_WEBHOOK_EVENTS_BUF];
	const char	*id = lk_admin_str(w, "id");

	wh_href(href, sizeof(href), id, NULL);
	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	/* by its description (its name for people) when it has one, its URL beside it */
	lk_admin_cell(a, "Endpoint", NULL);
	if (*lk_admin_str(w, "description")) {
		lk_html_leaf(h, LK_E_A, lk_admin_str(w, "description"), LK_A_HREF, href, LK_A__MAX);
		lk_html_text(h, " ");
		lk_html_elem(h, LK_E_SMALL, LK_A__MAX);
		lk_html_leaf(h, LK_E_CODE, lk_admin_str(w, "url"), LK_A__MAX);
		lk_html_close(h);
	} else
		lk_html_leaf(h, LK_E_A, lk_admin_str(w, "url"), LK_A_HREF, href, LK_A__MAX);
	lk_html_close(h);
	lk_admin_cell(a, "Account", NULL);
	lk_admin_account_name(a, tree, lk_admin_str(w, "account_id"));
	lk_html_close(h);
	events_text(w, ev, sizeof(ev));
	lk_admin_cell(a, "Events", NULL);
	lk_html_leaf(h, LK_E_CODE, ev, LK_A__MAX);
	lk_html_close(h);
	lk_admin_cell(a, "State", NULL);
	state_word(a, w);
	lk_html_close(h);
	last_delivery_cell(a, id);
	lk_html_close(h);
}

/* The banner of endpoints turned off for failing (list page): each by its URL. */
static void
failing_banner(struct lk_admin *a, json_t *data)
{
	struct lk_html	*h = &a->h;
	char		 span[32], href[200];
	json_t		*w;
	size_t		 i, n = 0;

	json_array_foreach(data, i, w)
		n += auto_disabled(w);
	if (n == 0)
		return;
	span_text(a->req->conf->webhook_disable_after, span, sizeof(span));
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "banner", LK_A_ROLE, "status", LK_A_ID,
	    "failing-banner", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	lk_html_textf(h, "%zu endpoint%s turned off because every delivery failed for %s; "
	    "fix the receiver, then enable it on its page:", n, n == 1 ? " was" : "s were", span);
	lk_html_close(h);
	lk_html_elem(h, LK_E_UL, LK_A__MAX);
	json_array_foreach(data, i, w) {
		if (!auto_disabled(w))
			continue;
		wh_href(href, sizeof(href), lk_admin_str(w, "id"), NULL);
		lk_html_elem(h, LK_E_LI, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, lk_admin_str(w, "url"), LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
}

static void
empty_list(struct lk_admin *a)
{
	struct lk_html *h = &a->h;

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "empty", LK_A_ID, "empty", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	if (lk_admin_can(a, "webhooks:write")) {
		lk_html_text(h, "No webhook endpoints yet — ");
		lk_html_leaf(h, LK_E_A, "Create an endpoint", LK_A_HREF,
		    LK_ADMIN_BASE "/webhooks/new", LK_A_ID, "empty-create", LK_A__MAX);
	} else
		lk_html_text(h, "No webhook endpoints yet. An owner can create one.");
	lk_html_close(h);
	lk_html_leaf(h, LK_E_P, "An endpoint is a URL of yours that receives signed events "
	    "(a key created, revoked, leaked; an account changed) of this account and the "
	    "accounts below it.", LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_close(h);
}

static enum lk_err
list_page(struct lk_admin *a)
{
	static const char *const cols[] = { "Endpoint", "Account", "Events", "State",
	    "Latest delivery" };
	struct lk_html	*h = &a->h;
	const char	*cursor = lk_admin_str(a->req->query, "cursor"), *notice;
	json_t		*page, *tree = NULL, *q, *w, *data;
	char		 more[400];
	size_t		 i;
	enum lk_err	 e;

	if ((notice = done_notice(json_string_value(json_object_get(a->req->query,
	    "done")))) != NULL)
		snprintf(a->notice, sizeof(a->notice), "%s", notice);
	q = json_pack("{s:i}", "limit", LK_PAGE_MAX);
	if (*cursor)
		json_object_set_new(q, "cursor", json_string(cursor));
	if ((e = api(a, LK_GET, NULL, NULL, NULL, NULL, q, &page)) != LK_OK)
		return e;
	if (lk_admin_tree(a, NULL, &tree) != LK_OK) {
		json_decref(tree);
		tree = NULL;
	}
	data = json_object_get(page, "data");
	lk_admin_begin(a, "Webhooks", "webhooks");
	failing_banner(a, data);
	if (lk_admin_can(a, "webhooks:write")) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "primary", LK_A__MAX);
		lk_html_leaf(h, LK_E_A, "Create an endpoint", LK_A_HREF,
		    LK_ADMIN_BASE "/webhooks/new", LK_A_ID, "create-webhook", LK_A__MAX);
		lk_html_close(h);
	}
	if (json_array_size(data) == 0)
		empty_list(a);
	else {
		lk_admin_table(a, "Webhook endpoints", LK_A_ID, "webhooks",
		    "Endpoints of your account and the accounts below it, newest first", cols,
		    LK_NELEM(cols));
		json_array_foreach(data, i, w)
			list_row(a, tree, w);
		lk_html_close(h);
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "pager", LK_A__MAX);
	if (*cursor)
		lk_html_leaf(h, LK_E_A, "First page", LK_A_HREF, LK_ADMIN_BASE "/webhooks",
		    LK_A__MAX);
	if (json_is_string(json_object_get(page, "next_cursor"))) {
		snprintf(more, sizeof(more), LK_ADMIN_BASE "/webhooks?cursor=");
		lk_html_urlencode(more, sizeof(more), lk_admin_str(page, "next_cursor"));
		lk_html_leaf(h, LK_E_A, "Next page", LK_A_HREF, more, LK_A__MAX);
	}
	lk_html_close(h);
	json_decref(tree);
	json_decref(page);
	return lk_admin_end(a, 200);
}

/* ---- the secret, once ---- */

/*
 * The page that shows a signing secret once (after create and rotate), with
 * a copy button (admin.js), and "I have stored it" to leave for the
 * endpoint's page; after a rotation, until when the old secret signs too.
 */
static enum lk_err
secret_page(struct lk_admin *a, json_t *w, bool rotated, int status)
{
	struct lk_html	*h = &a->h;
	char		 href[200], ev[LK_WEBHOOK_EVENTS_BUF];
	json_t		*tree = NULL;

	lk_admin_begin(a, rotated ? "Signing secret rotated" : "Endpoint created", "webhooks");
	lk_admin_once_box(a, "New signing secret", "signing secret", "new-secret",
	    lk_admin_str(w, "secret"));
	lk_html_leaf(h, LK_E_P, "Your receiver verifies each delivery's webhook-signature "
	    "header with it (Standard Webhooks: any of its libraries takes the whsec_ secret "
	    "as it is).", LK_A_CLASS, "hint", LK_A__MAX);
	if (rotated) {
		lk_html_elem(h, LK_E_P, LK_A_ID, "old-secret", LK_A__MAX);
		lk_html_text(h, "The old secret keeps signing beside the new one until ");
		lk_admin_reltime(a, time_in(w, "old_secret_expires_at"), "now", true);
		lk_html_text(h, ": each delivery carries both signatures until then, so the "
		    "receiver can move to the new secret without missing one.");
		lk_html_close(h);
	}
	lk_html_close(h);
	events_text(w, ev, sizeof(ev));
	if (lk_admin_tree(a, NULL, &tree) != LK_OK) {
		json_decref(tree);
		tree = NULL;
	}
	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "new-webhook-fields", LK_A__MAX);
	lk_admin_row(a, "URL", lk_admin_str(w, "url"), true);
	lk_admin_row(a, "Events", ev, true);
	lk_html_leaf(h, LK_E_DT, "Account", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	lk_admin_account_name(a, tree, lk_admin_str(w, "account_id"));
	lk_html_close(h);
	lk_html_close(h);
	json_decref(tree);
	wh_href(href, sizeof(href), lk_admin_str(w, "id"), NULL);
	lk_admin_link_row(a, "I have stored it", "stored", href);
	return lk_admin_end(a, status);
}

/* ---- create ---- */

static enum lk_err
create_form(struct lk_admin *a, int status, const char *err_field, const char *err)
{
	json_t		*tree = NULL;
	enum lk_err	 e;

	if ((e = lk_admin_tree(a, NULL, &tree)) != LK_OK ||
	    (e = lk_admin_once_form(a, "Create a webhook endpoint", "webhooks",
	    LK_ADMIN_BASE "/webhooks/new", err)) != LK_OK) {
		json_decref(tree);
		return e;
	}
	lk_admin_input(a, "URL", "url", "text", "", a->req->conf->webhook_allow_private ?
	    "Where the events are posted, e.g. https://hooks.example.com/latchkey "
	    "(this server also allows http:// and private addresses: development only)." :
	    "Where the events are posted: an https:// URL on the public internet, e.g. "
	    "https://hooks.example.com/latchkey.", err_field, err);
	events_fields(a, "*", err_field, err);
	lk_admin_input(a, "Description", "description", "text", "",
	    "Optional, at most 200 characters: what receives the events.", err_field, err);
	lk_admin_account_select(a, "Account (receives the events of it and the accounts below "
	    "it)", "account_id", tree, a->form != NULL ? lk_admin_value(a, "account_id") :
	    a->caller.key.owner.public_id);
	lk_admin_button(a, "Create endpoint", NULL);
	lk_html_close(&a->h);
	json_decref(tree);
	return lk_admin_end(a, status);
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	char		 done[LK_PUBLIC_ID_MAX];
	json_t		*body, *w;
	enum lk_err	 e;

	/* a second sending (a reload) gets a page that says so: no endpoint, no secret */
	e = lk_admin_once_claim(a, "webhooks", "endpoint", LK_ADMIN_BASE "/webhooks", done);
	if (e == LK_ERR_CONFLICT)
		return LK_OK;
	if (e == LK_ERR_NOT_FOUND)
		return create_form(a, 400, NULL,
		    "This form has expired. Check the values and submit it again.");
	if (e != LK_OK)
		return e;
	body = json_pack("{s:s,s:o}", "url", lk_admin_value(a, "url"), "events", form_events(a));
	if (*lk_admin_value(a, "description"))
		json_object_set_new(body, "description",
		    json_string(lk_admin_value(a, "description")));
	if (*lk_admin_value(a, "account_id"))
		json_object_set_new(body, "account_id", json_string(lk_admin_value(a, "account_id")));
	e = api(a, LK_POST, NULL, NULL, NULL, body, NULL, &w);
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN)
		return create_form(a, lk_err_status(e), lk_admin_err_field(a), req->err_message);
	if (e != LK_OK)
		return e;
	lk_sessions_form_result(req, lk_admin_value(a, "form_token"), lk_admin_str(w, "id"));
	e = secret_page(a, w, false, 201);
	json_decref(w);
	return e;
}

/* ---- one endpoint ---- */

/* Open section id of the endpoint page, headed title (close it with lk_html_close). */
static void
section(struct lk_admin *a, const char *id, const char *title)
{
	char hid[32];

	snprintf(hid, sizeof(hid), "%s-h", id);
	lk_html_elem(&a->h, LK_E_SECTION, LK_A_ID, id, LK_A_ARIA_LABELLEDBY, hid, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_H2, title, LK_A_ID, hid, LK_A__MAX);
}

static void
time_row(struct lk_admin *a, const char *name, int64_t t, const char *never)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_admin_reltime(a, t, never, true);
	lk_html_close(&a->h);
}

/* Why the endpoint is off, or that it is failing: the banner above its page. */
static void
state_banner(struct lk_admin *a, json_t *w)
{
	struct lk_html	*h = &a->h;
	char		 span[32];

	span_text(a->req->conf->webhook_disable_after, span, sizeof(span));
	if (auto_disabled(w)) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "banner", LK_A_ROLE, "status",
		    LK_A_ID, "failing-banner", LK_A__MAX);
		lk_html_textf(h, "Turned off automatically: every delivery failed for %s "
		    "(failing since ", span);
		lk_admin_reltime(a, time_in(w, "failing_since"), "", false);
		lk_html_text(h, "). Nothing is sent to it; its messages wait. Fix the receiver, "
		    "then tick Enabled under Edit and save: delivery resumes.");
		lk_html_close(h);
	} else if (json_is_true(json_object_get(w, "enabled")) &&
	    json_is_string(json_object_get(w, "failing_since"))) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "banner", LK_A_ROLE, "status",
		    LK_A_ID, "failing-banner", LK_A__MAX);
		lk_html_text(h, "Every delivery has failed since ");
		lk_admin_reltime(a, time_in(w, "failing_since"), "", false);
		lk_html_textf(h, ". The endpoint is turned off when this lasts %s.", span);
		lk_html_close(h);
	}
}

static void
details_section(struct lk_admin *a, json_t *w, json_t *tree, const char *ev)
{
	struct lk_html *h = &a->h;

	section(a, "details", "Details");
	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "webhook-fields", LK_A__MAX);
	lk_admin_row(a, "URL", lk_admin_str(w, "url"), true);
	lk_admin_row(a, "Description", *lk_admin_str(w, "description") ?
	    lk_admin_str(w, "description") : "(none)", false);
	lk_admin_row(a, "Events", ev, true);
	lk_html_leaf(h, LK_E_DT, "Account", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	lk_admin_account_name(a, tree, lk_admin_str(w, "account_id"));
	lk_html_close(h);
	lk_html_leaf(h, LK_E_DT, "State", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	state_word(a, w);
	lk_html_close(h);
	if (time_in(w, "old_secret_expires_at") > a->req->now)
		time_row(a, "Old secret signs until", time_in(w, "old_secret_expires_at"), "");
	time_row(a, "Created", time_in(w, "created_at"), "");
	time_row(a, "Updated", time_in(w, "updated_at"), "");
	lk_admin_row(a, "Id", lk_admin_str(w, "id"), true);
	lk_html_close(h);
	lk_html_close(h);
}

/*
 * What a writer can do: send a test event, rotate the secret, delete; then
 * the edit form, open when an edit just failed (err, about err_field).
 */
static void
actions_section(struct lk_admin *a, json_t *w, const char *ev, const char *failed,
    const char *err_field, const char *err)
{
	struct lk_html	*h = &a->h;
	const char	*id = lk_admin_str(w, "id");
	bool		 edit_failed = failed != NULL && strcmp(failed, "edit") == 0;
	bool		 on = json_object_get(a->form, "url") != NULL ?
	    *lk_admin_value(a, "enabled") != '\0' : json_is_true(json_object_get(w, "enabled"));
	char		 href[200], span[32];

	section(a, "actions", "Actions");
	if (err != NULL && !edit_failed)
		lk_admin_alert(a, err);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "actions", LK_A__MAX);
	wh_href(href, sizeof(href), id, "test");
	lk_admin_form(a, href, "inline");
	lk_admin_button(a, "Send test event", NULL);
	lk_html_close(h);
	wh_href(href, sizeof(href), id, "rotate");
	lk_admin_form(a, href, "inline");
	lk_admin_button(a, "Rotate secret", "plain");
	lk_html_close(h);
	wh_href(href, sizeof(href), id, "delete");
	lk_html_leaf(h, LK_E_A, "Delete…", LK_A_HREF, href, LK_A_ID, "delete-link",
	    LK_A_CLASS, "button danger", LK_A__MAX);
	lk_html_close(h);
	span_text(a->req->conf->webhook_secret_overlap, span, sizeof(span));
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_textf(h, "Rotate makes a new signing secret, shown once; the old one keeps "
	    "signing beside it for %s, so the receiver can move to the new one.", span);
	lk_html_close(h);

	lk_html_elem(h, LK_E_DETAILS, LK_A_CLASS, "edit", LK_A_ID, "edit",
	    LK_A_OPEN, edit_failed ? "" : NULL, LK_A__MAX);
	lk_html_leaf(h, LK_E_SUMMARY, "Edit URL, events, description, enabled", LK_A__MAX);
	if (edit_failed)
		lk_admin_alert(a, err);
	else
		err_field = err = NULL;
	wh_href(href, sizeof(href), id, "edit");
	lk_admin_form(a, href, "stack");
	lk_admin_input(a, "URL", "url", "text", lk_admin_str(w, "url"), NULL, err_field, err);
	events_fields(a, ev, err_field, err);
	lk_admin_input(a, "Description", "description", "text", lk_admin_str(w, "description"),
	    "Empty: none.", err_field, err);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "checks", LK_A__MAX);
	lk_html_elem(h, LK_E_LABEL, LK_A_FOR, "f-enabled", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_ID, "f-enabled",
	    LK_A_NAME, "enabled", LK_A_VALUE, "yes", LK_A_CHECKED, on ? "" : NULL, LK_A__MAX);
	lk_html_text(h, "Enabled (receives deliveries)");
	lk_html_close(h);
	lk_html_close(h);
	lk_admin_button(a, "Save changes", NULL);
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
}

static void
number_cell(struct lk_admin *a, const char *label, json_t *v, const char *unit)
{
	lk_admin_cell(a, label, NULL);
	if (json_is_integer(v))
		lk_html_textf(&a->h, "%lld%s", (long long)json_integer_value(v), unit);
	else
		lk_html_text(&a->h, "—");
	lk_html_close(&a->h);
}

static void
time_cell(struct lk_admin *a, const char *label, json_t *m, const char *field)
{
	lk_admin_cell(a, label, NULL);
	lk_admin_reltime(a, time_in(m, field), "—", false);
	lk_html_close(&a->h);
}

/* One message; off: the endpoint is disabled, so nothing is tried until it is enabled. */
static void
delivery_row(struct lk_admin *a, const char *id, json_t *m, bool write, bool off)
{
	struct lk_html	*h = &a->h;
	const char	*st = lk_admin_str(m, "status");
	char		 href[200];

	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	lk_admin_cell(a, "Event", NULL);
	lk_html_leaf(h, LK_E_CODE, lk_admin_str(m, "type"), LK_A__MAX);
	lk_html_text(h, " ");
	lk_html_leaf(h, LK_E_SMALL, lk_admin_str(m, "id"), LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_close(h);
	lk_admin_cell(a, "Status", NULL);
	lk_html_leaf(h, LK_E_SPAN, st, LK_A_CLASS, strcmp(st, "delivered") == 0 ?
	    "status-active" : strcmp(st, "failed") == 0 ? "status-revoked" : "status-expired",
	    LK_A__MAX);
	lk_html_close(h);
	number_cell(a, "Attempts", json_object_get(m, "attempts"), "");
	number_cell(a, "Latency", json_object_get(m, "latency_ms"), " ms");
	number_cell(a, "Response", json_object_get(m, "response_code"), "");
	/* short labels: they head the lines of a row on a narrow screen */
	time_cell(a, "Last try", m, "last_attempt_at");
	if (off && strcmp(st, "pending") == 0) {
		lk_admin_cell(a, "Next try", NULL);
		lk_html_text(h, "when enabled");
		lk_html_close(h);
	} else
		time_cell(a, "Next try", m, "next_attempt_at");
	lk_admin_cell(a, "Error", NULL);
	lk_html_text(h, *lk_admin_str(m, "last_error") ? lk_admin_str(m, "last_error") : "—");
	lk_html_close(h);
	if (write) {
		lk_admin_cell(a, "Resend", NULL);
		wh_href(href, sizeof(href), id, "resend");
		lk_admin_form(a, href, "inline");
		lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "message_id",
		    LK_A_VALUE, lk_admin_str(m, "id"), LK_A__MAX);
		lk_html_leaf(h, LK_E_BUTTON, "Resend", LK_A_TYPE, "submit", LK_A_CLASS, "plain",
		    LK_A_ARIA_LABEL, "Resend this message", LK_A__MAX);
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_close(h);
}

static void
deliveries_section(struct lk_admin *a, const char *id, bool off)
{
	static const char *const cols[] = { "Event", "Status", "Attempts", "Latency",
	    "Response", "Last attempt", "Next attempt", "Last error", "Resend" };
	struct lk_html	*h = &a->h;
	bool		 write = lk_admin_can(a, "webhooks:write");
	json_t		*page = NULL, *m;
	size_t		 i;

	section(a, "deliveries", "Deliveries");
	if (api(a, LK_GET, id, "messages", NULL, NULL,
	    json_pack("{s:i}", "limit", DELIVERIES_SHOWN), &page) != LK_OK)
		lk_admin_alert(a, a->req->err_message);
	else if (json_array_size(json_object_get(page, "data")) == 0) {
		lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "empty", LK_A_ID, "no-deliveries", LK_A__MAX);
		lk_html_leaf(h, LK_E_P, write ? "No deliveries yet. Send a test event to see "
		    "one arrive." : "No deliveries yet.", LK_A__MAX);
		lk_html_close(h);
	} else {
		lk_admin_table(a, "Deliveries", LK_A_ID, "deliveries-table",
		    "The newest messages to this endpoint", cols,
		    LK_NELEM(cols) - (write ? 0 : 1));
		json_array_foreach(json_object_get(page, "data"), i, m)
			delivery_row(a, id, m, write, off);
		lk_html_close(h);
		lk_html_close(h);
		lk_html_close(h);
	}
	json_decref(page);
	lk_html_close(h);
}

/* The endpoint page; failed, err_field, err: the action that just failed (NULLs for none). */
static enum lk_err
detail_page(struct lk_admin *a, json_t *w, int status, const char *failed,
    const char *err_field_in, const char *err_in)
{
	struct lk_html	*h = &a->h;
	/* copies: the API calls below reset the request's error */
	struct {
		char	 field[64], msg[sizeof(a->req->err_message)];
	}		 failure = { "", "" };
	const char	*err = NULL;
	char		 ev[LK_WEBHOOK_EVENTS_BUF];
	json_t		*tree = NULL;

	if (err_in != NULL) {
		snprintf(failure.msg, sizeof(failure.msg), "%s", err_in);
		snprintf(failure.field, sizeof(failure.field), "%s",
		    err_field_in != NULL ? err_field_in : "url");
		err = failure.msg;
	}
	events_text(w, ev, sizeof(ev));
	if (lk_admin_tree(a, NULL, &tree) != LK_OK) {
		json_decref(tree);
		tree = NULL;
	}
	lk_admin_begin(a, *lk_admin_str(w, "description") ? lk_admin_str(w, "description") :
	    "Webhook endpoint", "webhooks");
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "sub", LK_A__MAX);
	state_word(a, w);
	lk_html_leaf(h, LK_E_CODE, lk_admin_str(w, "url"), LK_A__MAX);
	lk_html_close(h);
	state_banner(a, w);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "panels", LK_A__MAX);
	details_section(a, w, tree, ev);
	if (lk_admin_can(a, "webhooks:write"))
		actions_section(a, w, ev, failed, err != NULL ? failure.field : NULL, err);
	lk_html_close(h);
	json_decref(tree);
	deliveries_section(a, lk_admin_str(w, "id"),
	    !json_is_true(json_object_get(w, "enabled")));
	return lk_admin_end(a, status);
}

/* The PATCH body: only what differs from w. */
static json_t *
edit_body(struct lk_admin *a, json_t *w, const char *ev)
{
	json_t		*body = json_object(), *fe = form_events(a);
	const char	*url = lk_admin_value(a, "url"), *desc = lk_admin_value(a, "description");
	bool		 on = *lk_admin_value(a, "enabled") != '\0';

	if (strcmp(url, lk_admin_str(w, "url")) != 0)
		json_object_set_new(body, "url", json_string(url));
	if (strcmp(desc, lk_admin_str(w, "description")) != 0)
		json_object_set_new(body, "description", *desc ? json_string(desc) : json_null());
	if (json_is_null(fe) ? strcmp(ev, "*") != 0 :
	    !json_is_string(fe) || strcmp(json_string_value(fe), ev) != 0)
		json_object_set(body, "events", fe);
	if (on != json_is_true(json_object_get(w, "enabled")))
		json_object_set_new(body, "enabled", json_boolean(on));
	json_decref(fe);
	return body;
}

static enum lk_err
delete_page(struct lk_admin *a, json_t *w)
{
	char href[200], back[200];

	lk_admin_begin(a, "Delete this endpoint?", "webhooks");
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_text(&a->h, "You are about to delete the endpoint ");
	lk_html_leaf(&a->h, LK_E_CODE, lk_admin_str(w, "url"), LK_A__MAX);
	lk_html_text(&a->h, " and its queued and past messages. It receives no more events; "
	    "this cannot be undone. The audit log keeps its record.");
	lk_html_close(&a->h);
	wh_href(href, sizeof(href), lk_admin_str(w, "id"), "delete");
	wh_href(back, sizeof(back), lk_admin_str(w, "id"), NULL);
	return lk_admin_confirm(a, href, "Delete the endpoint", back);
}

/* A POST action on endpoint w (the user may write): run it, then the page that follows. */
static enum lk_err
act(struct lk_admin *a, json_t *w, const char *action)
{
	struct lk_req	*req = a->req;
	const char	*id = lk_admin_str(w, "id");
	char		 href[200], ev[LK_WEBHOOK_EVENTS_BUF];
	json_t		*body, *out = NULL;
	enum lk_err	 e;

	if (strcmp(action, "edit") == 0) {
		events_text(w, ev, sizeof(ev));
		body = edit_body(a, w, ev);
		if (json_object_size(body) == 0) {
			json_t *f = a->form;

			json_decref(body);
			snprintf(a->notice, sizeof(a->notice), "Nothing was changed.");
			a->form = NULL;
			e = detail_page(a, w, 200, NULL, NULL, NULL);
			a->form = f;
			return e;
		}
		e = api(a, LK_PATCH, id, NULL, NULL, body, NULL, NULL);
		if (e == LK_ERR_VALIDATION)
			return detail_page(a, w, 400, "edit", lk_admin_err_field(a) != NULL ?
			    lk_admin_err_field(a) : "url", req->err_message);
	} else if (strcmp(action, "rotate") == 0) {
		if ((e = api(a, LK_POST, id, "rotate", NULL, NULL, NULL, &out)) == LK_OK)
			e = secret_page(a, out, true, 200);
		json_decref(out);
		return e;
	} else if (strcmp(action, "test") == 0)
		e = api(a, LK_POST, id, "test", NULL, NULL, NULL, NULL);
	else if (strcmp(action, "resend") == 0) {
		if (!lk_crypto_public_id_ok(lk_admin_value(a, "message_id"), "msg_"))
			return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such message");
		e = api(a, LK_POST, id, "messages", lk_admin_value(a, "message_id"), NULL, NULL,
		    NULL);
	} else if (strcmp(action, "delete") == 0) {
		if ((e = api(a, LK_DELETE, id, NULL, NULL, NULL, NULL, NULL)) == LK_OK)
			return lk_admin_redirect(a, LK_ADMIN_BASE "/webhooks?done=deleted");
	} else
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if (e != LK_OK)
		return e;
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/webhooks/%s?done=%s%s", id,
	    strcmp(action, "edit") == 0 ? "saved" : strcmp(action, "test") == 0 ? "test" :
	    "resent", strcmp(action, "edit") == 0 ? "" : "#deliveries");
	return lk_admin_redirect(a, href);
}

static enum lk_err
item(struct lk_admin *a, const char *id, const char *action)
{
	struct lk_req	*req = a->req;
	const char	*notice = done_notice(json_string_value(json_object_get(req->query,
	    "done")));
	json_t		*w;
	enum lk_err	 e;

	if (notice != NULL)
		snprintf(a->notice, sizeof(a->notice), "%s", notice);
	if ((e = api(a, LK_GET, id, NULL, NULL, NULL, NULL, &w)) != LK_OK)
		return e;
	if (action == NULL)
		e = a->method != LK_GET ? lk_req_method_not_allowed(req, "GET") :
		    detail_page(a, w, 200, NULL, NULL, NULL);
	else if (!lk_admin_can(a, "webhooks:write"))
		e = lk_admin_require(a, "webhooks:write");
	else if (strcmp(action, "delete") == 0 && a->method == LK_GET)
		e = delete_page(a, w);
	else if (a->method != LK_POST)
		e = lk_req_method_not_allowed(req, "POST");
	else
		e = act(a, w, action);
	json_decref(w);
	return e;
}

/* /admin/webhooks, /new, /<id>, /<id>/<action>. */
enum lk_err
lk_admin_webhooks(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	const char	*id = req->nsegs > 1 ? req->segs[1] : NULL;
	enum lk_err	 e = lk_admin_require(a, "webhooks:read");

	if (e != LK_OK)
		return e;
	switch (req->nsegs) {
	case 1:
		return a->method == LK_GET ? list_page(a) : lk_req_method_not_allowed(req, "GET");
	case 2:
		if (strcmp(id, "new") != 0)
			return item(a, id, NULL);
		if ((e = lk_admin_require(a, "webhooks:write")) != LK_OK)
			return e;
		return a->method == LK_GET ? create_form(a, 200, NULL, NULL) : create(a);
	case 3:
		return item(a, id, req->segs[2]);
	default:
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	}
}
