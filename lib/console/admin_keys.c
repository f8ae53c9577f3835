/* admin_keys.c — the console's key pages: list, create, detail/edit, revoke, reactivate, rotate, delete. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/keys.h"
#include "base/timefmt.h"
#include "console/admin.h"
#include "model/leaks.h"
#include "model/usage.h"

#define WEEK	(7 * 86400)

static const char *const builtin_scopes[] = {
	"admin", "keys:read", "keys:write", "keys:import", "accounts:read",
	"accounts:write", "verify", "audit:read", NULL
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

static const char *const refills[] = { "none", "daily", "monthly", NULL };

/*
 * The credits of the policy inputs as the API's object ({"remaining",
 * "refill"}), null when the remaining field is empty (unlimited).
 */
static json_t *
form_credits(const struct lk_admin *a)
{
	const char	*rem = lk_admin_value(a, "credits.remaining");
	const char	*iv = lk_admin_value(a, "credits.refill");
	json_t		*refill = json_null();

	if (*rem == '\0')
		return json_null();
	if (*iv && strcmp(iv, "none") != 0) {
		refill = json_pack("{s:s,s:s}", "amount", lk_admin_value(a, "credits.amount"),
		    "interval", iv);
		if (strcmp(iv, "monthly") == 0 && *lk_admin_value(a, "credits.day"))
			json_object_set_new(refill, "day_of_month",
			    json_string(lk_admin_value(a, "credits.day")));
	}
	return json_pack("{s:s,s:o}", "remaining", rem, "refill", refill);
}

/* The key's allowlist joined by sep ("\n" as the inputs show it, " " to compare). */
static void
ips_text(json_t *k, const char *sep, char *out, size_t size)
{
	json_t	*v;
	size_t	 i, o = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(k, "allowed_ips"), i, v)
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s%s", o ? sep : "",
		    json_string_value(v));
}

/* True if the posted allowlist (any of spaces, commas, newlines between) lists what k has. */
static bool
ips_same(const char *posted, json_t *k)
{
	char	 have[LK_ALLOWED_IPS_BUF + 64], got[LK_ALLOWED_IPS_BUF + 64];
	size_t	 o = 0, n;

	ips_text(k, " ", have, sizeof(have));
	got[0] = '\0';
	for (; *posted != '\0'; posted += n) {
		posted += strspn(posted, " ,\t\r\n");
		if ((n = strcspn(posted, " ,\t\r\n")) > 0 && o + n + 2 < sizeof(got)) {
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%.*s", o ? " " : "",
			    (int)n, posted);
		}
	}
	return strcmp(have, got) == 0;
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
	const char	*msg = lk_admin_field_error(a, "scopes", err_field, err);
	bool		 bad = msg != NULL;
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
	lk_html_elem(h, LK_E_FIELDSET, LK_A_CLASS, "checks", LK_A_ID, "f-scopes", LK_A__MAX);
	lk_html_leaf(h, LK_E_LEGEND, "Scopes", LK_A__MAX);
	if (bad)
		lk_html_leaf(h, LK_E_P, msg, LK_A_CLASS, "error", LK_A_ID, "f-scopes-error",
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
	const char *msg = lk_admin_field_error(a, "ratelimit", err_field, err);

	if (json_is_object(rl)) {
		snprintf(l, sizeof(l), "%lld", (long long)json_integer_value(json_object_get(rl, "limit")));
		snprintf(w, sizeof(w), "%lld", (long long)json_integer_value(json_object_get(rl, "window")));
	}
	lk_html_elem(&a->h, LK_E_FIELDSET, LK_A_ID, "f-ratelimit", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_LEGEND, "Rate limit (empty: the account's plan)", LK_A__MAX);
	if (msg != NULL)
		lk_html_leaf(&a->h, LK_E_P, msg, LK_A_CLASS, "error", LK_A__MAX);
	lk_admin_input(a, "Requests", "ratelimit.limit", "number", l, NULL, NULL, NULL);
	lk_admin_input(a, "Per seconds", "ratelimit.window", "number", w, NULL, NULL, NULL);
	lk_html_close(&a->h);
}

/*
 * The policy inputs: the IP allowlist and the credits with their refill
 * (k: the key being edited, NULL on the create form). credits.shown keeps
 * the remaining count the form showed, so an edit sends credits only when
 * the user changed them, not because the key was used meanwhile.
 */
static void
policy_fields(struct lk_admin *a, json_t *k, const char *err_field, const char *err)
{
	json_t	*c = k != NULL ? json_object_get(k, "credits") : NULL;
	json_t	*r = json_object_get(c, "refill");
	char	 ips[LK_ALLOWED_IPS_BUF + 64], rem[24] = "", amount[24] = "", day[8] = "";
	const char *msg = lk_admin_field_error(a, "credits", err_field, err);

	ips_text(k, "\n", ips, sizeof(ips));
	lk_admin_input(a, "Allowed IP addresses", "allowed_ips", "textarea", ips,
	    "Addresses or CIDR ranges (203.0.113.7, 198.51.100.0/24, 2001:db8::/32), one per "
	    "line, at most 100. Empty: any address.", err_field, err);
	if (json_is_object(c))
		snprintf(rem, sizeof(rem), "%lld",
		    (long long)json_integer_value(json_object_get(c, "remaining")));
	if (json_is_object(r)) {
		snprintf(amount, sizeof(amount), "%lld",
		    (long long)json_integer_value(json_object_get(r, "amount")));
		if (json_is_integer(json_object_get(r, "day_of_month")))
			snprintf(day, sizeof(day), "%lld",
			    (long long)json_integer_value(json_object_get(r, "day_of_month")));
	}
	lk_html_elem(&a->h, LK_E_FIELDSET, LK_A_ID, "f-credits", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_LEGEND, "Credits (empty: unlimited uses)", LK_A__MAX);
	if (msg != NULL)
		lk_html_leaf(&a->h, LK_E_P, msg, LK_A_CLASS, "error", LK_A__MAX);
	lk_admin_input(a, "Uses remaining", "credits.remaining", "number", rem,
	    "Each valid use spends one (verify may ask for more).", NULL, NULL);
	lk_html_elem(&a->h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "credits.shown",
	    LK_A_VALUE, rem, LK_A__MAX);
	lk_admin_select(a, "Refill", "credits.refill", refills,
	    json_is_object(r) ? lk_admin_str(r, "interval") : "none");
	lk_admin_input(a, "Refill to", "credits.amount", "number", amount,
	    "The remaining uses are set to this at each refill.", NULL, NULL);
	lk_admin_input(a, "Day of the month (monthly)", "credits.day", "number", day,
	    "1 to 31; a day past the month's end is its last day.", NULL, NULL);
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

/* The name of account public_id into out ("" if it cannot be read). */
static void
account_name(struct lk_admin *a, const char *public_id, char *out, size_t size)
{
	struct lk_account acct;

	out[0] = '\0';
	if (*public_id && lk_accounts_get(a->req->db, public_id, &acct) == LK_OK)
		snprintf(out, size, "%s", acct.name);
}

/* An account by its name, linked to its keys, with its id in small type (and on hover). */
static void
account_ref(struct lk_admin *a, const char *public_id, const char *name)
{
	char href[200];

	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?account_id=");
	lk_html_urlencode(href, sizeof(href), public_id);
	lk_html_leaf(&a->h, LK_E_A, *name ? name : public_id, LK_A_HREF, href,
	    LK_A_TITLE, public_id, LK_A__MAX);
	if (*name) {
		lk_html_text(&a->h, " ");
		lk_html_elem(&a->h, LK_E_SMALL, LK_A_CLASS, "hint", LK_A__MAX);
		lk_html_leaf(&a->h, LK_E_CODE, public_id, LK_A__MAX);
		lk_html_close(&a->h);
	}
}

/* A key by its label, linked to its page, with its id in small type. */
static void
key_ref(struct lk_admin *a, const char *id, const char *label)
{
	char href[200];

	key_href(href, sizeof(href), id, NULL);
	lk_html_leaf(&a->h, LK_E_A, *label ? label : id, LK_A_HREF, href, LK_A__MAX);
	lk_html_text(&a->h, " ");
	lk_html_elem(&a->h, LK_E_SMALL, LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_CODE, id, LK_A__MAX);
	lk_html_close(&a->h);
}

/* revoked_reason in words. */
static const char *
revoked_why(const char *reason)
{
	static const struct { const char *reason, *text; } why[] = {
		{ "manual", "revoked by hand (manual)" },
		{ "inactive", "not used within its account's inactivity policy (inactive)" },
		{ "rotated", "rotated without a grace period (rotated)" },
		{ "ceiling", "outside a lowered scope ceiling (ceiling)" },
		{ "leaked", "reported as leaked (leaked)" },
	};
	size_t i;

	for (i = 0; i < LK_NELEM(why); i++)
		if (strcmp(reason, why[i].reason) == 0)
			return why[i].text;
	return reason;
}

static void
time_row(struct lk_admin *a, const char *name, json_t *k, const char *field, const char *never)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
	lk_admin_reltime(a, time_of(k, field), never, true);
	lk_html_close(&a->h);
}

/* The dt of a row whose dd the caller writes (then closes). */
static void
open_row(struct lk_admin *a, const char *name)
{
	lk_html_leaf(&a->h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(&a->h, LK_E_DD, LK_A__MAX);
}

/*
 * The page that shows a new key's plaintext, once (after create and rotate):
 * the key with a copy button (admin.js shows it; without the script the key
 * is selected by one click), what the key is, the key it replaces (old, after
 * a rotation, may be NULL), and "I have stored it" to leave for its page.
 */
static enum lk_err
secret_page(struct lk_admin *a, json_t *k, json_t *old)
{
	struct lk_html	*h = &a->h;
	char		 href[200], scopes[LK_SCOPES_BUF], name[LK_ACCOUNT_NAME_MAX * 4 + 1];

	lk_admin_begin(a, old != NULL ? "Key rotated" : "Key created", "keys");
	lk_admin_once_box(a, "New key", "key", "new-key", lk_admin_str(k, "key"));
	lk_html_leaf(h, LK_E_P, "A click on the key selects all of it; copy it with Ctrl+C or "
	    "your device's copy command, and store it where your program reads its secrets.",
	    LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_close(h);

	lk_admin_join(json_object_get(k, "scopes"), scopes, sizeof(scopes));
	account_name(a, lk_admin_str(k, "account_id"), name, sizeof(name));
	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "new-key-fields", LK_A__MAX);
	lk_admin_row(a, "Label", lk_admin_str(k, "label"), false);
	lk_admin_row(a, "Id", lk_admin_str(k, "id"), true);
	lk_admin_row(a, "Scopes", scopes[0] ? scopes : "(none)", true);
	lk_admin_row(a, "Environment", lk_admin_str(k, "env"), false);
	time_row(a, "Expires", k, "expires_at", "never");
	open_row(a, "Account");
	account_ref(a, lk_admin_str(k, "account_id"), name);
	lk_html_close(h);
	if (old != NULL) {
		open_row(a, "Replaces");
		key_ref(a, lk_admin_str(old, "id"), lk_admin_str(old, "label"));
		if (strcmp(lk_admin_str(old, "status"), "active") == 0) {
			lk_html_text(h, ", which stops working ");
			lk_admin_reltime(a, time_of(old, "expires_at"), "", true);
		} else
			lk_html_text(h, ", which no longer works");
		lk_html_close(h);
	}
	lk_html_close(h);
	key_href(href, sizeof(href), lk_admin_str(k, "id"), NULL);
	lk_admin_link_row(a, "I have stored it", "stored", href);
	return lk_admin_end(a, 201);
}

/* ---- list ---- */

static const char *
done_notice(const char *done)
{
	static const struct { const char *done, *text; } notices[] = {
		{ "deleted", "The key was deleted." }, { "revoked", "The key was revoked." },
		{ "reactivated", "The key is active again." }, { "saved", "Your changes were saved." },
		{ "leaked", "The leak was reported: the key is revoked, and the account's owners and "
		    "developers are told." },
	};
	size_t i;

	for (i = 0; done != NULL && i < LK_NELEM(notices); i++)
		if (strcmp(done, notices[i].done) == 0)
			return notices[i].text;
	return NULL;
}

/*
 * Run the key list's API handler (GET /v1/keys, or the account's) with query
 * api_q (stolen), keeping the page's own query. *page: the answer, or NULL.
 */
static enum lk_err
api_list(struct lk_admin *a, const char *account, json_t *api_q, json_t **page)
{
	json_t		*q = json_incref(a->req->query);
	enum lk_err	 e;

	lk_admin_api_begin(a, LK_GET, NULL, api_q);
	e = lk_admin_api_end(a, lk_keys_http_collection(a->req, *account ? account : NULL));
	*page = e == LK_OK ? json_incref(a->req->captured) : NULL;
	json_decref(a->req->query);
	a->req->query = q;
	return e;
}

/*
 * The active keys of the list that expire within 7 days and were not
 * replaced: a key rotated with a grace period expires soon by design, and
 * its successor is what needs watching.
 */
static size_t
expiring_count(struct lk_admin *a, const char *account)
{
	struct lk_key	 succ;
	json_t		*page, *o;
	size_t		 i, n = 0;

	if (api_list(a, account, json_pack("{s:s,s:s,s:s}", "status", "active",
	    "expiring_within", "7d", "limit", "100"), &page) != LK_OK)
		return 0;
	json_array_foreach(json_object_get(page, "data"), i, o)
		if (lk_keys_successor(a->req->db, lk_admin_str(o, "id"), &succ) != LK_OK)
			n++;
	json_decref(page);
	return n;
}

/* The name of account id in tree (lk_admin_tree), or "". */
static const char *
tree_name(json_t *tree, const char *id)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(tree, i, o)
		if (strcmp(lk_admin_str(o, "id"), id) == 0)
			return lk_admin_str(o, "name");
	return "";
}

/* One key of the list: label (the row's heading on a narrow screen), then its columns. */
static void
list_row(struct lk_admin *a, json_t *o)
{
	struct lk_html	*h = &a->h;
	struct lk_key	 succ;
	char		 href[200];
	json_t		*s1;
	size_t		 j;

	lk_html_elem(h, LK_E_TR, LK_A__MAX);
	key_href(href, sizeof(href), lk_admin_str(o, "id"), NULL);
	lk_html_elem(h, LK_E_TD, LK_A__MAX);
	lk_html_leaf(h, LK_E_A, lk_admin_str(o, "label"), LK_A_HREF, href, LK_A__MAX);
	lk_html_close(h);
	lk_admin_cell(a, "Start", NULL);
	lk_html_leaf(h, LK_E_CODE, lk_admin_str(o, "start"), LK_A__MAX);
	lk_html_close(h);
	lk_admin_cell(a, "Env", "opt");
	lk_html_text(h, lk_admin_str(o, "env"));
	lk_html_close(h);
	lk_admin_cell(a, "Status", NULL);
	status_word(a, lk_admin_str(o, "status"));
	/* only a key that expires can be in a rotation's grace period */
	if (strcmp(lk_admin_str(o, "status"), "active") == 0 && time_of(o, "expires_at") != 0 &&
	    lk_keys_successor(a->req->db, lk_admin_str(o, "id"), &succ) == LK_OK) {
		key_href(href, sizeof(href), succ.public_id, NULL);
		lk_html_text(h, " ");
		lk_html_elem(h, LK_E_SMALL, LK_A_CLASS, "hint", LK_A__MAX);
		lk_html_leaf(h, LK_E_A, "replaced", LK_A_HREF, href, LK_A_TITLE, succ.label,
		    LK_A__MAX);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_admin_cell(a, "Scopes", NULL);
	json_array_foreach(json_object_get(o, "scopes"), j, s1) {
		if (j > 0)
			lk_html_text(h, " ");
		lk_html_leaf(h, LK_E_CODE, json_string_value(s1), LK_A__MAX);
	}
	lk_html_close(h);
	lk_admin_cell(a, "Created", "opt");
	lk_admin_reltime(a, time_of(o, "created_at"), "", false);
	lk_html_close(h);
	lk_admin_cell(a, "Expires", NULL);
	lk_admin_reltime(a, time_of(o, "expires_at"), "never", false);
	lk_html_close(h);
	lk_admin_cell(a, "Last used", NULL);
	lk_admin_reltime(a, time_of(o, "last_used_at"), "never", false);
	lk_html_close(h);
	lk_html_close(h);
}

/*
 * What an empty list says: an account without keys says so and offers to
 * create one; a filtered list that hides every key offers to clear the filters.
 */
static void
empty_list(struct lk_admin *a, const char *account, bool filtered, const char *name)
{
	struct lk_html	*h = &a->h;
	json_t		*any = NULL;
	char		 href[200];
	bool		 none = true;

	if (filtered && api_list(a, account, json_pack("{s:s}", "limit", "1"), &any) == LK_OK)
		none = json_array_size(json_object_get(any, "data")) == 0;
	json_decref(any);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "empty", LK_A_ID, "empty", LK_A__MAX);
	lk_html_elem(h, LK_E_P, LK_A__MAX);
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?account_id=");
	lk_html_urlencode(href, sizeof(href), account);
	if (!none) {
		lk_html_text(h, "No keys match. ");
		lk_html_leaf(h, LK_E_A, "Clear the filters", LK_A_HREF, href, LK_A_ID, "clear-filters",
		    LK_A__MAX);
		lk_html_textf(h, " to see every key of %s.", *name ? name : "this account");
		lk_html_close(h);
	} else if (lk_admin_can(a, "keys:write")) {
		lk_html_text(h, "No keys in this account yet — ");
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/new?account_id=");
		lk_html_urlencode(href, sizeof(href), account);
		lk_html_leaf(h, LK_E_A, "Create a key", LK_A_HREF, href, LK_A_ID, "empty-create",
		    LK_A__MAX);
		lk_html_close(h);
		lk_html_leaf(h, LK_E_P, "A key lets a program call your API; its plaintext is "
		    "shown once, when it is created.", LK_A_CLASS, "hint", LK_A__MAX);
	} else {
		lk_html_text(h, "No keys in this account yet. An owner or developer of the "
		    "account can create one.");
		lk_html_close(h);
	}
	lk_html_close(h);
}

/* The filter form (a GET form): account, status, environment, label, expiring soon. */
static void
filter_form(struct lk_admin *a, json_t *tree, const char *account, const char *status,
    const char *env, const char *label, const char *inactive, bool expiring)
{
	static const char *const st[] = { "", "active", "revoked", "expired", NULL };
	static const char *const en[] = { "", "live", "test", NULL };
	static const char *const st_names[] = { "any", "active", "revoked", "expired" };
	static const char *const en_names[] = { "any", "live", "test" };
	const char *const	*sets[] = { st, en };
	const char *const	*names[] = { st_names, en_names };
	const char		*fields[] = { "status", "env" }, *labels[] = { "Status", "Environment" };
	const char		*vals[] = { status, env };
	struct lk_html		*h = &a->h;
	char			 id[32];
	size_t			 i;
	int			 f;

	lk_html_elem(h, LK_E_FORM, LK_A_METHOD, "get", LK_A_ACTION, LK_ADMIN_BASE "/keys",
	    LK_A_CLASS, "inline", LK_A_ROLE, "search", LK_A_ARIA_LABEL, "Filter keys", LK_A__MAX);
	if (tree != NULL)
		lk_admin_account_select(a, "Account", "account_id", tree, account);
	for (f = 0; f < 2; f++) {
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
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Label contains", LK_A_FOR, "f-q", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "search", LK_A_ID, "f-q", LK_A_NAME, "q",
	    LK_A_VALUE, label, LK_A__MAX);
	lk_html_close(h);
	/* the candidates of an inactivity policy of that many days */
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Not used for (days)", LK_A_FOR, "f-inactive", LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "number", LK_A_ID, "f-inactive",
	    LK_A_NAME, "inactive_days", LK_A_MIN, "1", LK_A_MAX, "3650", LK_A_VALUE, inactive,
	    LK_A__MAX);
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
}

static enum lk_err
list_page(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	struct lk_html	*h = &a->h;
	json_t		*q = req->query, *page, *api_q, *o, *tree = NULL;
	const char	*account = lk_admin_str(q, "account_id"), *notice;
	const char	*status = lk_admin_str(q, "status"), *env = lk_admin_str(q, "env");
	const char	*label = lk_admin_str(q, "q"), *cursor = lk_admin_str(q, "cursor");
	const char	*inactive = lk_admin_str(q, "inactive_days");
	const char	*shown;		/* the account whose keys are listed */
	bool		 expiring = strcmp(lk_admin_str(q, "expiring"), "7d") == 0;
	char		 more[1200], href[200], err[sizeof(req->err_message)];
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
	if (*inactive)
		json_object_set_new(api_q, "inactive_days", json_string(inactive));
	if (*cursor)
		json_object_set_new(api_q, "cursor", json_string(cursor));
	e = api_list(a, account, api_q, &page);
	if (e == LK_ERR_NOT_FOUND || e == LK_ERR_FORBIDDEN || e == LK_ERR_UNAVAILABLE ||
	    e == LK_ERR_INTERNAL)
		return e;
	/* copied: the calls below reset the request's error */
	snprintf(err, sizeof(err), "%s", req->err_message);
	if (e == LK_OK)
		expiring_n = expiring_count(a, account);
	shown = *account ? account : a->caller.key.owner.public_id;
	if (lk_admin_tree(a, NULL, &tree) != LK_OK) {
		json_decref(tree);
		tree = NULL;
	}

	lk_admin_begin(a, "API keys", "keys");
	if (expiring_n > 0) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "banner", LK_A_ROLE, "status", LK_A__MAX);
		lk_html_textf(h, "%zu active key%s of this account expire%s within 7 days. ",
		    expiring_n, expiring_n == 1 ? "" : "s", expiring_n == 1 ? "s" : "");
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?status=active&expiring=7d"
		    "&account_id=");
		lk_html_urlencode(href, sizeof(href), shown);
		lk_html_leaf(h, LK_E_A, "Show them", LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
	}
	if (lk_admin_can(a, "keys:write")) {
		/* in the account being viewed (the form preselects it) */
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/new?account_id=");
		lk_html_urlencode(href, sizeof(href), account);
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "primary", LK_A__MAX);
		lk_html_leaf(h, LK_E_A, "Create a key", LK_A_HREF,
		    *account ? href : LK_ADMIN_BASE "/keys/new", LK_A_ID, "create-key", LK_A__MAX);
		lk_html_close(h);
	}
	filter_form(a, tree, shown, status, env, label, inactive, expiring);
	if (e != LK_OK) {
		lk_admin_alert(a, err);
		json_decref(tree);
		return lk_admin_end(a, lk_err_status(e));
	}
	if (json_array_size(json_object_get(page, "data")) == 0)
		empty_list(a, shown, *status || *env || *label || *inactive || expiring || *cursor,
		    tree_name(tree, shown));
	else {
		static const char *const cols[] = { "Label", "Start", "Env", "Status", "Scopes",
		    "Created", "Expires", "Last used" };

		lk_admin_table(a, "Keys", LK_A_ID, "keys", "Keys, newest first", cols,
		    LK_NELEM(cols));
		json_array_foreach(json_object_get(page, "data"), i, o)
			list_row(a, o);
		lk_html_close(h);
		lk_html_close(h);
		lk_html_close(h);
	}
	json_decref(tree);
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "pager", LK_A__MAX);
	if (*cursor)
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
		strncat(more, "&inactive_days=", sizeof(more) - strlen(more) - 1);
		lk_html_urlencode(more, sizeof(more), inactive);
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
	enum lk_err	 e;

	if ((e = lk_admin_once_form(a, "Create a key", "keys", LK_ADMIN_BASE "/keys/new",
	    err)) != LK_OK)
		return e;
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
	policy_fields(a, NULL, err_field, err);
	lk_admin_button(a, "Create key", NULL);
	lk_html_close(h);
	return lk_admin_end(a, status);
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	char		 done[LK_PUBLIC_ID_MAX];
	const char	*token = lk_admin_value(a, "form_token");
	json_t		*body, *rl, *k;
	enum lk_err	 e;

	e = lk_admin_once_claim(a, "keys", "key", LK_ADMIN_BASE "/keys", done);
	if (e == LK_ERR_CONFLICT)
		return LK_OK;
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
	if (*lk_admin_value(a, "allowed_ips"))
		json_object_set_new(body, "allowed_ips", json_string(lk_admin_value(a, "allowed_ips")));
	if (*lk_admin_value(a, "credits.remaining"))
		json_object_set_new(body, "credits", form_credits(a));
	lk_admin_api_begin(a, LK_POST, body, NULL);
	e = lk_admin_api_end(a, lk_keys_http_collection(req, NULL));
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN)
		return create_form(a, lk_err_status(e), lk_admin_err_field(a), req->err_message);
	if (e != LK_OK)
		return e;
	k = req->captured;
	lk_sessions_form_result(req, token, lk_admin_str(k, "id"));
	return secret_page(a, k, NULL);
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

/*
 * The rotate form: how long the old key keeps working, 24 h unless the user
 * picks another time or "now" (the posted choice when this form failed).
 */
static void
rotate_form(struct lk_admin *a, const char *id, const char *err_field)
{
	static const struct { const char *value, *text; } graces[] = {
		{ "24h", "24 hours (recommended)" }, { "1h", "1 hour" }, { "7d", "7 days" },
		{ "30d", "30 days" }, { "0", "no time: revoke it now" },
	};
	struct lk_html	*h = &a->h;
	const char	*v = json_object_get(a->form, "grace_period") != NULL ?
	    lk_admin_value(a, "grace_period") : "24h";
	bool		 bad = err_field != NULL && strcmp(err_field, "grace_period") == 0;
	char		 href[200];
	size_t		 i;

	key_href(href, sizeof(href), id, "rotate");
	lk_admin_form(a, href, "inline");
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Old key keeps working for", LK_A_FOR, "f-grace_period",
	    LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, "f-grace_period", LK_A_NAME, "grace_period",
	    LK_A_ARIA_DESCRIBEDBY, "f-grace_period-hint", LK_A_ARIA_INVALID, bad ? "true" : NULL,
	    LK_A__MAX);
	for (i = 0; i < LK_NELEM(graces); i++)
		lk_html_leaf(h, LK_E_OPTION, graces[i].text, LK_A_VALUE, graces[i].value,
		    LK_A_SELECTED, strcmp(v, graces[i].value) == 0 ? "" : NULL, LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
	lk_admin_button(a, "Rotate", NULL);
	lk_html_close(h);
}

/* The key's fields (dl#key-fields), names and labels beside the ids they stand for. */
static void
details_section(struct lk_admin *a, json_t *k, const char *scopes, const char *meta,
    const struct lk_key *succ)
{
	struct lk_html	*h = &a->h;
	struct lk_key	 from;
	json_t		*rl = json_object_get(k, "ratelimit");
	const char	*rotated = lk_admin_str(k, "rotated_from");
	char		 name[LK_ACCOUNT_NAME_MAX * 4 + 1], buf[96] = "the account's plan";

	lk_html_elem(h, LK_E_SECTION, LK_A_ID, "details", LK_A_ARIA_LABELLEDBY, "details-h",
	    LK_A__MAX);
	lk_html_leaf(h, LK_E_H2, "Details", LK_A_ID, "details-h", LK_A__MAX);
	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "key-fields", LK_A__MAX);
	lk_admin_row(a, "Id", lk_admin_str(k, "id"), true);
	lk_admin_row(a, "Start", lk_admin_str(k, "start"), true);
	open_row(a, "Status");
	status_word(a, lk_admin_str(k, "status"));
	lk_html_close(h);
	lk_admin_row(a, "Environment", lk_admin_str(k, "env"), false);
	account_name(a, lk_admin_str(k, "account_id"), name, sizeof(name));
	open_row(a, "Account");
	account_ref(a, lk_admin_str(k, "account_id"), name);
	lk_html_close(h);
	lk_admin_row(a, "Scopes", scopes[0] ? scopes : "(none)", true);
	time_row(a, "Created", k, "created_at", "");
	time_row(a, "Expires", k, "expires_at", "never");
	if (time_of(k, "revoked_at") != 0) {
		time_row(a, "Revoked", k, "revoked_at", "no");
		lk_admin_row(a, "Revoked because", revoked_why(lk_admin_str(k, "revoked_reason")),
		    false);
	}
	if (json_is_true(json_object_get(k, "imported")))
		lk_admin_row(a, "Imported", "yes: made elsewhere, known here by its SHA-256", false);
	time_row(a, "Last used", k, "last_used_at", "never");
	if (*rotated) {
		open_row(a, "Rotated from");
		/* the old key is in the same account; it may have been deleted since */
		if (lk_keys_get(a->req->db, rotated, &from) == LK_OK)
			key_ref(a, from.public_id, from.label);
		else
			lk_html_leaf(h, LK_E_CODE, rotated, LK_A__MAX);
		lk_html_close(h);
	}
	if (succ != NULL) {
		open_row(a, "Replaced by");
		key_ref(a, succ->public_id, succ->label);
		lk_html_close(h);
	}
	if (json_is_object(rl))
		snprintf(buf, sizeof(buf), "%lld per %lld s",
		    (long long)json_integer_value(json_object_get(rl, "limit")),
		    (long long)json_integer_value(json_object_get(rl, "window")));
	lk_admin_row(a, "Rate limit", buf, false);
	{
		char	 ips[LK_ALLOWED_IPS_BUF + 64];
		json_t	*c = json_object_get(k, "credits"), *r = json_object_get(c, "refill");

		ips_text(k, " ", ips, sizeof(ips));
		lk_admin_row(a, "Allowed IPs", ips[0] ? ips : "any address", ips[0] != '\0');
		snprintf(buf, sizeof(buf), "unlimited");
		if (json_is_object(c) && json_is_object(r))
			snprintf(buf, sizeof(buf), "%lld left, refilled to %lld %s%s%.0lld",
			    (long long)json_integer_value(json_object_get(c, "remaining")),
			    (long long)json_integer_value(json_object_get(r, "amount")),
			    lk_admin_str(r, "interval"), json_is_integer(json_object_get(r,
			    "day_of_month")) ? " on day " : "",
			    (long long)json_integer_value(json_object_get(r, "day_of_month")));
		else if (json_is_object(c))
			snprintf(buf, sizeof(buf), "%lld left, no refill",
			    (long long)json_integer_value(json_object_get(c, "remaining")));
		lk_admin_row(a, "Credits", buf, false);
	}
	lk_admin_row(a, "Metadata", meta, true);
	lk_html_close(h);
	lk_html_close(h);
}

/*
 * "Report leaked" (folded unless it just failed): where the key was found,
 * and a tick that confirms it is revoked now. POST …/leak (report_leak).
 */
static void
leak_form(struct lk_admin *a, const char *id, const char *err_field, const char *err)
{
	struct lk_html	*h = &a->h;
	const char	*confirm_err = lk_admin_field_error(a, "confirm", err_field, err);
	char		 href[200];

	lk_html_elem(h, LK_E_DETAILS, LK_A_CLASS, "edit", LK_A_ID, "leak",
	    LK_A_OPEN, err != NULL ? "" : NULL, LK_A__MAX);
	lk_html_leaf(h, LK_E_SUMMARY, "Report leaked…", LK_A__MAX);
	key_href(href, sizeof(href), id, "leak");
	lk_admin_form(a, href, "stack");
	lk_admin_input(a, "Where it was found", "url", "text", "",
	    "A URL or a few words (a repository, a ticket, a paste). Optional.", err_field, err);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_elem(h, LK_E_LABEL, LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_NAME, "confirm", LK_A_VALUE, "yes",
	    LK_A_ID, "f-confirm", LK_A_ARIA_INVALID, confirm_err != NULL ? "true" : NULL,
	    LK_A__MAX);
	lk_html_text(h, " Revoke this key now: programs using it stop working, and the "
	    "account's owners and developers are told it leaked");
	lk_html_close(h);
	if (confirm_err != NULL)
		lk_html_leaf(h, LK_E_P, confirm_err, LK_A_CLASS, "error", LK_A__MAX);
	lk_html_close(h);
	lk_admin_button(a, "Report leaked", "danger");
	lk_html_close(h);
	lk_html_close(h);
}

/*
 * What a writer can do, in one row (revoke or reactivate, rotate, delete),
 * then the edit form, folded unless an edit just failed. failed names the
 * action whose error (err, about err_field) is shown, or is NULL.
 */
static void
actions_section(struct lk_admin *a, json_t *k, const char *scopes, const char *meta,
    bool replaced, const char *failed, const char *err_field, const char *err)
{
	struct lk_html	*h = &a->h;
	const char	*id = lk_admin_str(k, "id"), *st = lk_admin_str(k, "status");
	bool		 edit_failed = failed != NULL && strcmp(failed, "edit") == 0;
	bool		 leak_failed = failed != NULL && strcmp(failed, "leak") == 0;
	const char	*leak_field = leak_failed ? err_field : NULL, *leak_err = leak_failed ? err : NULL;
	bool		 rotate = strcmp(st, "active") == 0 && !replaced;
	char		 href[200], date[16] = "";

	lk_html_elem(h, LK_E_SECTION, LK_A_ID, "actions", LK_A_ARIA_LABELLEDBY, "actions-h",
	    LK_A__MAX);
	lk_html_leaf(h, LK_E_H2, "Actions", LK_A_ID, "actions-h", LK_A__MAX);
	if (err != NULL && !edit_failed && !leak_failed)
		lk_admin_alert(a, err);
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
	if (rotate)
		rotate_form(a, id, failed != NULL && !edit_failed && !leak_failed ? err_field : NULL);
	key_href(href, sizeof(href), id, "delete");
	lk_html_leaf(h, LK_E_A, "Delete…", LK_A_HREF, href, LK_A_ID, "delete-link",
	    LK_A_CLASS, "button danger", LK_A__MAX);
	lk_html_close(h);
	if (rotate)
		lk_html_leaf(h, LK_E_P, "Rotate makes a new key with the same label, scopes and "
		    "limits, shown once; the old key keeps working for the time chosen, so that "
		    "programs can move to the new one.", LK_A_CLASS, "hint",
		    LK_A_ID, "f-grace_period-hint", LK_A__MAX);

	lk_html_elem(h, LK_E_DETAILS, LK_A_CLASS, "edit", LK_A_ID, "edit",
	    LK_A_OPEN, edit_failed ? "" : NULL, LK_A__MAX);
	lk_html_leaf(h, LK_E_SUMMARY, "Edit label, scopes, expiry, rate limit, metadata",
	    LK_A__MAX);
	if (edit_failed)
		lk_admin_alert(a, err);
	if (!edit_failed)
		err_field = err = NULL;
	if (time_of(k, "expires_at") != 0)
		snprintf(date, sizeof(date), "%.10s", lk_admin_str(k, "expires_at"));
	key_href(href, sizeof(href), id, "edit");
	lk_admin_form(a, href, "stack");
	lk_admin_input(a, "Label", "label", "text", lk_admin_str(k, "label"), NULL, err_field, err);
	scopes_fields(a, scopes, err_field, err);
	lk_admin_input(a, "Expires on (UTC, end of day)", "expires_at", "date", date,
	    "Empty: never expires.", err_field, err);
	ratelimit_fields(a, json_object_get(k, "ratelimit"), err_field, err);
	lk_admin_input(a, "Metadata (JSON object)", "meta", "textarea", meta, NULL, err_field, err);
	policy_fields(a, k, err_field, err);
	lk_admin_button(a, "Save changes", NULL);
	lk_html_close(h);
	lk_html_close(h);
	leak_form(a, id, leak_field, leak_err);
	lk_html_close(h);
}

/* A link of the key page's section navigation. */
static void
section_link(struct lk_admin *a, const char *href, const char *text)
{
	lk_html_elem(&a->h, LK_E_LI, LK_A__MAX);
	lk_html_leaf(&a->h, LK_E_A, text, LK_A_HREF, href, LK_A__MAX);
	lk_html_close(&a->h);
}

/*
 * The key page, in sections: details and actions side by side on a wide
 * screen, then usage, then the key's newest audit rows. failed, err_field and err:
 * the action that just failed and its error (NULLs for none).
 */
static enum lk_err
detail_page(struct lk_admin *a, json_t *k, int status, const char *failed,
    const char *err_field_in, const char *err_in)
{
	struct lk_html	*h = &a->h;
	/* Copies: the API calls below (usage, audit) reset the request's error. */
	char		 err_field[64], err_buf[sizeof(a->req->err_message)];
	const char	*err = err_in != NULL ? err_buf : NULL;
	const char	*id = lk_admin_str(k, "id"), *st = lk_admin_str(k, "status");
	char		 scopes[LK_SCOPES_BUF], name[LK_ACCOUNT_NAME_MAX * 4 + 1], *meta;
	char		 href[200];
	struct lk_key	 succ;
	bool		 replaced = lk_keys_successor(a->req->db, id, &succ) == LK_OK;
	json_t		*usage;

	snprintf(err_field, sizeof(err_field), "%s", err_field_in != NULL ? err_field_in : "");
	snprintf(err_buf, sizeof(err_buf), "%s", err_in != NULL ? err_in : "");
	lk_admin_join(json_object_get(k, "scopes"), scopes, sizeof(scopes));
	meta = json_dumps(json_object_get(k, "meta"), JSON_COMPACT);
	account_name(a, lk_admin_str(k, "account_id"), name, sizeof(name));
	lk_admin_begin(a, lk_admin_str(k, "label"), "keys");
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "sub", LK_A__MAX);
	status_word(a, st);
	lk_html_leaf(h, LK_E_CODE, lk_admin_str(k, "start"), LK_A__MAX);
	lk_html_elem(h, LK_E_SPAN, LK_A__MAX);
	lk_html_textf(h, "%s key of %s", lk_admin_str(k, "env"),
	    *name ? name : lk_admin_str(k, "account_id"));
	lk_html_close(h);
	lk_html_close(h);
	if (replaced) {
		lk_html_elem(h, LK_E_P, LK_A_CLASS, "banner", LK_A_ID, "replaced", LK_A__MAX);
		lk_html_text(h, "Replaced by ");
		key_ref(a, succ.public_id, succ.label);
		if (strcmp(st, "active") == 0) {
			lk_html_text(h, ". This key stops working ");
			lk_admin_reltime(a, time_of(k, "expires_at"), "", false);
			lk_html_text(h, "; programs still using it should move to the new one.");
		} else
			lk_html_text(h, ". This key no longer works.");
		lk_html_close(h);
	}
	lk_html_elem(h, LK_E_NAV, LK_A_CLASS, "sections", LK_A_ARIA_LABEL, "Sections of this key",
	    LK_A__MAX);
	lk_html_elem(h, LK_E_UL, LK_A__MAX);
	section_link(a, "#details", "Details");
	if (lk_admin_can(a, "keys:write"))
		section_link(a, "#actions", "Actions");
	section_link(a, "#usage", "Usage");
	if (lk_admin_can(a, "audit:read"))
		section_link(a, "#audit", "Audit");
	lk_html_close(h);
	lk_html_close(h);

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "panels", LK_A__MAX);
	details_section(a, k, scopes, meta != NULL ? meta : "{}", replaced ? &succ : NULL);
	if (lk_admin_can(a, "keys:write"))
		actions_section(a, k, scopes, meta != NULL ? meta : "{}", replaced, failed,
		    err_field[0] ? err_field : NULL, err);
	lk_html_close(h);
	free(meta);
	usage = get_usage(a, id);
	lk_admin_usage_section(a, json_object_get(usage, "data"));
	json_decref(usage);
	if (lk_admin_can(a, "audit:read")) {
		lk_html_elem(h, LK_E_SECTION, LK_A_ID, "audit", LK_A_ARIA_LABELLEDBY, "audit-h",
		    LK_A__MAX);
		lk_html_leaf(h, LK_E_H2, "Audit", LK_A_ID, "audit-h", LK_A__MAX);
		lk_admin_audit_table(a, id, 10);
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/audit?target_id=");
		lk_html_urlencode(href, sizeof(href), id);
		lk_html_elem(h, LK_E_P, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, "All audit rows of this key", LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
		lk_html_close(h);
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
	{
		json_t	*r = json_object_get(json_object_get(k, "credits"), "refill");
		bool	 credits_changed;

		if (!ips_same(lk_admin_value(a, "allowed_ips"), k))
			json_object_set_new(body, "allowed_ips",
			    *lk_admin_value(a, "allowed_ips") ? json_string(lk_admin_value(a,
			    "allowed_ips")) : json_null());
		/* credits: only what the user changed (the count goes down with every use) */
		credits_changed = strcmp(lk_admin_value(a, "credits.remaining"),
		    lk_admin_value(a, "credits.shown")) != 0 ||
		    strcmp(lk_admin_value(a, "credits.refill"),
		    json_is_object(r) ? lk_admin_str(r, "interval") : "none") != 0;
		if (json_is_object(r) && !credits_changed) {
			char n[24];

			snprintf(n, sizeof(n), "%lld",
			    (long long)json_integer_value(json_object_get(r, "amount")));
			credits_changed = strcmp(lk_admin_value(a, "credits.amount"), n) != 0;
			snprintf(n, sizeof(n), "%lld",
			    (long long)json_integer_value(json_object_get(r, "day_of_month")));
			credits_changed |= json_is_integer(json_object_get(r, "day_of_month")) &&
			    strcmp(lk_admin_value(a, "credits.day"), n) != 0;
		}
		if (credits_changed)
			json_object_set_new(body, "credits", form_credits(a));
	}
	return body;
}

static enum lk_err
delete_page(struct lk_admin *a, json_t *k)
{
	char action[200], back[200];

	lk_admin_begin(a, "Delete this key?", "keys");
	lk_html_elem(&a->h, LK_E_P, LK_A__MAX);
	lk_html_text(&a->h, "You are about to delete the key ");
	lk_html_leaf(&a->h, LK_E_STRONG, lk_admin_str(k, "label"), LK_A__MAX);
	lk_html_text(&a->h, " (");
	lk_html_leaf(&a->h, LK_E_CODE, lk_admin_str(k, "start"), LK_A__MAX);
	lk_html_text(&a->h, "). Programs using it stop working at once; this cannot be undone. "
	    "The audit log keeps its record.");
	lk_html_close(&a->h);
	key_href(action, sizeof(action), lk_admin_str(k, "id"), "delete");
	key_href(back, sizeof(back), lk_admin_str(k, "id"), NULL);
	return lk_admin_confirm(a, action, "Delete the key", back);
}

/*
 * POST …/leak: the same report as POST /v1/leaks (model/leaks), by the
 * signed-in user, for the key the user can see (k); source "console".
 */
static enum lk_err
report_leak(struct lk_admin *a, json_t *k)
{
	const char		*url = lk_admin_value(a, "url");
	struct lk_leak_result	 r;
	struct lk_caller	 c = a->caller;
	struct lk_key		 key;
	char			 href[200];
	size_t			 i;
	enum lk_err		 e;

	if ((e = lk_admin_require(a, "keys:write")) != LK_OK)
		return e;
	for (i = 0; url[i] != '\0' && (unsigned char)url[i] >= 0x20 && url[i] != 0x7f; i++)
		;
	if (url[i] != '\0' || i > LK_LEAK_URL_MAX)
		return detail_page(a, k, 400, "leak", "url", "Give a URL or a few words of at most "
		    "2048 characters, on one line.");
	if (strcmp(lk_admin_value(a, "confirm"), "yes") != 0)
		return detail_page(a, k, 400, "leak", "confirm",
		    "Tick the box to confirm: the key is revoked now.");
	lk_auth_actor(a->req, &c);
	if ((e = lk_keys_get(a->req->db, lk_admin_str(k, "id"), &key)) != LK_OK ||
	    (e = lk_leaks_report(a->req->db, &c.actor, &key, url, "console", a->req->now, &r)) !=
	    LK_OK)
		return e;
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/%s?done=leaked#details", key.public_id);
	return lk_admin_redirect(a, href);
}

static enum lk_err
item(struct lk_admin *a, const char *id, const char *action)
{
	struct lk_req	*req = a->req;
	json_t		*k, *body = NULL;
	char		 href[200], scopes[LK_SCOPES_BUF];
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
			e = detail_page(a, k, 200, NULL, NULL, NULL);
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
		lk_admin_join(json_object_get(k, "scopes"), scopes, sizeof(scopes));
		body = edit_body(a, k, scopes);
		if (json_object_size(body) == 0) {
			json_decref(body);
			snprintf(a->notice, sizeof(a->notice), "Nothing was changed.");
			json_t *f = a->form;

			a->form = NULL;
			e = detail_page(a, k, 200, NULL, NULL, NULL);
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
	} else if (strcmp(action, "leak") == 0) {
		e = report_leak(a, k);
		json_decref(k);
		return e;
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
		e = detail_page(a, k, lk_err_status(shown), action,
		    lk_admin_err_field(a) != NULL ? lk_admin_err_field(a) :
		    strcmp(action, "edit") == 0 ? "label" : NULL, req->err_message);
		json_decref(k);
		return e;
	}
	if (e == LK_OK && strcmp(action, "rotate") == 0) {
		json_t *nk = json_incref(req->captured), *old;

		/* the old key as it is now (its grace period's end), else as it was */
		if (get_key(a, id, &old) != LK_OK)
			old = json_incref(k);
		e = secret_page(a, nk, old);
		json_decref(old);
		json_decref(nk);
		json_decref(k);
		return e;
	}
	json_decref(k);
	if (e != LK_OK)
		return e;
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
