/* admin_audit.c — the console's audit log: the rows GET /v1/audit lists, as a table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>

#include "api/audit.h"
#include "base/scopes.h"
#include "base/timefmt.h"
#include "console/admin.h"
#include "model/audit.h"

/* A changed value as text: a string as itself, null as "none", a list of strings space-separated, else JSON. */
static void
value_text(struct lk_admin *a, json_t *v, const char *cls)
{
	char	*s = NULL, buf[LK_SCOPES_BUF];
	json_t	*x;
	size_t	 i, n = 0;
	bool	 words = json_is_array(v);

	json_array_foreach(v, i, x)
		words = words && json_is_string(x);
	if (json_is_string(v))
		lk_html_leaf(&a->h, LK_E_SPAN, json_string_value(v), LK_A_CLASS, cls, LK_A__MAX);
	else if (v == NULL || json_is_null(v))
		lk_html_leaf(&a->h, LK_E_SPAN, "none", LK_A_CLASS, cls, LK_A__MAX);
	else if (words && json_array_size(v) > 0) {
		buf[0] = '\0';
		json_array_foreach(v, i, x)
			if (n < sizeof(buf))
				n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
				    json_string_value(x));
		lk_html_leaf(&a->h, LK_E_SPAN, buf, LK_A_CLASS, cls, LK_A__MAX);
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
		lk_html_leaf(&a->h, LK_E_SPAN, s != NULL ? s : "", LK_A_CLASS, cls, LK_A__MAX);
		free(s);
	}
}

/*
 * A row's changes as a list: "field: old → new" for a field recorded as
 * {"old", "new"} (lk_audit_change), "field: value" for the other rows (what
 * was created or deleted, and update rows written before the old value was
 * kept).
 */
static void
changes_list(struct lk_admin *a, json_t *changes)
{
	struct lk_html	*h = &a->h;
	const char	*field;
	json_t		*v;

	if (json_object_size(changes) == 0) {
		lk_html_text(h, "—");
		return;
	}
	lk_html_elem(h, LK_E_UL, LK_A_CLASS, "changes", LK_A__MAX);
	json_object_foreach(changes, field, v) {
		bool diff = json_is_object(v) && json_object_size(v) == 2 &&
		    json_object_get(v, "old") != NULL && json_object_get(v, "new") != NULL;

		lk_html_elem(h, LK_E_LI, LK_A__MAX);
		lk_html_leaf(h, LK_E_SPAN, field, LK_A_CLASS, "fname", LK_A__MAX);
		lk_html_text(h, ": ");
		if (diff) {
			value_text(a, json_object_get(v, "old"), "old");
			lk_html_text(h, " → ");
			value_text(a, json_object_get(v, "new"), "new");
		} else
			value_text(a, v, "new");
		lk_html_close(h);
	}
	lk_html_close(h);
}

/*
 * Who or what an id is: its name (a link to its page for keys and accounts)
 * with the id in small type, or the id alone when the row has no name for it.
 */
static void
named_id(struct lk_admin *a, const char *id, const char *name)
{
	struct lk_html	*h = &a->h;
	char		 href[200] = "";

	if (strcmp(id, "cli") == 0 || strcmp(id, "anonymous") == 0 || *id == '\0') {
		lk_html_text(h, strcmp(id, "cli") == 0 ? "the latchkey CLI" :
		    *id ? "anonymous (not signed in)" : "—");
		return;
	}
	if (name == NULL || *name == '\0') {
		lk_html_leaf(h, LK_E_CODE, id, LK_A__MAX);
		return;
	}
	if (strncmp(id, "key_", 4) == 0)
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys/%s", id);
	else if (strncmp(id, "acct_", 5) == 0)
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts/%s", id);
	if (href[0] != '\0')
		lk_html_leaf(h, LK_E_A, name, LK_A_HREF, href, LK_A__MAX);
	else
		lk_html_leaf(h, LK_E_SPAN, name, LK_A_CLASS, "name", LK_A__MAX);
	lk_html_text(h, " ");
	lk_html_elem(h, LK_E_SMALL, LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, id, LK_A__MAX);
	lk_html_close(h);
}

static void
rows_table(struct lk_admin *a, json_t *rows)
{
	struct lk_html	*h = &a->h;
	static const char *const cols[] = { "When", "Event", "Account", "By", "Changes" };
	json_t		*o;
	size_t		 i;
	int64_t		 at;

	lk_admin_table(a, "Audit rows", LK_A_CLASS, "audit",
	    "Audit rows, newest first", cols, LK_NELEM(cols));
	json_array_foreach(rows, i, o) {
		lk_html_elem(h, LK_E_TR, LK_A__MAX);
		lk_admin_cell(a, "When", "at");
		if (lk_time_parse(lk_admin_str(o, "at"), &at))
			lk_admin_reltime(a, at, "", true);
		lk_html_close(h);
		lk_admin_cell(a, "Event", NULL);
		lk_html_leaf(h, LK_E_STRONG, lk_admin_str(o, "action"), LK_A_CLASS, "action",
		    LK_A__MAX);
		lk_html_elem(h, LK_E_SPAN, LK_A_CLASS, "target", LK_A__MAX);
		named_id(a, lk_admin_str(o, "target_id"),
		    json_string_value(json_object_get(o, "target_name")));
		lk_html_close(h);
		lk_html_close(h);
		lk_admin_cell(a, "Account", NULL);
		named_id(a, lk_admin_str(o, "account_id"),
		    json_string_value(json_object_get(o, "account_name")));
		lk_html_close(h);
		lk_admin_cell(a, "By", "by");
		named_id(a, lk_admin_str(o, "actor"),
		    json_string_value(json_object_get(o, "actor_name")));
		if (*lk_admin_str(o, "ip") || *lk_admin_str(o, "request_id")) {
			lk_html_elem(h, LK_E_SMALL, LK_A_CLASS, "from", LK_A__MAX);
			if (*lk_admin_str(o, "ip"))
				lk_html_textf(h, "from %s ", lk_admin_str(o, "ip"));
			lk_html_text(h, "request ");
			lk_html_leaf(h, LK_E_CODE, lk_admin_str(o, "request_id"), LK_A_CLASS, "rid",
			    LK_A__MAX);
			lk_html_close(h);
		}
		lk_html_close(h);
		lk_admin_cell(a, "Changes", NULL);
		changes_list(a, json_object_get(o, "changes"));
		lk_html_close(h);
		lk_html_close(h);
	}
	lk_html_close(h);
	lk_html_close(h);
	lk_html_close(h);
	if (json_array_size(rows) == 0)
		lk_html_leaf(h, LK_E_P, "No audit rows match.", LK_A__MAX);
}

/*
 * The whole chain's check (lk_audit_verify, as `latchkey audit verify` does),
 * with the keys and the anchor this program can read. Only for owners of the
 * root account: the chain spans every account.
 */
static void
chain_check(struct lk_admin *a)
{
	static struct lk_audit_key	 keys[1 + LK_AUDIT_OLD_KEYS_MAX];
	const struct lk_conf		*conf = a->req->conf;
	struct lk_html			*h = &a->h;
	struct lk_audit_verify		 v;
	struct lk_audit_anchor		 anchor;
	struct lk_account		 root;
	char				 apath[LK_AUDIT_ANCHOR_PATH_MAX];
	size_t				 nold = 0;
	enum lk_err			 e;

	if (!lk_admin_can(a, "admin") || lk_accounts_root(a->req->db, &root) != LK_OK ||
	    strcmp(root.public_id, a->caller.key.owner.public_id) != 0)
		return;
	lk_html_elem(h, LK_E_SECTION, LK_A_ARIA_LABELLEDBY, "chain", LK_A__MAX);
	lk_html_leaf(h, LK_E_H2, "Audit chain", LK_A_ID, "chain", LK_A__MAX);
	if (json_object_get(a->req->query, "verify") == NULL) {
		lk_html_elem(h, LK_E_FORM, LK_A_METHOD, "get", LK_A_ACTION, LK_ADMIN_BASE "/audit",
		    LK_A__MAX);
		lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "hidden", LK_A_NAME, "verify", LK_A_VALUE, "1",
		    LK_A__MAX);
		lk_admin_button(a, "Verify the audit chain", "plain");
		lk_html_close(h);
		lk_html_close(h);
		return;
	}
	memset(&v, 0, sizeof(v));
	e = lk_audit_key_load(conf->audit_key_file, &keys[0]);
	if (e == LK_OK && conf->audit_old_keys_file[0] != '\0')
		e = lk_audit_keys_load_old(conf->audit_old_keys_file, keys + 1,
		    LK_AUDIT_OLD_KEYS_MAX, &nold);
	v.keys = keys;
	v.nkeys = 1 + nold;
	lk_audit_anchor_path(conf->audit_key_file, apath);
	if (lk_audit_anchor_load(apath, &anchor) == LK_OK)
		v.anchor = &anchor;
	if (e == LK_OK)
		e = lk_audit_verify(a->req->db, &v);
	lk_crypto_wipe(keys, sizeof(keys));
	lk_html_elem(h, LK_E_P, LK_A_ID, "chain-result", LK_A_ROLE, "status",
	    LK_A_CLASS, e == LK_OK && v.ok ? "notice" : "banner", LK_A__MAX);
	if (e != LK_OK)
		lk_html_text(h, "The chain could not be checked here (the audit key is not "
		    "readable by this program). Run `latchkey audit verify`.");
	else if (v.ok && v.anchor != NULL)
		lk_html_textf(h, "The audit chain verifies: %" PRIu64 " rows, each signed and "
		    "linked to the one before, from its anchored start (row %" PRIu64 ") up to "
		    "row %" PRIu64 ".", v.rows, anchor.id, v.last_id);
	else if (v.ok)
		lk_html_textf(h, "The audit chain verifies: %" PRIu64 " rows, each signed and "
		    "linked to the one before, up to row %" PRIu64 ". Its start is not checked: "
		    "this program cannot read the anchor file (audit_key_file" LK_AUDIT_ANCHOR_SUFFIX
		    "), so a log emptied or rewritten from its start would pass here. Run "
		    "`latchkey audit verify`.", v.rows, v.last_id);
	else
		lk_html_textf(h, "The audit chain does NOT verify at row %s (id %" PRIu64 "): %s. "
		    "`latchkey audit verify` (with audit_old_keys_file) is the authoritative check.",
		    v.bad_public_id[0] ? v.bad_public_id : "-", v.bad_id, v.why);
	lk_html_close(h);
	lk_html_close(h);
}

/* Run GET /v1/audit's handler as the user with query (stolen); the page or NULL. */
static enum lk_err
fetch(struct lk_admin *a, json_t *query, json_t **page)
{
	json_t		*q = json_incref(a->req->query);
	enum lk_err	 e;

	lk_admin_api_begin(a, LK_GET, NULL, query);
	e = lk_admin_api_end(a, lk_audit_http_list(a->req));
	*page = e == LK_OK ? json_incref(a->req->captured) : NULL;
	json_decref(a->req->query);
	a->req->query = q;
	return e;
}

void
lk_admin_audit_table(struct lk_admin *a, const char *target_id, int limit)
{
	json_t	*page;
	char	 n[16];

	snprintf(n, sizeof(n), "%d", limit);
	if (fetch(a, json_pack("{s:s,s:s}", "target_id", target_id, "limit", n), &page) != LK_OK) {
		lk_html_leaf(&a->h, LK_E_P, "The audit rows could not be read.", LK_A_CLASS,
		    "error", LK_A__MAX);
		return;
	}
	rows_table(a, json_object_get(page, "data"));
	json_decref(page);
}

/* The filter form's shows: the kind filter's values, "all" for none. */
static const char *const shows[] = { "change", "session", "all", NULL };
static const char *const show_labels[] = { "Changes only", "Sign-ins and sign-outs",
    "Everything" };

/*
 * The kind the page lists: the query's show (default "change": sign-ins are
 * noise in a change log); none ("all") when an action is asked for, which
 * names the rows itself.
 */
static const char *
show_of(json_t *q)
{
	const char	*show = lk_admin_str(q, "show");
	size_t		 i;

	if (*lk_admin_str(q, "action"))
		return "all";
	for (i = 0; shows[i] != NULL; i++)
		if (strcmp(show, shows[i]) == 0)
			return shows[i];
	return "change";
}

static void
filter_form(struct lk_admin *a, const char *const *fields, const char *const *labels,
    size_t n, const char *show)
{
	struct lk_html	*h = &a->h;
	json_t		*q = a->req->query;
	char		 id[32], eid[40];
	size_t		 i;

	lk_html_elem(h, LK_E_FORM, LK_A_METHOD, "get", LK_A_ACTION, LK_ADMIN_BASE "/audit",
	    LK_A_CLASS, "inline audit-filter", LK_A_ROLE, "search",
	    LK_A_ARIA_LABEL, "Filter the audit log", LK_A__MAX);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_leaf(h, LK_E_LABEL, "Show", LK_A_FOR, "f-show", LK_A__MAX);
	lk_html_elem(h, LK_E_SELECT, LK_A_ID, "f-show", LK_A_NAME, "show",
	    LK_A_ARIA_DESCRIBEDBY, "f-show-hint", LK_A__MAX);
	for (i = 0; shows[i] != NULL; i++)
		lk_html_leaf(h, LK_E_OPTION, show_labels[i], LK_A_VALUE, shows[i],
		    LK_A_SELECTED, strcmp(show, shows[i]) == 0 ? "" : NULL, LK_A__MAX);
	lk_html_close(h);
	lk_html_leaf(h, LK_E_SPAN, "An action filter shows its rows whatever this says.",
	    LK_A_CLASS, "hint", LK_A_ID, "f-show-hint", LK_A__MAX);
	lk_html_close(h);
	for (i = 0; i < n; i++) {
		const char *msg = json_string_value(json_object_get(a->errors, fields[i]));

		snprintf(id, sizeof(id), "f-%s", fields[i]);
		snprintf(eid, sizeof(eid), "%s-error", id);
		lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
		lk_html_leaf(h, LK_E_LABEL, labels[i], LK_A_FOR, id, LK_A__MAX);
		if (msg != NULL)
			lk_html_leaf(h, LK_E_SPAN, msg, LK_A_CLASS, "error", LK_A_ID, eid,
			    LK_A__MAX);
		lk_html_elem(h, LK_E_INPUT, LK_A_ID, id, LK_A_NAME, fields[i],
		    LK_A_TYPE, strcmp(fields[i], "since") == 0 ? "date" : "text",
		    LK_A_VALUE, lk_admin_str(q, fields[i]),
		    LK_A_ARIA_INVALID, msg != NULL ? "true" : NULL,
		    LK_A_ARIA_DESCRIBEDBY, msg != NULL ? eid : NULL, LK_A__MAX);
		lk_html_close(h);
	}
	lk_admin_button(a, "Filter", NULL);
	lk_html_close(h);
}

enum lk_err
lk_admin_audit(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	struct lk_html	*h = &a->h;
	static const char *const fields[] = { "action", "target_id", "actor", "since" };
	static const char *const labels[] = { "Action (e.g. key.create)", "Target id",
	    "Actor id", "Since (UTC date)" };
	json_t		*q = req->query, *api_q = json_object(), *page = NULL;
	const char	*show = show_of(q);
	char		 more[1200], since[32];
	size_t		 i, n;
	enum lk_err	 e;

	if (req->nsegs != 1 || a->method != LK_GET)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if ((e = lk_admin_require(a, "audit:read")) != LK_OK)
		return e;
	for (i = 0; i < 3; i++)
		if (*lk_admin_str(q, fields[i]))
			json_object_set_new(api_q, fields[i], json_string(lk_admin_str(q, fields[i])));
	if (*lk_admin_str(q, "since")) {
		snprintf(since, sizeof(since), "%.10sT00:00:00Z", lk_admin_str(q, "since"));
		json_object_set_new(api_q, "since", json_string(since));
	}
	if (strcmp(show, "all") != 0)
		json_object_set_new(api_q, "kind", json_string(show));
	if (*lk_admin_str(q, "cursor"))
		json_object_set_new(api_q, "cursor", json_string(lk_admin_str(q, "cursor")));
	e = fetch(a, api_q, &page);
	if (e != LK_OK && e != LK_ERR_VALIDATION)
		return e;
	lk_admin_begin(a, "Audit log", "audit");
	filter_form(a, fields, labels, LK_NELEM(fields), show);
	if (e != LK_OK) {
		lk_admin_alert(a, req->err_message);
		return lk_admin_end(a, 400);
	}
	chain_check(a);
	rows_table(a, json_object_get(page, "data"));
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "pager", LK_A__MAX);
	/* both links keep the filters; the older one adds the cursor */
	snprintf(more, sizeof(more), LK_ADMIN_BASE "/audit?show=%s", show);
	for (i = 0; i < LK_NELEM(fields); i++) {
		n = strlen(more);
		snprintf(more + n, sizeof(more) - n, "&%s=", fields[i]);
		lk_html_urlencode(more, sizeof(more), lk_admin_str(q, fields[i]));
	}
	if (*lk_admin_str(q, "cursor"))
		lk_html_leaf(h, LK_E_A, "Newest rows", LK_A_HREF, more, LK_A__MAX);
	if (json_is_string(json_object_get(page, "next_cursor"))) {
		n = strlen(more);
		snprintf(more + n, sizeof(more) - n, "&cursor=");
		lk_html_urlencode(more, sizeof(more), lk_admin_str(page, "next_cursor"));
		lk_html_leaf(h, LK_E_A, "Older rows", LK_A_HREF, more, LK_A__MAX);
	}
	lk_html_close(h);
	json_decref(page);
	return lk_admin_end(a, 200);
}
