/* admin_keys.c — the console's key pages: list, create, detail/edit, revoke, reactivate, rotate, delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/keys.h"
#include "base/timefmt.h"
#include "console/admin.h"

#define WEEK	(7 * 86400)
#define DAYS	30	/* of the usage chart */

static const char *const builtin_scopes[] = {
	"admin", "keys:read", "keys:write", "accounts:read", "accounts:write",
	"verify", "audit:read", NULL
};
static const char *const envs[] = { "live", "test", NULL };

static int64_t
time_of(json_t *o, const char *name)
{
	int64_t t = 0;

	if (json_is_string(json_object_get(o, name)))
		lk_time_parse(lk_admin_str(o, name), &t);
	return t;
}

static bool
is_builtin(const char *scope)
{
	size_t i;

	for (i = 0; builtin_scopes[i] != NULL; i++)
		if (strcmp(builtin_scopes[i], scope) == 0)
			return true;
	return false;
}

/* ---- form → API body (the API's own field names; only plumbing here) ---- */

/*
 * The form's scopes (checkboxes and the text field share the name) as one
 * string. A list too long to join goes to the API as it is, which refuses it.
 */
static json_t *
form_scopes(const struct lk_admin *a)
{
	json_t	*v = json_object_get(a->form, "scopes"), *e;
	char	 buf[LK_SCOPES_BUF * 2] = "";
	size_t	 i, n;

	if (v == NULL || json_is_string(v))
		return v != NULL ? json_incref(v) : json_string("");
	json_array_foreach(v, i, e) {
		n = strlen(buf);
		if ((size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "",
		    json_string_value(e)) >= sizeof(buf) - n)
			return json_incref(v);
	}
	return json_string(buf);
}

/* A date field "YYYY-MM-DD" means the end of that day (UTC); other text goes to the API as is. */
static json_t *
form_expiry(const char *v)
{
	char buf[LK_TIME_MAX + 8];

	if (strlen(v) == 10 && v[4] == '-' && v[7] == '-') {
		snprintf(buf, sizeof(buf), "%sT23:59:59Z", v);
		return json_string(buf);
	}
	return json_string(v);
}

/* {"limit","window"} from the two ratelimit inputs; NULL when both are empty. */
static json_t *
form_ratelimit(const struct lk_admin *a)
{
	const char *l = lk_admin_value(a, "ratelimit.limit");
	const char *w = lk_admin_value(a, "ratelimit.window");

	if (*l == '\0' && *w == '\0')
		return NULL;
	return json_pack("{s:s,s:s}", "limit", l, "window", w);
}

/* ---- pieces of pages ---- */

static void
status_word(struct lk_admin *a, const char *status)
{
	char cls[32];

	snprintf(cls, sizeof(cls), "status-%s", status);
	lk_html_leaf(&a->h, LK_E_SPAN, status, LK_A_CLASS, cls, LK_A__MAX);
}

static void
key_href(char *out, size_t size, const char *id, const char *action)
{
	snprintf(out, size, LK_ADMIN_BASE "/keys/%s%s%s", id, action ? "/" : "",
	    action ? action : "");
}

/* The scopes fieldset: built-in checkboxes the user may grant, plus free text for app scopes. */
static void
scopes_fields(struct lk_admin *a, const char *current, const char *err_field,
    const char *err)
{
	struct lk_html	*h = &a->h;
	char		 app[LK_SCOPES_BUF] = "", word[LK_SCOPE_MAX_LEN + 2], id[40];
	const char	*p = current;
	json_t		*fv = a->form != NULL ? form_scopes(a) : NULL;
	bool		 bad = err_field != NULL && strcmp(err_field, "scopes") == 0;
	size_t		 i, n;

	if (fv != NULL)
		p = json_string_value(fv);
	/* Split the current list: built-ins become ticks, the rest goes in the text field. */
	while (p != NULL && *p != '\0') {
		n = strcspn(p, " ,");
		if (n > 0 && n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			if (!is_builtin(word)) {
				size_t l = strlen(app);

				snprintf(app + l, sizeof(app) - l, "%s%s", l ? " " : "", word);
			}
		}
		p += n;
		p += strspn(p, " ,");
	}
	lk_html_elem(h, LK_E_FIELDSET, LK_A_CLASS, "checks", LK_A__MAX);
	lk_html_leaf(h, LK_E_LEGEND, "Scopes", LK_A__MAX);
	if (bad)
		lk_html_leaf(h, LK_E_P, err, LK_A_CLASS, "error", LK_A_ID, "f-scopes-error",
		    LK_A__MAX);
	for (i = 0; builtin_scopes[i] != NULL; i++) {
		bool on = false;
		const char *q = fv != NULL ? json_string_value(fv) : current;

		/* Whole-word match in the list. */
		for (p = q; p != NULL && (p = strstr(p, builtin_scopes[i])) != NULL; p++) {
			size_t l = strlen(builtin_scopes[i]);

			if ((p == q || p[-1] == ' ' || p[-1] == ',') &&
			    (p[l] == '\0' || p[l] == ' ' || p[l] == ',')) {
				on = true;
				break;
			}
		}
		if (!lk_admin_can(a, builtin_scopes[i]) && !on)
			continue;
		snprintf(id, sizeof(id), "f-scope-%zu", i);
		lk_html_elem(h, LK_E_LABEL, LK_A_FOR, id, LK_A__MAX);
		lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_ID, id,
		    LK_A_NAME, "scopes", LK_A_VALUE, builtin_scopes[i],
		    LK_A_CHECKED, on ? "" : NULL, LK_A__MAX);
		lk_html_text(h, builtin_scopes[i]);
		lk_html_close(h);
	}
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Application scopes", LK_A_FOR, "f-scopes", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "text", LK_A_ID, "f-scopes", LK_A_NAME, "scopes",
	    LK_A_VALUE, app, LK_A_ARIA_DESCRIBEDBY, bad ? "f-scopes-error f-scopes-hint" :
	    "f-scopes-hint", LK_A__MAX);
	lk_html_leaf(h, LK_E_SPAN, "Separated by spaces, e.g. tasks:read tasks:*", LK_A_CLASS,
	    "hint", LK_A_ID, "f-scopes-hint", LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
	json_decref(fv);
}

/* Rate limit inputs (admins: only they may go above the plan; others see them too). */
static void
ratelimit_fields(struct lk_admin *a, json_t *rl, const char *err_field, const char *err)
{
	char	 l[24] = "", w[24] = "";
	bool	 bad = err_field != NULL && strcmp(err_field, "ratelimit") == 0;

	if (json_is_object(rl)) {
		snprintf(l, sizeof(l), "%lld", (long long)json_integer_value(json_object_get(rl, "limit")));
		snprintf(w, sizeof(w), "%lld", (long long)json_integer_value(json_object_get(rl, "window")));
	}
	lk_html_elem(&a->h, LK_E_FIELDSET, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_LEGEND, "Rate limit (empty: the account's plan)", LK_A__MAX);
	if (bad)
		lk_html_leaf(&a->h, LK_E_P, err, LK_A_CLASS, "error", LK_A__MAX);
	lk_admin_input(a, "Requests", "ratelimit.limit", "number", l, NULL, NULL, NULL);
	lk_admin_input(a, "Per seconds", "ratelimit.window", "number", w, NULL, NULL, NULL);
	lk_html_close(&a->h);
}

/* The accounts of the user's subtree as a select (create form, list filter). */
static void
account_select(struct lk_admin *a, const char *label, const char *name, const char *selected)
{
	json_t *tree;

	if (lk_admin_tree(a, NULL, &tree) != LK_OK)
		return;
	lk_admin_account_select(a, label, name, tree, selected);
	json_decref(tree);
}

/* The plaintext of a new key, shown once. */
static void
show_secret(struct lk_admin *a, json_t *k)
{
	struct lk_html *h = &a->h;

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "secret", LK_A_ROLE, "region",
	    LK_A_ARIA_LABEL, "New key", LK_A__MAX);
	lk_html_leaf(h, LK_E_P, "Copy this key now. It is shown only this once and "
	    "cannot be shown again.", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, lk_admin_str(k, "key"), LK_A_ID, "new-key", LK_A__MAX);
	lk_html_close(h);
	lk_html_leaf(h, LK_E_P, "Select it (a click selects it all) and copy it with Ctrl+C "
	    "or your device's copy command.", LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_close(h);
}

/* ---- the usage chart ---- */

/*
 * An inline SVG of DAYS days of usage stacked by outcome, from the usage
 * API's "data" array (oldest first; NULL: no usage data, all zeros).
 */
static void
usage_chart(struct lk_admin *a, json_t *data)
{
	static const struct { const char *name, *colour; } outcomes[] = {
		{ "valid", "#1e6b2e" }, { "rate_limited", "#7a4a00" },
		{ "revoked", "#a4161a" }, { "expired", "#595959" },
		{ "insufficient_scope", "#0b57a4" },
	};
	struct lk_html	*h = &a->h;
	int64_t		 counts[DAYS][LK_NELEM(outcomes)], max = 0, total;
	char		 x[16], y[16], hgt[16], label[200];
	int		 d;
	size_t		 o;

	memset(counts, 0, sizeof(counts));
	/* The newest DAYS entries, right-aligned so today is the last bar. */
	for (d = 0; d < DAYS; d++) {
		json_t *day = json_array_get(data, json_array_size(data) >= DAYS ?
		    json_array_size(data) - DAYS + (size_t)d : (size_t)-1);

		for (o = 0; day != NULL && o < LK_NELEM(outcomes); o++)
			counts[d][o] = json_integer_value(json_object_get(day, outcomes[o].name));
	}
	for (d = 0; d < DAYS; d++) {
		for (total = 0, o = 0; o < LK_NELEM(outcomes); o++)
			total += counts[d][o];
		if (total > max)
			max = total;
	}
	lk_html_leaf(h, LK_E_H2, "Usage, last 30 days", LK_A_ID, "usage", LK_A__MAX);
	snprintf(label, sizeof(label), "Bar chart of uses per day over the last %d days, "
	    "stacked by outcome; highest day: %lld", DAYS, (long long)max);
	lk_html_elem(h, LK_E_SVG, LK_A_CLASS, "chart", LK_A_VIEWBOX, "0 0 620 180",
	    LK_A_WIDTH, "620", LK_A_HEIGHT, "180", LK_A_ROLE, "img",
	    LK_A_ARIA_LABEL, label, LK_A__MAX);
	lk_html_leaf(h, LK_E_RECT, NULL, LK_A_X, "0", LK_A_Y, "0", LK_A_WIDTH, "620",
	    LK_A_HEIGHT, "180", LK_A_FILL, "#ffffff", LK_A__MAX);
	lk_html_leaf(h, LK_E_RECT, NULL, LK_A_X, "10", LK_A_Y, "160", LK_A_WIDTH, "600",
	    LK_A_HEIGHT, "1", LK_A_FILL, "#595959", LK_A__MAX);
	for (d = 0; d < DAYS; d++) {
		int64_t base = 160;

		lk_html_elem(h, LK_E_G, LK_A__MAX);
		for (o = 0; o < LK_NELEM(outcomes); o++) {
			int64_t px = max > 0 ? counts[d][o] * 140 / max : 0;

			if (px == 0)
				continue;
			base -= px;
			snprintf(x, sizeof(x), "%d", 12 + d * 20);
			snprintf(y, sizeof(y), "%lld", (long long)base);
			snprintf(hgt, sizeof(hgt), "%lld", (long long)px);
			lk_html_elem(h, LK_E_RECT, LK_A_X, x, LK_A_Y, y, LK_A_WIDTH, "16",
			    LK_A_HEIGHT, hgt, LK_A_FILL, outcomes[o].colour, LK_A__MAX);
			lk_html_elem(h, LK_E_SVGTITLE, LK_A__MAX);
			lk_html_textf(h, "%s: %lld", outcomes[o].name, (long long)counts[d][o]);
			lk_html_close(h);
			lk_html_close(h);
		}
		lk_html_close(h);
	}
	if (max == 0)
		lk_html_leaf(h, LK_E_SVGTEXT, "No uses recorded in the last 30 days", LK_A_X, "200",
		    LK_A_Y, "90", LK_A_FILL, "#1b1b1b", LK_A__MAX);
	lk_html_leaf(h, LK_E_SVGTEXT, "30 days ago", LK_A_X, "10", LK_A_Y, "176",
	    LK_A_FILL, "#1b1b1b", LK_A__MAX);
	lk_html_leaf(h, LK_E_SVGTEXT, "today", LK_A_X, "570", LK_A_Y, "176",
	    LK_A_FILL, "#1b1b1b", LK_A__MAX);
	lk_html_close(h);
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "legend", LK_A__MAX);
	for (o = 0; o < LK_NELEM(outcomes); o++) {
		char style_cls[64];

		snprintf(style_cls, sizeof(style_cls), "sw sw-%zu", o);
		lk_html_elem(h, LK_E_SPAN, LK_A__MAX);
		lk_html_elem(h, LK_E_SVG, LK_A_CLASS, "sw", LK_A_VIEWBOX, "0 0 10 10",
		    LK_A_WIDTH, "12", LK_A_HEIGHT, "12", LK_A_ARIA_LABEL, NULL, LK_A__MAX);
		lk_html_leaf(h, LK_E_RECT, NULL, LK_A_X, "0", LK_A_Y, "0", LK_A_WIDTH, "10",
		    LK_A_HEIGHT, "10", LK_A_FILL, outcomes[o].colour, LK_A__MAX);
		lk_html_close(h);
		lk_html_text(h, outcomes[o].name);
		lk_html_close(h);
	}
	lk_html_close(h);
}

/* ---- list ---- */

static const char *
done_notice(const char *done)
{
	static const struct { const char *done, *text; } notices[] = {
		{ "deleted", "The key was deleted." }, { "revoked", "The key was revoked." },
		{ "reactivated", "The key is active again." }, { "saved", "Your changes were saved." },
	};
	size_t i;

	for (i = 0; done != NULL && i < LK_NELEM(notices); i++)
		if (strcmp(done, notices[i].done) == 0)
			return notices[i].text;
	return NULL;
}

static enum lk_err
list_page(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	struct lk_html	*h = &a->h;
	json_t		*q = req->query, *page, *api_q, *o;
	const char	*account = lk_admin_str(q, "account_id"), *notice;
	const char	*status = lk_admin_str(q, "status"), *env = lk_admin_str(q, "env"), *label = lk_admin_str(q, "q");
	bool		 expiring = strcmp(lk_admin_str(q, "expiring"), "7d") == 0;
	char		 more[1200], href[200];
	size_t		 i, expiring_n = 0;
	enum lk_err	 e;

	if ((notice = done_notice(json_string_value(json_object_get(q, "done")))) != NULL)
		snprintf(a->notice, sizeof(a->notice), "%s", notice);
	/* The API's filters, from the filter form's fields. */
	api_q = json_object();
	if (*status)
		json_object_set_new(api_q, "status", json_string(status));
	if (*env)
		json_object_set_new(api_q, "env", json_string(env));
	if (*label)
		json_object_set_new(api_q, "q", json_string(label));
	if (expiring)
		json_object_set_new(api_q, "expiring_within", json_string("7d"));
	if (*lk_admin_str(q, "cursor"))
		json_object_set_new(api_q, "cursor", json_string(lk_admin_str(q, "cursor")));
	json_incref(q);
	lk_admin_api_begin(a, LK_GET, NULL, api_q);
	e = lk_admin_api_end(a, lk_keys_http_collection(req, *account ? account : NULL));
	page = e == LK_OK ? json_incref(req->captured) : NULL;
	/* The banner: active keys expiring within 7 days. */
	if (e == LK_OK) {
		lk_admin_api_begin(a, LK_GET, NULL, json_pack("{s:s,s:s,s:s}", "status",
		    "active", "expiring_within", "7d", "limit", "100"));
		if (lk_admin_api_end(a, lk_keys_http_collection(req, *account ? account : NULL)) ==
		    LK_OK)
			expiring_n = json_array_size(json_object_get(req->captured, "data"));
	}
	json_decref(req->query);
	req->query = q;
	if (e == LK_ERR_NOT_FOUND || e == LK_ERR_FORBIDDEN || e == LK_ERR_UNAVAILABLE ||
	    e == LK_ERR_INTERNAL)
		return e;

	lk_admin_begin(a, "API keys", "keys");
	if (expiring_n > 0) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "banner", LK_A_ROLE, "status", LK_A__MAX);
		lk_html_textf(h, "%zu active key%s of this account expire%s within 7 days. ",
		    expiring_n, expiring_n == 1 ? "" : "s", expiring_n == 1 ? "s" : "");
		lk_html_leaf(h, LK_E_A, "Show them", LK_A_HREF,
		    LK_ADMIN_BASE "/keys?status=active&expiring=7d", LK_A__MAX);
		lk_html_close(h);
	}
	if (lk_admin_can(a, "keys:write")) {
		/* in the account being viewed (the form preselects it) */
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/new?account_id=");
		lk_html_urlencode(href, sizeof(href), account);
		lk_html_elem(h, LK_E_P, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, "Create a key", LK_A_HREF,
		    *account ? href : LK_ADMIN_BASE "/keys/new", LK_A_ID, "create-key", LK_A__MAX);
		lk_html_close(h);
	}
	/* Filters: a GET form. */
	lk_html_elem(h, LK_E_FORM, LK_A_METHOD, "get", LK_A_ACTION, LK_ADMIN_BASE "/keys",
	    LK_A_CLASS, "inline", LK_A_ROLE, "search", LK_A_ARIA_LABEL, "Filter keys", LK_A__MAX);
	account_select(a, "Account", "account_id", *account ? account :
	    a->caller.key.owner.public_id);
	{
		static const char *const st[] = { "", "active", "revoked", "expired", NULL };
		static const char *const en[] = { "", "live", "test", NULL };
		static const char *const st_names[] = { "any", "active", "revoked", "expired" };
		static const char *const en_names[] = { "any", "live", "test" };
		const char *const *sets[] = { st, en };
		const char *const *names[] = { st_names, en_names };
		const char *fields[] = { "status", "env" }, *labels[] = { "Status", "Environment" };
		const char *vals[] = { status, env };
		int f;

		for (f = 0; f < 2; f++) {
			char id[32];

			snprintf(id, sizeof(id), "f-%s", fields[f]);
			lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
			lk_html_leaf(h, LK_E_LABEL, labels[f], LK_A_FOR, id, LK_A__MAX);
			lk_html_elem(h, LK_E_SELECT, LK_A_ID, id, LK_A_NAME, fields[f], LK_A__MAX);
			for (i = 0; sets[f][i] != NULL; i++)
				lk_html_leaf(h, LK_E_OPTION, names[f][i], LK_A_VALUE, sets[f][i],
				    LK_A_SELECTED, strcmp(vals[f], sets[f][i]) == 0 ? "" : NULL,
				    LK_A__MAX);
			lk_html_close(h);
			lk_html_close(h);
		}
	}
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Label contains", LK_A_FOR, "f-q", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "search", LK_A_ID, "f-q", LK_A_NAME, "q",
	    LK_A_VALUE, label, LK_A__MAX);
	lk_html_close(h);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "checks", LK_A__MAX);
	lk_html_elem(h, LK_E_LABEL, LK_A_FOR, "f-expiring", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_ID, "f-expiring",
	    LK_A_NAME, "expiring", LK_A_VALUE, "7d", LK_A_CHECKED, expiring ? "" : NULL,
	    LK_A__MAX);
	lk_html_text(h, "Expiring within 7 days");
	lk_html_close(h);
	lk_html_close(h);
	lk_admin_button(a, "Filter", NULL);
	lk_html_close(h);

	if (e != LK_OK) {
		lk_admin_alert(a, req->err_message);
		json_decref(page);
		return lk_admin_end(a, lk_err_status(e));
	}
	{
		static const char *const cols[] = { "Label", "Start", "Env", "Status", "Scopes",
		    "Created", "Expires", "Last used" };

		lk_admin_table(a, "Keys (scrolls sideways)", LK_A_ID, "keys",
		    "Keys, newest first", cols, LK_NELEM(cols));
	}
	json_array_foreach(json_object_get(page, "data"), i, o) {
		json_t	*sc = json_object_get(o, "scopes"), *s1;
		size_t	 j;

		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		key_href(href, sizeof(href), lk_admin_str(o, "id"), NULL);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, lk_admin_str(o, "label"), LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
		lk_admin_code_cell(a, lk_admin_str(o, "start"));
		lk_html_leaf(h, LK_E_TD, lk_admin_str(o, "env"), LK_A__MAX);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		status_word(a, lk_admin_str(o, "status"));
		lk_html_close(h);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		json_array_foreach(sc, j, s1) {
			if (j > 0)
				lk_html_text(h, " ");
			lk_html_leaf(h, LK_E_CODE, json_string_value(s1), LK_A__MAX);
		}
		lk_html_close(h);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_admin_reltime(a, time_of(o, "created_at"), "", false);
		lk_html_close(h);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_admin_reltime(a, time_of(o, "expires_at"), "never", false);
		lk_html_close(h);
		lk_html_elem(h, LK_E_TD, LK_A__MAX);
		lk_admin_reltime(a, time_of(o, "last_used_at"), "never", false);
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
	if (json_array_size(json_object_get(page, "data")) == 0)
		lk_html_leaf(h, LK_E_P, "No keys match.", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "pager", LK_A__MAX);
	if (*lk_admin_str(q, "cursor"))
		lk_html_leaf(h, LK_E_A, "First page", LK_A_HREF, LK_ADMIN_BASE "/keys", LK_A__MAX);
	if (json_is_string(json_object_get(page, "next_cursor"))) {
		snprintf(more, sizeof(more), LK_ADMIN_BASE "/keys?account_id=");
		lk_html_urlencode(more, sizeof(more), account);
		strncat(more, "&status=", sizeof(more) - strlen(more) - 1);
		lk_html_urlencode(more, sizeof(more), status);
		strncat(more, "&env=", sizeof(more) - strlen(more) - 1);
		lk_html_urlencode(more, sizeof(more), env);
		strncat(more, "&q=", sizeof(more) - strlen(more) - 1);
		lk_html_urlencode(more, sizeof(more), label);
		if (expiring)
			strncat(more, "&expiring=7d", sizeof(more) - strlen(more) - 1);
		strncat(more, "&cursor=", sizeof(more) - strlen(more) - 1);
		lk_html_urlencode(more, sizeof(more), lk_admin_str(page, "next_cursor"));
		lk_html_leaf(h, LK_E_A, "Next page", LK_A_HREF, more, LK_A__MAX);
	}
	lk_html_close(h);
	json_decref(page);
	return lk_admin_end(a, 200);
}

/* ---- create ---- */

static enum lk_err
create_form(struct lk_admin *a, int status, const char *err_field, const char *err)
{
	struct lk_html	*h = &a->h;
	char		 token[LK_FORM_TOKEN_LEN + 1];
	enum lk_err	 e;

	if ((e = lk_sessions_form_token(a->req, &a->s, token)) != LK_OK)
		return e;
	lk_admin_begin(a, "Create a key", "keys");
	if (err != NULL)
		lk_admin_alert(a, err);
	lk_admin_form(a, LK_ADMIN_BASE "/keys/new", "stack");
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "form_token",
	    LK_A_VALUE, token, LK_A__MAX);
	lk_admin_input(a, "Label", "label", "text", "", "1 to 100 characters.", err_field, err);
	scopes_fields(a, "", err_field, err);
	lk_admin_select(a, "Environment", "env", envs, "live");
	lk_admin_input(a, "Expires on (UTC, end of day)", "expires_at", "date", "",
	    "Leave empty for a key that never expires.", err_field, err);
	if (lk_admin_can(a, "admin"))
		ratelimit_fields(a, NULL, err_field, err);
	/* after an error the posted account; else the one the link came from, or the user's own */
	account_select(a, "Account", "account_id", a->form != NULL ?
	    lk_admin_value(a, "account_id") : *lk_admin_str(a->req->query, "account_id") ?
	    lk_admin_str(a->req->query, "account_id") : a->caller.key.owner.public_id);
	lk_admin_input(a, "Metadata (JSON object)", "meta", "textarea", "",
	    "Returned by verify, e.g. {\"team\": \"billing\"}. At most 4 KiB.", err_field, err);
	lk_admin_button(a, "Create key", NULL);
	lk_html_close(h);
	return lk_admin_end(a, status);
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	char		 done[LK_PUBLIC_ID_MAX], href[200];
	const char	*token = lk_admin_value(a, "form_token");
	json_t		*body, *rl, *k;
	enum lk_err	 e;

	e = lk_sessions_form_claim(req, &a->s, token, done);
	if (e == LK_ERR_CONFLICT) {
		lk_admin_begin(a, "Already submitted", "keys");
		lk_html_leaf(&a->h, LK_E_P, "This form was already submitted, so no second key "
		    "was created. A key's plaintext is shown only once.", LK_A__MAX);
		if (done[0] != '\0') {
			key_href(href, sizeof(href), done, NULL);
			lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
			lk_html_leaf(&a->h, LK_E_A, "See the key that was created", LK_A_HREF, href,
			    LK_A__MAX);
			lk_html_close(&a->h);
		}
		return lk_admin_end(a, 409);
	}
	if (e == LK_ERR_NOT_FOUND)
		return create_form(a, 400, NULL,
		    "This form has expired. Check the values and submit it again.");
	if (e != LK_OK)
		return e;
	body = json_object();
	if (json_object_get(a->form, "label") != NULL)
		json_object_set_new(body, "label", json_string(lk_admin_value(a, "label")));
	json_object_set_new(body, "scopes", form_scopes(a));
	if (*lk_admin_value(a, "env"))
		json_object_set_new(body, "env", json_string(lk_admin_value(a, "env")));
	if (*lk_admin_value(a, "expires_at"))
		json_object_set_new(body, "expires_at", form_expiry(lk_admin_value(a, "expires_at")));
	if (*lk_admin_value(a, "account_id"))
		json_object_set_new(body, "account_id", json_string(lk_admin_value(a, "account_id")));
	if ((rl = form_ratelimit(a)) != NULL)
		json_object_set_new(body, "ratelimit", rl);
	if (*lk_admin_value(a, "meta"))
		json_object_set_new(body, "meta", json_string(lk_admin_value(a, "meta")));
	lk_admin_api_begin(a, LK_POST, body, NULL);
	e = lk_admin_api_end(a, lk_keys_http_collection(req, NULL));
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN)
		return create_form(a, lk_err_status(e), lk_admin_err_field(a), req->err_message);
	if (e != LK_OK)
		return e;
	k = req->captured;
	lk_sessions_form_result(req, token, lk_admin_str(k, "id"));
	lk_admin_begin(a, "Key created", "keys");
	show_secret(a, k);
	key_href(href, sizeof(href), lk_admin_str(k, "id"), NULL);
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_textf(&a->h, "Key “%s” (%s) was created. ", lk_admin_str(k, "label"), lk_admin_str(k, "start"));
	lk_html_leaf(&a->h, LK_E_A, "Go to the key", LK_A_HREF, href, LK_A__MAX);
	lk_html_close(&a->h);
	return lk_admin_end(a, 201);
}

/* ---- one key ---- */

/* The key as the API shows it to this user: 404 outside the user's subtree. */
static enum lk_err
get_key(struct lk_admin *a, const char *id, json_t **out)
{
	enum lk_err e;

	lk_admin_api_begin(a, LK_GET, NULL, NULL);
	e = lk_admin_api_end(a, lk_keys_http_item(a->req, NULL, id, NULL));
	*out = e == LK_OK ? json_incref(a->req->captured) : NULL;
	return e;
}

static void
field_row(struct lk_admin *a, const char *name, const char *value, bool code)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	if (code)
		lk_html_leaf(&a->h, LK_E_CODE, value, LK_A__MAX);
	else
		lk_html_text(&a->h, value);
	lk_html_close(&a->h);
}

static void
time_row(struct lk_admin *a, const char *name, json_t *k, const char *field, const char *never)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_admin_reltime(a, time_of(k, field), never, true);
	lk_html_close(&a->h);
}

/* The key's usage as the API gives it ({"data": [...]}), or NULL if it cannot be read. */
static json_t *
get_usage(struct lk_admin *a, const char *id)
{
	json_t		*q = json_incref(a->req->query), *u;
	enum lk_err	 e;

	lk_admin_api_begin(a, LK_GET, NULL, json_pack("{s:s}", "days", "30"));
	e = lk_admin_api_end(a, lk_keys_http_item(a->req, NULL, id, "usage"));
	u = e == LK_OK ? json_incref(a->req->captured) : NULL;
	json_decref(a->req->query);
	a->req->query = q;
	return u;
}

static enum lk_err
detail_page(struct lk_admin *a, json_t *k, int status, const char *err_field_in,
    const char *err_in)
{
	struct lk_html	*h = &a->h;
	/* Copies: the API calls below (usage, audit) reset the request's error. */
	char		 err_field[64], err_buf[sizeof(a->req->err_message)];
	const char	*err = err_in != NULL ? err_buf : NULL;
	json_t		*usage;
	const char	*id = lk_admin_str(k, "id"), *st = lk_admin_str(k, "status");
	char		 href[200], scopes[LK_SCOPES_BUF] = "", date[16] = "", *meta;
	json_t		*s1;
	size_t		 i;
	bool		 write = lk_admin_can(a, "keys:write");

	snprintf(err_field, sizeof(err_field), "%s", err_field_in != NULL ? err_field_in : "");
	snprintf(err_buf, sizeof(err_buf), "%s", err_in != NULL ? err_in : "");
	json_array_foreach(json_object_get(k, "scopes"), i, s1) {
		size_t n = strlen(scopes);

		snprintf(scopes + n, sizeof(scopes) - n, "%s%s", n ? " " : "",
		    json_string_value(s1));
	}
	if (time_of(k, "expires_at") != 0)
		snprintf(date, sizeof(date), "%.10s", lk_admin_str(k, "expires_at"));
	meta = json_dumps(json_object_get(k, "meta"), JSON_COMPACT);
	lk_admin_begin(a, lk_admin_str(k, "label"), "keys");
	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "key-fields", LK_A__MAX);
	field_row(a, "Id", id, true);
	field_row(a, "Start", lk_admin_str(k, "start"), true);
	lk_html_leaf(h, LK_E_DT, "Status", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	status_word(a, st);
	lk_html_close(h);
	field_row(a, "Environment", lk_admin_str(k, "env"), false);
	field_row(a, "Account", lk_admin_str(k, "account_id"), true);
	field_row(a, "Scopes", scopes[0] ? scopes : "(none)", true);
	time_row(a, "Created", k, "created_at", "");
	time_row(a, "Expires", k, "expires_at", "never");
	time_row(a, "Revoked", k, "revoked_at", "no");
	time_row(a, "Last used", k, "last_used_at", "never");
	field_row(a, "Rotated from", *lk_admin_str(k, "rotated_from") ? lk_admin_str(k, "rotated_from") : "—",
	    true);
	{
		json_t *rl = json_object_get(k, "ratelimit");
		char buf[64] = "the account's plan";

		if (json_is_object(rl))
			snprintf(buf, sizeof(buf), "%lld per %lld s",
			    (long long)json_integer_value(json_object_get(rl, "limit")),
			    (long long)json_integer_value(json_object_get(rl, "window")));
		field_row(a, "Rate limit", buf, false);
	}
	field_row(a, "Metadata", meta != NULL ? meta : "{}", true);
	lk_html_close(h);

	if (write) {
		lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "actions", LK_A__MAX);
		if (strcmp(st, "active") == 0) {
			key_href(href, sizeof(href), id, "revoke");
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, "Revoke", "danger");
			lk_html_close(h);
		} else if (strcmp(st, "revoked") == 0) {
			key_href(href, sizeof(href), id, "reactivate");
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, "Reactivate", NULL);
			lk_html_close(h);
		}
		key_href(href, sizeof(href), id, "delete");
		lk_html_leaf(h, LK_E_A, "Delete…", LK_A_HREF, href, LK_A_ID, "delete-link", LK_A__MAX);
		lk_html_close(h);
		if (err != NULL)
			lk_admin_alert(a, err);
		if (strcmp(st, "active") == 0) {
			lk_html_leaf(h, LK_E_H2, "Rotate", LK_A__MAX);
			key_href(href, sizeof(href), id, "rotate");
			lk_admin_form(a, href, "inline");
			lk_admin_input(a, "Grace period for the old key", "grace_period", "text",
			    "24h", "The old key keeps working this long, so clients can move to the "
			    "new one; 0 revokes it now; at most 30d.", err_field, err);
			lk_admin_button(a, "Rotate", NULL);
			lk_html_close(h);
		}
		lk_html_leaf(h, LK_E_H2, "Edit", LK_A__MAX);
		key_href(href, sizeof(href), id, "edit");
		lk_admin_form(a, href, "stack");
		lk_admin_input(a, "Label", "label", "text", lk_admin_str(k, "label"), NULL, err_field, err);
		scopes_fields(a, scopes, err_field, err);
		lk_admin_input(a, "Expires on (UTC, end of day)", "expires_at", "date", date,
		    "Empty: never expires.", err_field, err);
		ratelimit_fields(a, json_object_get(k, "ratelimit"), err_field, err);
		lk_admin_input(a, "Metadata (JSON object)", "meta", "textarea",
		    meta != NULL ? meta : "{}", NULL, err_field, err);
		lk_admin_button(a, "Save changes", NULL);
		lk_html_close(h);
	}
	free(meta);
	usage = get_usage(a, id);
	usage_chart(a, json_object_get(usage, "data"));
	json_decref(usage);
	if (lk_admin_can(a, "audit:read")) {
		lk_html_leaf(h, LK_E_H2, "Audit", LK_A_ID, "audit", LK_A__MAX);
		lk_admin_audit_table(a, id, 50);
	}
	return lk_admin_end(a, status);
}

/* The PATCH body: only the fields whose value differs from the key's. */
static json_t *
edit_body(struct lk_admin *a, json_t *k, const char *cur_scopes)
{
	json_t		*body = json_object(), *v, *rl, *cur_rl = json_object_get(k, "ratelimit");
	const char	*label = lk_admin_value(a, "label"), *exp = lk_admin_value(a, "expires_at");
	char		 norm[LK_SCOPES_BUF], date[16] = "", why[LK_SCOPES_WHY];

	if (strcmp(label, lk_admin_str(k, "label")) != 0)
		json_object_set_new(body, "label", json_string(label));
	if (time_of(k, "expires_at") != 0)
		snprintf(date, sizeof(date), "%.10s", lk_admin_str(k, "expires_at"));
	if (strcmp(exp, date) != 0)
		json_object_set_new(body, "expires_at", *exp ? form_expiry(exp) : json_null());
	v = form_scopes(a);
	norm[0] = '\0';
	if (!lk_scopes_add_text(norm, sizeof(norm), json_string_value(v), why) ||
	    strcmp(norm, cur_scopes) != 0)
		json_object_set(body, "scopes", v);
	json_decref(v);
	rl = form_ratelimit(a);
	if (rl == NULL && json_is_object(cur_rl))
		json_object_set_new(body, "ratelimit", json_null());
	else if (rl != NULL) {
		char l[24], w[24];

		snprintf(l, sizeof(l), "%lld", (long long)json_integer_value(json_object_get(cur_rl, "limit")));
		snprintf(w, sizeof(w), "%lld", (long long)json_integer_value(json_object_get(cur_rl, "window")));
		if (!json_is_object(cur_rl) || strcmp(l, lk_admin_str(rl, "limit")) != 0 ||
		    strcmp(w, lk_admin_str(rl, "window")) != 0)
			json_object_set(body, "ratelimit", rl);
		json_decref(rl);
	}
	{
		const char	*mt = lk_admin_value(a, "meta");
		json_t		*m = json_loads(*mt ? mt : "{}", JSON_REJECT_DUPLICATES, NULL);

		if (m == NULL || !json_equal(m, json_object_get(k, "meta")))
			json_object_set_new(body, "meta", json_string(*mt ? mt : "{}"));
		json_decref(m);
	}
	return body;
}

static enum lk_err
delete_page(struct lk_admin *a, json_t *k)
{
	char href[200];

	lk_admin_begin(a, "Delete this key?", "keys");
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_text(&a->h, "You are about to delete the key ");
	lk_html_leaf(&a->h, LK_E_STRONG, lk_admin_str(k, "label"), LK_A__MAX);
	lk_html_text(&a->h, " (");
	lk_html_leaf(&a->h, LK_E_CODE, lk_admin_str(k, "start"), LK_A__MAX);
	lk_html_text(&a->h, "). Programs using it stop working at once; this cannot be undone. "
	    "The audit log keeps its record.");
	lk_html_close(&a->h);
	lk_html_elem(&a->h, LK_E_DIV, LK_A_CLASS, "actions", LK_A__MAX);
	key_href(href, sizeof(href), lk_admin_str(k, "id"), "delete");
	lk_admin_form(a, href, "inline");
	lk_admin_button(a, "Delete the key", "danger");
	lk_html_close(&a->h);
	key_href(href, sizeof(href), lk_admin_str(k, "id"), NULL);
	lk_html_leaf(&a->h, LK_E_A, "Cancel", LK_A_HREF, href, LK_A__MAX);
	lk_html_close(&a->h);
	return lk_admin_end(a, 200);
}

static enum lk_err
item(struct lk_admin *a, const char *id, const char *action)
{
	struct lk_req	*req = a->req;
	json_t		*k, *body = NULL;
	char		 href[200], scopes[LK_SCOPES_BUF] = "";
	json_t		*s1;
	size_t		 i;
	enum lk_err	 e;
	enum lk_method	 m = LK_POST;
	const char	*api_action = NULL;

	const char	*notice = done_notice(json_string_value(json_object_get(req->query, "done")));

	if (notice != NULL)	/* before get_key: the API call replaces req->query */
		snprintf(a->notice, sizeof(a->notice), "%s", notice);
	if ((e = get_key(a, id, &k)) != LK_OK)
		return e;
	if (action == NULL) {
		if (a->method != LK_GET)
			e = lk_req_method_not_allowed(req, "GET");
		else
			e = detail_page(a, k, 200, NULL, NULL);
		json_decref(k);
		return e;
	}
	if (strcmp(action, "delete") == 0 && a->method == LK_GET) {
		e = lk_admin_require(a, "keys:write");
		if (e == LK_OK)
			e = delete_page(a, k);
		json_decref(k);
		return e;
	}
	if (a->method != LK_POST) {
		json_decref(k);
		return lk_req_method_not_allowed(req, "POST");
	}
	if (strcmp(action, "edit") == 0) {
		json_array_foreach(json_object_get(k, "scopes"), i, s1) {
			size_t n = strlen(scopes);

			snprintf(scopes + n, sizeof(scopes) - n, "%s%s", n ? " " : "",
			    json_string_value(s1));
		}
		body = edit_body(a, k, scopes);
		if (json_object_size(body) == 0) {
			json_decref(body);
			snprintf(a->notice, sizeof(a->notice), "Nothing was changed.");
			json_t *f = a->form;

			a->form = NULL;
			e = detail_page(a, k, 200, NULL, NULL);
			a->form = f;
			json_decref(k);
			return e;
		}
		m = LK_PATCH;
	} else if (strcmp(action, "rotate") == 0) {
		body = json_pack("{s:s}", "grace_period", lk_admin_value(a, "grace_period"));
		api_action = "rotate";
	} else if (strcmp(action, "revoke") == 0 || strcmp(action, "reactivate") == 0) {
		api_action = action;
	} else if (strcmp(action, "delete") == 0) {
		m = LK_DELETE;
	} else {
		json_decref(k);
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	}
	lk_admin_api_begin(a, m, body, NULL);
	e = lk_admin_api_end(a, lk_keys_http_item(req, NULL, id, api_action));
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN || e == LK_ERR_CONFLICT) {
		enum lk_err shown = e;

		if (strcmp(action, "edit") != 0 && strcmp(action, "rotate") != 0) {
			json_decref(k);
			return e;
		}
		e = detail_page(a, k, lk_err_status(shown),
		    lk_admin_err_field(a) != NULL ? lk_admin_err_field(a) : "label",
		    req->err_message);
		json_decref(k);
		return e;
	}
	json_decref(k);
	if (e != LK_OK)
		return e;
	if (strcmp(action, "rotate") == 0) {
		json_t *nk = req->captured;

		lk_admin_begin(a, "Key rotated", "keys");
		show_secret(a, nk);
		key_href(href, sizeof(href), lk_admin_str(nk, "id"), NULL);
		lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
		lk_html_text(&a->h, "The new key replaces the old one. ");
		lk_html_leaf(&a->h, LK_E_A, "Go to the new key", LK_A_HREF, href, LK_A__MAX);
		lk_html_close(&a->h);
		return lk_admin_end(a, 201);
	}
	if (strcmp(action, "delete") == 0)
		return lk_admin_redirect(a, LK_ADMIN_BASE "/keys?done=deleted");
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/%s?done=%s", id,
	    strcmp(action, "edit") == 0 ? "saved" : strcmp(action, "revoke") == 0 ?
	    "revoked" : "reactivated");
	return lk_admin_redirect(a, href);
}

enum lk_err
lk_admin_keys(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	enum lk_err	 e;

	if (req->nsegs == 1) {
		if (a->method != LK_GET)
			return lk_req_method_not_allowed(req, "GET");
		return list_page(a);
	}
	if (req->nsegs == 2 && strcmp(req->segs[1], "new") == 0) {
		if ((e = lk_admin_require(a, "keys:write")) != LK_OK)
			return e;
		if (a->method == LK_GET)
			return create_form(a, 200, NULL, NULL);
		return create(a);
	}
	if (req->nsegs == 2 || req->nsegs == 3)
		return item(a, req->segs[1], req->nsegs == 3 ? req->segs[2] : NULL);
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
}
