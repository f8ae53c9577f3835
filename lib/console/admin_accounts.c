/*
 * admin_accounts.c — the console's accounts: the tree (nested lists, each
 * account a link to its page) with the form for a sub-account, and one page
 * per account (/admin/accounts/{id}: what it holds, rename, plan, delete).
 */
#include <stdio.h>
#include <string.h>

#include "api/accounts.h"
#include "console/admin.h"

static const char *const plans[] = { "free", "pro", "enterprise", NULL };

/* Deeper levels than this are drawn at this depth (the path allows about 11). */
#define TREE_DEPTH_MAX	16

static void
account_href(char *out, size_t size, const char *id, const char *action)
{
	snprintf(out, size, LK_ADMIN_BASE "/accounts/%s%s%s", id, action ? "/" : "",
	    action ? action : "");
}

/* "n thing" or "n things". */
static void
count_text(struct lk_html *h, long long n, const char *one, const char *many)
{
	lk_html_textf(h, "%lld %s", n, n == 1 ? one : many);
}

/* One account of the tree: its name (a link to its page), plan, keys and id in small type. */
static void
tree_node(struct lk_admin *a, json_t *o)
{
	struct lk_html	*h = &a->h;
	const char	*id = lk_admin_str(o, "id");
	char		 href[200];

	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "node", LK_A__MAX);
	account_href(href, sizeof(href), id, NULL);
	lk_html_leaf(h, LK_E_A, lk_admin_str(o, "name"), LK_A_HREF, href, LK_A_CLASS, "acct-name",
	    LK_A__MAX);
	lk_html_leaf(h, LK_E_SPAN, lk_admin_str(o, "plan"), LK_A_CLASS, "plan", LK_A__MAX);
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?account_id=%s", id);
	lk_html_elem(h, LK_E_A, LK_A_HREF, href, LK_A_CLASS, "keys", LK_A__MAX);
	count_text(h, (long long)json_integer_value(json_object_get(o, "key_count")), "key",
	    "keys");
	lk_html_close(h);
	lk_html_elem(h, LK_E_SMALL, LK_A_CLASS, "acct-id", LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, id, LK_A__MAX);
	lk_html_close(h);
	lk_html_close(h);
}

/*
 * The tree (lk_admin_tree: in path order, each account right after its
 * parent's) as nested lists: a list item per account, its sub-accounts a list
 * inside it.
 */
static void
tree_lists(struct lk_admin *a, json_t *tree)
{
	struct lk_html	*h = &a->h;
	size_t		 base = h->depth, item[TREE_DEPTH_MAX + 1], i;
	json_t		*o;
	int		 cur = -1, d;

	json_array_foreach(tree, i, o) {
		d = (int)json_integer_value(json_object_get(o, "depth"));
		if (d > TREE_DEPTH_MAX)
			d = TREE_DEPTH_MAX;
		if (d > cur + 1)	/* cannot happen in path order; keep the lists whole */
			d = cur + 1;
		if (d > cur) {
			if (cur < 0)
				lk_html_elem(h, LK_E_UL, LK_A_ID, "accounts", LK_A_CLASS, "acct-tree",
				    LK_A_ARIA_LABEL, "Account tree", LK_A__MAX);
			else
				lk_html_elem(h, LK_E_UL, LK_A__MAX);
		} else
			lk_html_closeto(h, item[d]);
		item[d] = h->depth;
		lk_html_elem(h, LK_E_LI, LK_A__MAX);
		tree_node(a, o);
		cur = d;
	}
	lk_html_closeto(h, base);
}

static enum lk_err
tree_page(struct lk_admin *a, int status, const char *err)
{
	struct lk_html	*h = &a->h;
	json_t		*tree;
	const char	*parent = lk_admin_str(a->req->query, "parent_id");
	enum lk_err	 e;

	if ((e = lk_admin_tree(a, NULL, &tree)) != LK_OK)
		return e;
	lk_admin_begin(a, "Accounts", "accounts");
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "hint", LK_A__MAX);
	lk_html_text(h, "Your account and its sub-accounts. Open an account to rename it, change "
	    "its plan or delete it.");
	lk_html_close(h);
	tree_lists(a, tree);
	if (lk_admin_can(a, "accounts:write")) {
		lk_html_leaf(h, LK_E_H2, "Create a sub-account", LK_A_ID, "create", LK_A__MAX);
		if (err != NULL)
			lk_admin_alert(a, err);
		lk_admin_form(a, LK_ADMIN_BASE "/accounts/new", "stack");
		lk_admin_input(a, "Name", "name", "text", "", "1 to 100 characters.", NULL, NULL);
		lk_admin_account_select(a, "Parent account", "parent_id", tree,
		    a->form != NULL ? lk_admin_value(a, "parent_id") : *parent ? parent : NULL);
		lk_admin_select(a, "Plan", "plan", plans, "free");
		lk_admin_button(a, "Create account", NULL);
		lk_html_close(h);
	}
	json_decref(tree);
	return lk_admin_end(a, status);
}

/*
 * The dl row "name: n things", the count a link to href when href is not
 * NULL; the dd is left open when open (close it with lk_html_close).
 */
static void
count_row(struct lk_admin *a, const char *name, long long n, const char *one,
    const char *many, const char *href, bool open)
{
	struct lk_html *h = &a->h;

	lk_html_leaf(h, LK_E_DT, name, LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	if (href != NULL)
		lk_html_elem(h, LK_E_A, LK_A_HREF, href, LK_A__MAX);
	count_text(h, n, one, many);
	if (href != NULL)
		lk_html_close(h);
	if (!open)
		lk_html_close(h);
}

/* The sub-accounts of id in tree (links to their pages), or nothing if none. */
static void
children_list(struct lk_admin *a, json_t *tree, const char *id)
{
	struct lk_html	*h = &a->h;
	json_t		*o;
	size_t		 i;
	char		 href[200];
	bool		 any = false;

	json_array_foreach(tree, i, o) {
		if (strcmp(lk_admin_str(o, "parent_id"), id) != 0)
			continue;
		if (!any)
			lk_html_elem(h, LK_E_UL, LK_A_CLASS, "children", LK_A__MAX);
		any = true;
		account_href(href, sizeof(href), lk_admin_str(o, "id"), NULL);
		lk_html_elem(h, LK_E_LI, LK_A__MAX);
		lk_html_leaf(h, LK_E_A, lk_admin_str(o, "name"), LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);
	}
	if (any)
		lk_html_close(h);
}

/*
 * The page of account o (as GET /v1/accounts/{id} answers): name, plan, id
 * in small type, what it holds, and (accounts:write) the rename/plan and
 * delete forms. err is a refused delete's message (shown in its section).
 */
/* The account's status and policies in its field list. */
static void
policy_rows(struct lk_admin *a, const struct lk_account *acct)
{
	struct lk_html	*h = &a->h;
	char		 days[32];

	lk_html_leaf(h, LK_E_DT, "Status", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A_ID, "account-status", LK_A__MAX);
	if (acct->suspended_at != 0) {
		lk_html_leaf(h, LK_E_STRONG, "Suspended", LK_A_CLASS, "status-revoked", LK_A__MAX);
		lk_html_text(h, " ");
		lk_admin_reltime(a, acct->suspended_at, "", false);
		if (acct->suspend_reason[0]) {
			lk_html_text(h, ": ");
			lk_html_text(h, acct->suspend_reason);
		}
		lk_html_text(h, ". Every key of this account and below it is refused.");
	} else if (acct->suspended_by[0]) {
		lk_html_text(h, "Active, but an account above it is suspended: its keys are refused.");
	} else
		lk_html_text(h, "Active");
	lk_html_close(h);
	lk_html_leaf(h, LK_E_DT, "Scope ceiling", LK_A__MAX);
	lk_html_leaf(h, LK_E_DD, acct->has_ceiling ? (acct->grantable_scopes[0] ?
	    acct->grantable_scopes : "(empty: no application scope)") : "None",
	    LK_A_ID, "account-ceiling", LK_A__MAX);
	snprintf(days, sizeof(days), "%lld days", (long long)acct->revoke_after_inactive_days);
	lk_html_leaf(h, LK_E_DT, "Revoke keys unused for", LK_A__MAX);
	lk_html_leaf(h, LK_E_DD, acct->revoke_after_inactive_days ? days :
	    "Not set here (a shorter one above applies)", LK_A_ID, "account-inactivity", LK_A__MAX);
}

/*
 * Suspension and policies are set from an account above: the forms for a
 * sub-account of the user's, a note for the user's own account.
 */
static void
policy_forms(struct lk_admin *a, const struct lk_account *acct)
{
	struct lk_html	*h = &a->h;
	char		 href[200], days[24] = "";

	lk_html_leaf(h, LK_E_H2, "Status and policies", LK_A_ID, "policies", LK_A__MAX);
	if (strcmp(acct->public_id, a->caller.key.owner.public_id) == 0) {
		lk_html_leaf(h, LK_E_P, "Your own account's status and policies are set from an "
		    "account above it.", LK_A_CLASS, "hint", LK_A__MAX);
		return;
	}
	account_href(href, sizeof(href), acct->public_id,
	    acct->suspended_at != 0 ? "reactivate" : "suspend");
	lk_admin_form(a, href, "stack");
	if (acct->suspended_at == 0)
		lk_admin_input(a, "Reason for suspending (optional)", "reason", "text", "",
		    "Every key of this account and of its sub-accounts is refused until it is "
		    "reactivated; keys keep their own status.", NULL, NULL);
	lk_admin_button(a, acct->suspended_at != 0 ? "Reactivate" : "Suspend",
	    acct->suspended_at != 0 ? NULL : "danger");
	lk_html_close(h);

	account_href(href, sizeof(href), acct->public_id, "policy");
	lk_admin_form(a, href, "stack");
	lk_admin_input(a, "Scope ceiling", "grantable_scopes", "text",
	    acct->has_ceiling ? acct->grantable_scopes : "",
	    "Scopes the keys of this account and below it may hold, e.g. tasks:* reports:read. "
	    "Empty: no ceiling.", NULL, NULL);
	lk_html_elem(h, LK_E_DIV, LK_A_CLASS, "field", LK_A__MAX);
	lk_html_elem(h, LK_E_LABEL, LK_A__MAX);
	lk_html_elem(h, LK_E_INPUT, LK_A_TYPE, "checkbox", LK_A_NAME, "apply", LK_A_VALUE,
	    "revoke", LK_A__MAX);
	lk_html_text(h, " Revoke the keys that hold scopes outside a lowered ceiling");
	lk_html_close(h);
	lk_html_close(h);
	if (acct->revoke_after_inactive_days)
		snprintf(days, sizeof(days), "%lld", (long long)acct->revoke_after_inactive_days);
	lk_admin_input(a, "Revoke keys unused for (days)", "revoke_after_inactive_days", "number",
	    days, "1 to 3650; empty: off here. Sub-accounts inherit it unless they set a shorter "
	    "one.", NULL, NULL);
	lk_admin_button(a, "Save policies", NULL);
	lk_html_close(h);
}

static enum lk_err
account_page(struct lk_admin *a, json_t *o, int status, const char *err_in)
{
	struct lk_html		*h = &a->h;
	struct lk_account	 acct;
	struct lk_account_use	 use;
	json_t			*tree, *p;
	const char		*id = lk_admin_str(o, "id"), *pid = lk_admin_str(o, "parent_id");
	char			 href[200], err[sizeof(a->req->err_message)];
	size_t			 i;
	bool			 empty;
	enum lk_err		 e;

	/* a copy: the reads below may reset the request's error */
	snprintf(err, sizeof(err), "%s", err_in != NULL ? err_in : "");
	if ((e = lk_accounts_get(a->req->db, id, &acct)) != LK_OK ||
	    (e = lk_accounts_use(a->req->db, &acct, &use)) != LK_OK)
		return e;
	if ((e = lk_admin_tree(a, NULL, &tree)) != LK_OK)
		return e;
	empty = use.keys == 0 && use.children == 0 && use.users == 0;
	lk_admin_begin(a, lk_admin_str(o, "name"), "accounts");
	lk_html_elem(h, LK_E_P, LK_A_CLASS, "acct-meta", LK_A__MAX);
	lk_html_text(h, "Account ");
	lk_html_elem(h, LK_E_SMALL, LK_A__MAX);
	lk_html_leaf(h, LK_E_CODE, id, LK_A_ID, "account-id", LK_A__MAX);
	lk_html_close(h);
	json_array_foreach(tree, i, p)
		if (*pid && strcmp(lk_admin_str(p, "id"), pid) == 0) {
			lk_html_text(h, " · sub-account of ");
			account_href(href, sizeof(href), pid, NULL);
			lk_html_leaf(h, LK_E_A, lk_admin_str(p, "name"), LK_A_HREF, href, LK_A__MAX);
		}
	lk_html_close(h);

	lk_html_elem(h, LK_E_DL, LK_A_CLASS, "fields", LK_A_ID, "account-fields", LK_A__MAX);
	lk_html_leaf(h, LK_E_DT, "Plan", LK_A__MAX);
	lk_html_leaf(h, LK_E_DD, lk_admin_str(o, "plan"), LK_A__MAX);
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/keys?account_id=%s", id);
	count_row(a, "Keys", (long long)use.keys, "key", "keys", href, false);
	count_row(a, "Sub-accounts", (long long)use.children, "sub-account", "sub-accounts", NULL,
	    true);
	children_list(a, tree, id);
	lk_html_close(h);
	count_row(a, "Console users", (long long)use.users, "user", "users",
	    lk_admin_can(a, "admin") ? LK_ADMIN_BASE "/users" : NULL, false);
	lk_html_leaf(h, LK_E_DT, "Created", LK_A__MAX);
	lk_html_elem(h, LK_E_DD, LK_A__MAX);
	lk_admin_reltime(a, acct.created_at, "", true);
	lk_html_close(h);
	policy_rows(a, &acct);
	lk_html_close(h);
	json_decref(tree);

	if (lk_admin_can(a, "accounts:write")) {
		lk_html_elem(h, LK_E_P, LK_A__MAX);
		snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts?parent_id=%s#create", id);
		lk_html_leaf(h, LK_E_A, "Create a sub-account here", LK_A_HREF, href, LK_A__MAX);
		lk_html_close(h);

		lk_html_leaf(h, LK_E_H2, "Name and plan", LK_A__MAX);
		account_href(href, sizeof(href), id, NULL);
		lk_admin_form(a, href, "stack");
		lk_admin_input(a, "Name", "name", "text", lk_admin_str(o, "name"),
		    "1 to 100 characters.", NULL, NULL);
		lk_admin_select(a, "Plan", "plan", plans, lk_admin_str(o, "plan"));
		lk_admin_button(a, "Save", NULL);
		lk_html_close(h);

		policy_forms(a, &acct);

		lk_html_leaf(h, LK_E_H2, "Delete", LK_A_ID, "delete", LK_A__MAX);
		if (err[0] != '\0')
			lk_admin_alert(a, err);
		if (empty) {
			lk_html_leaf(h, LK_E_P, "The account holds nothing; deleting it cannot be "
			    "undone (its audit rows stay).", LK_A__MAX);
			account_href(href, sizeof(href), id, "delete");
			lk_admin_form(a, href, "inline");
			lk_admin_button(a, "Delete this account", "danger");
			lk_html_close(h);
		} else
			lk_html_leaf(h, LK_E_P, "An account can be deleted once it has no keys, "
			    "sub-accounts or console users.", LK_A_CLASS, "hint", LK_A__MAX);
	}
	return lk_admin_end(a, status);
}

/* GET /v1/accounts/{id}'s answer as the user (404 outside the subtree): *o is new. */
static enum lk_err
get_account(struct lk_admin *a, const char *id, json_t **o)
{
	enum lk_err e;

	*o = NULL;
	lk_admin_api_begin(a, LK_GET, NULL, NULL);
	if ((e = lk_admin_api_end(a, lk_accounts_http_item(a->req, id))) == LK_OK)
		*o = json_incref(a->req->captured);
	return e;
}

static enum lk_err
create(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	json_t		*body;
	enum lk_err	 e;

	body = json_pack("{s:s,s:s,s:s}", "name", lk_admin_value(a, "name"),
	    "parent_id", lk_admin_value(a, "parent_id"), "plan", lk_admin_value(a, "plan"));
	lk_admin_api_begin(a, LK_POST, body, NULL);
	e = lk_admin_api_end(a, lk_accounts_http_collection(req));
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN || e == LK_ERR_CONFLICT)
		return tree_page(a, lk_err_status(e), req->err_message);
	if (e != LK_OK)
		return e;
	return lk_admin_redirect(a, LK_ADMIN_BASE "/accounts?done=created");
}

/* The PATCH body of the policy form: the fields whose value differs from the account's. */
static json_t *
policy_body(struct lk_admin *a, json_t *cur)
{
	json_t		*body = json_object(), *g = json_object_get(cur, "grantable_scopes"), *v;
	const char	*days = lk_admin_value(a, "revoke_after_inactive_days");
	char		 have[LK_SCOPES_BUF] = "", n[24] = "";
	size_t		 i, o = 0;

	json_array_foreach(g, i, v)
		o += (size_t)snprintf(have + o, o < sizeof(have) ? sizeof(have) - o : 0, "%s%s",
		    o ? " " : "", json_string_value(v));
	if (strcmp(lk_admin_value(a, "grantable_scopes"), have) != 0 ||
	    (json_is_array(g) != (*lk_admin_value(a, "grantable_scopes") != '\0')))
		json_object_set_new(body, "grantable_scopes",
		    *lk_admin_value(a, "grantable_scopes") ?
		    json_string(lk_admin_value(a, "grantable_scopes")) : json_null());
	if (json_is_integer(json_object_get(cur, "revoke_after_inactive_days")))
		snprintf(n, sizeof(n), "%lld", (long long)json_integer_value(json_object_get(cur,
		    "revoke_after_inactive_days")));
	if (strcmp(days, n) != 0)
		json_object_set_new(body, "revoke_after_inactive_days",
		    *days ? json_string(days) : json_null());
	return body;
}

/* POST /admin/accounts/{id} (name, plan), …/{id}/policy, …/{id}/suspend, …/reactivate or …/delete. */
static enum lk_err
change(struct lk_admin *a, const char *id, const char *what)
{
	bool delete = strcmp(what, "delete") == 0;
	struct lk_req	*req = a->req;
	json_t		*cur, *body = NULL;
	char		 href[200];
	enum lk_err	 e, shown;

	if ((e = get_account(a, id, &cur)) != LK_OK)
		return e;
	if (strcmp(what, "suspend") == 0 || strcmp(what, "reactivate") == 0) {
		body = strcmp(what, "suspend") == 0 && *lk_admin_value(a, "reason") ?
		    json_pack("{s:s}", "reason", lk_admin_value(a, "reason")) : json_object();
		lk_admin_api_begin(a, LK_POST, body, NULL);
		e = lk_admin_api_end(a, lk_accounts_http_suspend(req, id,
		    strcmp(what, "suspend") == 0));
	} else if (!delete) {
		/* Only changed fields go in the PATCH (the plan rule applies to a change only). */
		if (strcmp(what, "policy") == 0)
			body = policy_body(a, cur);
		else {
			body = json_object();
			if (strcmp(lk_admin_value(a, "name"), lk_admin_str(cur, "name")) != 0)
				json_object_set_new(body, "name", json_string(lk_admin_value(a, "name")));
			if (strcmp(lk_admin_value(a, "plan"), lk_admin_str(cur, "plan")) != 0)
				json_object_set_new(body, "plan", json_string(lk_admin_value(a, "plan")));
		}
		if (json_object_size(body) == 0) {
			json_decref(body);
			json_decref(a->form);
			a->form = NULL;
			snprintf(a->notice, sizeof(a->notice), "Nothing was changed.");
			e = account_page(a, cur, 200, NULL);
			json_decref(cur);
			return e;
		}
	}
	if (strcmp(what, "suspend") != 0 && strcmp(what, "reactivate") != 0) {
		lk_admin_api_begin(a, delete ? LK_DELETE : LK_PATCH, body,
		    strcmp(what, "policy") == 0 && *lk_admin_value(a, "apply") ?
		    json_pack("{s:s}", "apply", "revoke") : NULL);
		e = lk_admin_api_end(a, lk_accounts_http_item(req, id));
	}
	if (e == LK_ERR_VALIDATION || e == LK_ERR_FORBIDDEN || e == LK_ERR_CONFLICT) {
		shown = e;
		e = account_page(a, cur, lk_err_status(shown), req->err_message);
		json_decref(cur);
		return e;
	}
	json_decref(cur);
	if (e != LK_OK)
		return e;
	if (delete)
		return lk_admin_redirect(a, LK_ADMIN_BASE "/accounts?done=deleted");
	snprintf(href, sizeof(href), LK_ADMIN_BASE "/accounts/%s?done=saved", id);
	return lk_admin_redirect(a, href);
}

enum lk_err
lk_admin_accounts(struct lk_admin *a)
{
	struct lk_req	*req = a->req;
	const char	*done = lk_admin_str(req->query, "done");
	json_t		*o;
	enum lk_err	 e;

	if (req->nsegs > 3 || (req->nsegs == 3 && strcmp(req->segs[2], "delete") != 0 &&
	    strcmp(req->segs[2], "policy") != 0 && strcmp(req->segs[2], "suspend") != 0 &&
	    strcmp(req->segs[2], "reactivate") != 0) || (req->nsegs == 3 && a->method != LK_POST))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	if (a->method == LK_GET) {
		if ((e = lk_admin_require(a, "accounts:read")) != LK_OK)
			return e;
		if (strcmp(done, "created") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was created.");
		else if (strcmp(done, "deleted") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was deleted.");
		else if (strcmp(done, "saved") == 0)
			snprintf(a->notice, sizeof(a->notice), "The account was saved.");
		if (req->nsegs == 1)
			return tree_page(a, 200, NULL);
		if ((e = get_account(a, req->segs[1], &o)) != LK_OK)
			return e;
		e = account_page(a, o, 200, NULL);
		json_decref(o);
		return e;
	}
	if (req->nsegs == 1)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_admin_require(a, "accounts:write")) != LK_OK)
		return e;
	if (strcmp(req->segs[1], "new") == 0)
		return req->nsegs == 2 ? create(a) :
		    lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "There is no such page.");
	return change(a, req->segs[1], req->nsegs == 3 ? req->segs[2] : "");
}
