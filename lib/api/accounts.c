/* accounts_http.c — method → auth → scope → fields → lib/accounts.c → response, for /v1/accounts… */
#include <string.h>

#include "api/accounts.h"
#include "api/auth.h"
#include "api/keys.h"
#include "api/usage.h"
#include "base/page.h"
#include "http/resp.h"
#include "model/ceiling.h"

static const char *const plans[] = { "free", "pro", "enterprise", NULL };
static const char *const acct_prefix[] = { "acct_", NULL };

static const struct lk_field create_fields[] = {
	{ "name", LK_FT_TEXT, LK_FF_REQUIRED, LK_ACCOUNT_NAME_MAX, NULL },
	{ "parent_id", LK_FT_ID, 0, 0, acct_prefix },
	{ "plan", LK_FT_ENUM, 0, 0, plans },
	{ NULL, 0, 0, 0, NULL }
};
static const struct lk_field patch_fields[] = {
	{ "name", LK_FT_TEXT, 0, LK_ACCOUNT_NAME_MAX, NULL },
	{ "plan", LK_FT_ENUM, 0, 0, plans },
	{ "grantable_scopes", LK_FT_SCOPES, LK_FF_NULLABLE, 0, NULL },
	{ "revoke_after_inactive_days", LK_FT_INT, LK_FF_NULLABLE, LK_INACTIVE_DAYS_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};
static const char *const applies[] = { "revoke", NULL };
static const struct lk_field patch_query[] = {
	{ "apply", LK_FT_ENUM, 0, 0, applies },
	{ NULL, 0, 0, 0, NULL }
};
static const struct lk_field suspend_fields[] = {
	{ "reason", LK_FT_TEXT, 0, LK_SUSPEND_REASON_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/*
 * Policies of an account (suspension, ceiling, inactivity) are set from above
 * only: by a caller whose account is a strict ancestor of a. 403 otherwise.
 */
static enum lk_err
from_above(struct lk_req *req, const struct lk_caller *c, const struct lk_account *a,
    const char *field, const char *what)
{
	if (a->id != c->key.owner.id)
		return LK_OK;	/* lk_auth_account: a is in the caller's subtree */
	return lk_req_fail(req, LK_ERR_FORBIDDEN, field,
	    "An account's %s is set from an account above it, not by the account itself", what);
}

/* PATCH grantable_scopes: 409 naming the keys outside a lowered ceiling unless ?apply=revoke. */
static enum lk_err
set_ceiling(struct lk_req *req, const struct lk_caller *c, struct lk_account *a, json_t *v,
    bool revoke)
{
	json_t		*outside = NULL;
	enum lk_err	 e;

	if ((e = from_above(req, c, a, "grantable_scopes", "scope ceiling")) != LK_OK)
		return e;
	e = lk_ceiling_set(req->db, &c->actor, a, json_string_value(v), revoke, req->now,
	    &outside);
	if (e == LK_ERR_CONFLICT) {
		lk_req_detail(req, "keys", json_incref(outside));
		e = lk_req_fail(req, e, "grantable_scopes", "%zu%s key(s) hold scopes outside "
		    "the new ceiling: revoke them or narrow their scopes first, or send "
		    "?apply=revoke to revoke them with this change", json_array_size(outside),
		    json_array_size(outside) >= 100 ? " or more" : "");
	}
	json_decref(outside);
	return e;
}

static const char *const statuses[] = { "active", "suspended", NULL };
static const struct lk_field list_fields[] = {
	{ "status", LK_FT_ENUM, 0, 0, statuses },
	LK_PAGE_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

static enum lk_err
list_accounts(struct lk_db *db, const struct lk_account *root, json_t *f, struct lk_page *page)
{
	return lk_accounts_list(db, root, json_string_value(json_object_get(f, "status")), page);
}

static enum lk_err
list(struct lk_req *req, struct lk_caller *c)
{
	return lk_auth_list_subtree(req, c, list_fields, list_accounts);
}

static enum lk_err
create(struct lk_req *req, struct lk_caller *c)
{
	struct lk_account	 parent, a;
	const char		*plan;
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, create_fields, &f)) != LK_OK)
		return e;
	plan = json_string_value(json_object_get(f, "plan"));
	if ((e = lk_auth_plan(req, c, NULL, plan)) != LK_OK)
		goto out;
	e = lk_auth_account(req, c, json_string_value(json_object_get(f, "parent_id")),
	    &parent);
	if (e == LK_ERR_NOT_FOUND) {
		e = lk_req_fail(req, LK_ERR_FORBIDDEN, "parent_id",
		    "Accounts can only be created below the caller's account");
		goto out;
	}
	if (e != LK_OK)
		goto out;
	e = lk_accounts_create(req->db, &c->actor, &parent,
	    json_string_value(json_object_get(f, "name")), plan != NULL ? plan : "free",
	    req->conf->max_children_per_account, req->now, &a);
	if (e == LK_ERR_CONFLICT && !lk_accounts_can_nest(&parent))
		e = lk_req_fail(req, e, "parent_id", "The account tree is too deep here");
	else if (e == LK_ERR_CONFLICT) {
		lk_req_detail(req, "limit",
		    json_integer(req->conf->max_children_per_account));
		e = lk_req_fail(req, e, "parent_id", "The parent account has the most "
		    "sub-accounts it may (max_children_per_account)");
	} else if (e == LK_ERR_NOT_FOUND)
		e = lk_req_fail(req, LK_ERR_CONFLICT, "parent_id",
		    "The parent account was deleted while this one was being created");
	if (e == LK_OK)
		lk_resp_json(req, 201, lk_account_json(&a));
out:
	json_decref(f);
	return e;
}

/* Append "n thing" or "n things" to buf (used bytes so far), listed with sep before it. */
static size_t
count_text(char *buf, size_t size, size_t used, const char *sep, int64_t n,
    const char *one, const char *many)
{
	if (n == 0 || used >= size)
		return used;
	return used + (size_t)snprintf(buf + used, size - used, "%s%lld %s", used ? sep : "",
	    (long long)n, n == 1 ? one : many);
}

/* The first bytes of a UTF-8 name that fit in out, not cutting a character in two. */
static void
name_cut(const char *s, char *out, size_t size)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

/* 409: what a still holds, named and counted (details.remaining: keys, sub_accounts, users). */
static enum lk_err
in_use(struct lk_req *req, const struct lk_account *a, const struct lk_account_use *u)
{
	char	 what[128], name[61];
	size_t	 n = 0;

	n = count_text(what, sizeof(what), n, ", ", u->keys, "key", "keys");
	n = count_text(what, sizeof(what), n, u->users ? ", " : " and ", u->children,
	    "sub-account", "sub-accounts");
	count_text(what, sizeof(what), n, " and ", u->users, "console user", "console users");
	name_cut(a->name, name, sizeof(name));
	lk_req_detail(req, "remaining", json_pack("{s:I,s:I,s:I}", "keys", (json_int_t)u->keys,
	    "sub_accounts", (json_int_t)u->children, "users", (json_int_t)u->users));
	if (u->keys == 0 && u->children == 0 && u->users == 0)	/* a create won the race */
		return lk_req_fail(req, LK_ERR_CONFLICT, NULL, "Account '%s' got a key or "
		    "sub-account while it was being deleted; delete that first", name);
	if (u->users > 0)
		return lk_req_fail(req, LK_ERR_CONFLICT, NULL, "Account '%s' still has %s; "
		    "an account with console users cannot be deleted (users can be disabled, "
		    "not removed)", name, what);
	return lk_req_fail(req, LK_ERR_CONFLICT, NULL,
	    "Account '%s' still has %s; delete them first", name, what);
}

static enum lk_err
item(struct lk_req *req, struct lk_caller *c, const char *id)
{
	struct lk_account	 a;
	struct lk_account_patch	 pt;
	struct lk_account_use	 use;
	json_t			*f, *q, *ceiling, *days;
	bool			 revoke;
	enum lk_err		 e;

	if ((e = lk_auth_account(req, c, id, &a)) != LK_OK)
		return e;
	switch (req->method) {
	case LK_GET:
		lk_resp_json(req, 200, lk_account_json(&a));
		return LK_OK;
	case LK_DELETE:
		e = lk_accounts_delete(req->db, &c->actor, &a, req->now, &use);
		if (e == LK_ERR_CONFLICT)
			return in_use(req, &a, &use);
		if (e == LK_OK)
			lk_resp_json(req, 204, NULL);
		return e;
	default:
		break;
	}
	if ((e = lk_req_fields(req, req->query, patch_query, &q)) != LK_OK)
		return e;
	revoke = json_object_get(q, "apply") != NULL;
	json_decref(q);
	if ((e = lk_req_body_fields(req, patch_fields, &f)) != LK_OK)
		return e;
	memset(&pt, 0, sizeof(pt));
	pt.name = json_string_value(json_object_get(f, "name"));
	pt.plan = json_string_value(json_object_get(f, "plan"));
	ceiling = json_object_get(f, "grantable_scopes");
	days = json_object_get(f, "revoke_after_inactive_days");
	pt.has_inactive_days = days != NULL;
	pt.inactive_days = json_integer_value(days);
	if (json_object_size(f) == 0)
		e = lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "Give name, plan, grantable_scopes or revoke_after_inactive_days");
	else if (revoke && ceiling == NULL)
		e = lk_req_fail(req, LK_ERR_VALIDATION, "apply",
		    "apply=revoke goes with a grantable_scopes change");
	else if ((days == NULL || (e = from_above(req, c, &a, "revoke_after_inactive_days",
	    "inactivity policy")) == LK_OK) &&
	    (e = lk_auth_plan(req, c, &a, pt.plan)) == LK_OK &&
	    (ceiling == NULL || (e = set_ceiling(req, c, &a, ceiling, revoke)) == LK_OK) &&
	    (pt.name == NULL && pt.plan == NULL && days == NULL ? LK_OK :
	    (e = lk_accounts_update(req->db, &c->actor, &a, &pt, req->now))) == LK_OK)
		lk_resp_json(req, 200, lk_account_json(&a));
	json_decref(f);
	return e;
}

enum lk_err
lk_accounts_http_suspend(struct lk_req *req, const char *id, bool on)
{
	struct lk_caller	 c;
	struct lk_account	 a;
	json_t			*f;
	const char		*reason;
	enum lk_err		 e;

	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_auth_caller_scope(req, &c, "accounts:write")) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, on ? suspend_fields : suspend_fields + 1, &f)) != LK_OK)
		return e;
	reason = json_string_value(json_object_get(f, "reason"));
	if ((e = lk_auth_account(req, &c, id, &a)) == LK_OK &&
	    (e = from_above(req, &c, &a, NULL, on ? "suspension" : "reactivation")) == LK_OK &&
	    (e = lk_accounts_suspend(req->db, &c.actor, &a, on ? (reason ? reason : "") : NULL,
	    req->now)) == LK_OK)
		lk_resp_json(req, 200, lk_account_json(&a));
	json_decref(f);
	return e;
}

enum lk_err
lk_accounts_http_collection(struct lk_req *req)
{
	return lk_auth_collection(req, "accounts:read", "accounts:write", list, create);
}

enum lk_err
lk_accounts_http_item(struct lk_req *req, const char *id)
{
	struct lk_caller	 c;
	enum lk_err		 e;

	if (req->method != LK_GET && req->method != LK_PATCH && req->method != LK_DELETE)
		return lk_req_method_not_allowed(req, "GET, PATCH, DELETE");
	if ((e = lk_auth_caller_scope(req, &c, req->method == LK_GET ?
	    "accounts:read" : "accounts:write")) != LK_OK ||
	    (req->method != LK_PATCH && (e = lk_req_no_query(req)) != LK_OK))
		return e;
	return item(req, &c, id);
}

enum lk_err
lk_accounts_http_usage(struct lk_req *req, const char *id)
{
	struct lk_caller	 c;
	struct lk_account	 a;
	enum lk_err		 e;

	if (req->method != LK_GET)
		return lk_req_method_not_allowed(req, "GET");
	if ((e = lk_auth_caller_scope(req, &c, "accounts:read")) != LK_OK ||
	    (e = lk_auth_account(req, &c, id, &a)) != LK_OK)
		return e;
	return lk_usage_http_account(req, &a, lk_auth_only_env(&c));
}

enum lk_err
lk_accounts_http(struct lk_req *req)
{
	if (req->nsegs < 1 || strcmp(req->segs[0], "accounts") != 0)
		return lk_req_no_route(req);
	if (req->nsegs >= 3 && strcmp(req->segs[2], "keys") == 0) {
		if (req->nsegs == 3)
			return lk_keys_http_collection(req, req->segs[1]);
		if (req->nsegs <= 5)
			return lk_keys_http_item(req, req->segs[1], req->segs[3],
			    req->nsegs == 5 ? req->segs[4] : NULL);
	}
	if (req->nsegs == 3 && strcmp(req->segs[2], "usage") == 0)
		return lk_accounts_http_usage(req, req->segs[1]);
	if (req->nsegs == 3 && (strcmp(req->segs[2], "suspend") == 0 ||
	    strcmp(req->segs[2], "reactivate") == 0))
		return lk_accounts_http_suspend(req, req->segs[1],
		    strcmp(req->segs[2], "suspend") == 0);
	if (req->nsegs > 2)
		return lk_req_no_route(req);
	if (req->nsegs == 1)
		return lk_accounts_http_collection(req);
	return lk_accounts_http_item(req, req->segs[1]);
}
