/* accounts.c — the account tree; SQL lives here and nowhere else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timefmt.h"
#include "model/accounts.h"

#define ACCOUNT_FIELDS \
    "a.id, a.public_id, p.public_id, a.name, a.plan, a.path, a.created_at," \
    " a.suspended_at, a.suspend_reason, a.grantable_scopes IS NOT NULL," \
    " a.grantable_scopes, a.revoke_after_inactive_days, a.suspended_by"
#define ACCOUNT_NFIELDS	13
#define ACCOUNT_COLS_TREE \
    ACCOUNT_FIELDS ", (SELECT COUNT(*) FROM api_keys k WHERE k.account_id = a.id)" \
    " FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id"
#define ACCOUNT_COLS \
    ACCOUNT_FIELDS " FROM accounts a LEFT JOIN accounts p ON p.id = a.parent_id"

static const char SQL_GET[] =
    "SELECT " ACCOUNT_COLS " WHERE a.public_id = ?";
static const char SQL_ROOT[] =
    "SELECT " ACCOUNT_COLS " WHERE a.parent_id IS NULL ORDER BY a.id LIMIT 1";
static const char SQL_LOCK_PARENT[] =
    "SELECT id FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_CHILDREN[] =
    "SELECT COUNT(*) FROM accounts WHERE parent_id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO accounts (public_id, parent_id, path, name, plan, created_at,"
    " updated_at) VALUES (?, ?, '', ?, ?, ?, ?)";
/* The new account's path, and its parent's suspension (which covers it). */
static const char SQL_SET_PATH[] =
    "UPDATE accounts c LEFT JOIN accounts p ON p.id = c.parent_id"
    " SET c.path = ?, c.suspended_by = p.suspended_by WHERE c.id = ?";
static const char SQL_UPDATE[] =
    "UPDATE accounts SET name = COALESCE(?, name), plan = COALESCE(?, plan),"
    " revoke_after_inactive_days = IF(?, ?, revoke_after_inactive_days),"
    " updated_at = ? WHERE id = ?";
static const char SQL_LOCK_POLICY[] =
    "SELECT revoke_after_inactive_days FROM accounts WHERE id = ? FOR UPDATE";
static const char SQL_IN_USE[] =
    "SELECT (SELECT COUNT(*) FROM accounts WHERE parent_id = ?),"
    " (SELECT COUNT(*) FROM api_keys WHERE account_id = ?),"
    " (SELECT COUNT(*) FROM users WHERE account_id = ?)";
static const char SQL_SUSPEND[] =
    "UPDATE accounts SET suspended_at = ?, suspend_reason = ?, updated_at = ? WHERE id = ?"
    " AND (suspended_at IS NULL) = ?";
/* The suspended account (nearest the root) on a path: the account itself or one above it. */
static const char SQL_SUSPENDED_ON[] =
    "SELECT public_id FROM accounts WHERE suspended_at IS NOT NULL"
    " AND ? LIKE CONCAT(path, '%') ORDER BY LENGTH(path) LIMIT 1";
/* Every suspended account, and a subtree's accounts with what they hold now (locked). */
static const char SQL_SUSPENDED_ALL[] =
    "SELECT public_id, path FROM accounts WHERE suspended_at IS NOT NULL ORDER BY LENGTH(path)";
static const char SQL_SUBTREE_LOCK[] =
    "SELECT id, path, COALESCE(suspended_by, '') FROM accounts WHERE path LIKE ? FOR UPDATE";
static const char SQL_SET_SUSPENDED_BY[] =
    "UPDATE accounts SET suspended_by = ? WHERE id = ?";
static const char SQL_DELETE[] =
    "DELETE FROM accounts WHERE id = ?";
static const char SQL_LIST[] =
    "SELECT " ACCOUNT_COLS " WHERE a.path LIKE ? AND a.id <> ?"
    " AND (? IS NULL OR (? = 'suspended') = (a.suspended_at IS NOT NULL))"
    LK_DB_PAGE_AFTER("a");

/* Ordered by path: every account comes right after its parent's subtree begins. */
static const char SQL_TREE[] =
    "SELECT " ACCOUNT_COLS_TREE " WHERE a.path LIKE ? ORDER BY a.path LIMIT ?";

/* In rank order: lk_plan_rank is the index. */
static const struct { const char *name; int64_t rate; } plans[] = {
	{ "free", 60 }, { "pro", 600 }, { "enterprise", 6000 },
};

int64_t
lk_plan_rate(const char *plan)
{
	size_t i;

	for (i = 0; i < LK_NELEM(plans); i++)
		if (strcmp(plans[i].name, plan) == 0)
			return plans[i].rate;
	return 0;
}

int
lk_plan_rank(const char *plan)
{
	size_t i;

	for (i = 0; i < LK_NELEM(plans); i++)
		if (strcmp(plans[i].name, plan) == 0)
			return (int)i;
	return -1;
}

bool
lk_accounts_can_nest(const struct lk_account *parent)
{
	/* Room for one more "/<20 digits>" in path. */
	return strlen(parent->path) + 22 <= LK_ACCOUNT_PATH_MAX;
}

bool
lk_path_within(const char *path, const char *root)
{
	return strncmp(path, root, strlen(root)) == 0;
}

struct lk_owner
lk_account_owner(const struct lk_account *a)
{
	struct lk_owner o = { .id = a->id };

	snprintf(o.public_id, sizeof(o.public_id), "%s", a->public_id);
	snprintf(o.path, sizeof(o.path), "%s", a->path);
	snprintf(o.plan, sizeof(o.plan), "%s", a->plan);
	return o;
}

void
lk_owner_account(const struct lk_owner *o, struct lk_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = o->id;
	snprintf(a->public_id, sizeof(a->public_id), "%s", o->public_id);
	snprintf(a->path, sizeof(a->path), "%s", o->path);
	snprintf(a->plan, sizeof(a->plan), "%s", o->plan);
}

enum lk_err
lk_owner_audit(struct lk_db *db, const struct lk_actor *actor, const struct lk_owner *o,
    const char *target, const char *action, json_t *changes, int64_t now)
{
	enum lk_err e;

	e = lk_audit_write(db, &(struct lk_audit_event){ actor, o->public_id, o->path,
	    action, target, changes }, now);
	json_decref(changes);
	return e;
}

bool
lk_path_is_root(const char *path)
{
	const char *end = path[0] == '/' ? strchr(path + 1, '/') : NULL;

	return end != NULL && end > path + 1 && end[1] == '\0';
}

json_t *
lk_account_json(const struct lk_account *a)
{
	char created[LK_TIME_MAX];

	char suspended[LK_TIME_MAX];

	lk_time_format(a->created_at, created);
	lk_time_format(a->suspended_at, suspended);
	return json_pack("{s:s,s:s?,s:s,s:s,s:s,s:s,s:s?,s:s?,s:o,s:o}", "id", a->public_id,
	    "parent_id", a->parent_public[0] ? a->parent_public : NULL,
	    "name", a->name, "plan", a->plan, "created_at", created,
	    "status", a->suspended_at != 0 ? "suspended" : "active",
	    "suspended_at", a->suspended_at != 0 ? suspended : NULL,
	    "suspend_reason", a->suspended_at != 0 && a->suspend_reason[0] ? a->suspend_reason : NULL,
	    "grantable_scopes", a->has_ceiling ? lk_scopes_json(a->grantable_scopes) : json_null(),
	    "revoke_after_inactive_days", a->revoke_after_inactive_days != 0 ?
	    json_integer(a->revoke_after_inactive_days) : json_null());
}

/* The columns of an account row, in the order the SELECTs name them. */
static const struct lk_col cols[] = {
	LK_COL_ID(lk_account, id), LK_COL_TEXT(lk_account, public_id),
	LK_COL_TEXT(lk_account, parent_public), LK_COL_TEXT(lk_account, name),
	LK_COL_TEXT(lk_account, plan), LK_COL_TEXT(lk_account, path),
	LK_COL_INT(lk_account, created_at), LK_COL_INT(lk_account, suspended_at),
	LK_COL_TEXT(lk_account, suspend_reason), LK_COL_INT(lk_account, has_ceiling),
	LK_COL_TEXT(lk_account, grantable_scopes),
	LK_COL_INT(lk_account, revoke_after_inactive_days),
	LK_COL_TEXT(lk_account, suspended_by),
};
_Static_assert(LK_NELEM(cols) == ACCOUNT_NFIELDS, "ACCOUNT_FIELDS and cols disagree");

enum lk_err
lk_accounts_get(struct lk_db *db, const char *public_id, struct lk_account *out)
{
	return lk_db_get(db, SQL_GET, public_id, LK_DB_MAP(cols, out));
}

enum lk_err
lk_accounts_root(struct lk_db *db, struct lk_account *out)
{
	return lk_db_get(db, SQL_ROOT, NULL, LK_DB_MAP(cols, out));
}

struct create_ctx {
	const struct lk_actor	*actor;
	const struct lk_account	*parent;
	const char		*name, *plan;
	int64_t			 max_children, now;
	struct lk_account	*out;
};

/*
 * Lock the parent's row and count its children: creates under one parent
 * queue on its row, so the count is exact (it is the transaction's first
 * consistent read). LK_ERR_NOT_FOUND if the parent was deleted meanwhile.
 */
static enum lk_err
room_for_child(struct lk_db *db, const struct lk_account *parent, int64_t max)
{
	const struct lk_param	 p[] = { LK_INT(parent->id) };
	int64_t			 n = -1;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_LOCK_PARENT, p, 1, lk_db_row_int, &n, NULL)) != LK_OK)
		return e;
	if (n < 0)
		return LK_ERR_NOT_FOUND;
	if ((e = lk_db_exec(db, SQL_CHILDREN, p, 1, lk_db_row_int, &n, NULL)) != LK_OK)
		return e;
	return n >= max ? LK_ERR_CONFLICT : LK_OK;
}

static enum lk_err
create_work(struct lk_db *db, void *arg)
{
	struct create_ctx	*c = arg;
	struct lk_account	*a = c->out;
	enum lk_err		 e;
	json_t			*changes;

	if (c->parent != NULL &&
	    (e = room_for_child(db, c->parent, c->max_children)) != LK_OK)
		return e;
	memset(a, 0, sizeof(*a));
	if (!lk_crypto_public_id("acct_", a->public_id, sizeof(a->public_id)))
		return LK_ERR_INTERNAL;
	{
		const struct lk_param p[] = {
			LK_STR(a->public_id),
			c->parent != NULL ? LK_INT(c->parent->id) : LK_NULL,
			LK_STR(c->name), LK_STR(c->plan), LK_INT(c->now), LK_INT(c->now),
		};
		if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	a->id = lk_db_insert_id(db);
	snprintf(a->path, sizeof(a->path), "%s%llu/",
	    c->parent != NULL ? c->parent->path : "/", (unsigned long long)a->id);
	{
		const struct lk_param p[] = { LK_STR(a->path), LK_INT(a->id) };
		if ((e = lk_db_exec(db, SQL_SET_PATH, p, 2, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	snprintf(a->parent_public, sizeof(a->parent_public), "%s",
	    c->parent != NULL ? c->parent->public_id : "");
	snprintf(a->name, sizeof(a->name), "%s", c->name);
	snprintf(a->plan, sizeof(a->plan), "%s", c->plan);
	a->created_at = c->now;
	changes = json_pack("{s:s,s:s,s:s?}", "name", c->name, "plan", c->plan,
	    "parent_id", c->parent != NULL ? c->parent->public_id : NULL);
	e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, a->public_id,
	    a->path, "account.create", a->public_id, changes }, c->now);
	json_decref(changes);
	return e;
}

enum lk_err
lk_accounts_create(struct lk_db *db, const struct lk_actor *actor,
    const struct lk_account *parent, const char *name, const char *plan,
    int64_t max_children, int64_t now, struct lk_account *out)
{
	struct create_ctx c = { actor, parent, name, plan, max_children, now, out };

	if (parent != NULL && !lk_accounts_can_nest(parent))
		return LK_ERR_CONFLICT;
	return lk_db_txn(db, create_work, &c);
}

struct update_ctx {
	const struct lk_actor		*actor;
	struct lk_account		*a;
	const struct lk_account_patch	*p;
	int64_t				 now;
	int64_t				 old_days;	/* as locked */
};

static enum lk_err
update_work(struct lk_db *db, void *arg)
{
	struct update_ctx		*c = arg;
	const struct lk_account_patch	*pt = c->p;
	const struct lk_param		 lock[] = { LK_INT(c->a->id) };
	const struct lk_param		 p[] = { LK_STR0(pt->name), LK_STR0(pt->plan),
	    LK_INT(pt->has_inactive_days), LK_INT0(pt->inactive_days), LK_INT(c->now),
	    LK_INT(c->a->id) };
	json_t				*changes;
	enum lk_err			 e;

	c->old_days = -1;
	if ((e = lk_db_exec(db, SQL_LOCK_POLICY, lock, 1, lk_db_row_int, &c->old_days,
	    NULL)) != LK_OK)
		return e;
	if (c->old_days < 0)
		return LK_ERR_NOT_FOUND;
	if ((e = lk_db_exec(db, SQL_UPDATE, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
		return e;
	/* the given fields, old -> new (c->a is as the caller read it, its rules checked on that) */
	changes = json_object();
	if (pt->name != NULL)
		lk_audit_change(changes, "name", json_string(c->a->name), json_string(pt->name));
	if (pt->plan != NULL)
		lk_audit_change(changes, "plan", json_string(c->a->plan), json_string(pt->plan));
	if (pt->has_inactive_days)
		lk_audit_change(changes, "revoke_after_inactive_days",
		    c->old_days != 0 ? json_integer(c->old_days) : NULL,
		    pt->inactive_days != 0 ? json_integer(pt->inactive_days) : NULL);
	e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, c->a->public_id,
	    c->a->path, "account.update", c->a->public_id, changes }, c->now);
	json_decref(changes);
	return e;
}

enum lk_err
lk_accounts_update(struct lk_db *db, const struct lk_actor *actor,
    struct lk_account *a, const struct lk_account_patch *p, int64_t now)
{
	struct update_ctx	 c = { actor, a, p, now, 0 };
	enum lk_err		 e;

	if ((e = lk_db_txn(db, update_work, &c)) != LK_OK)
		return e;
	if (p->name != NULL)
		snprintf(a->name, sizeof(a->name), "%s", p->name);
	if (p->plan != NULL)
		snprintf(a->plan, sizeof(a->plan), "%s", p->plan);
	if (p->has_inactive_days)
		a->revoke_after_inactive_days = p->inactive_days;
	return LK_OK;
}

struct suspend_ctx {
	const struct lk_actor	*actor;
	struct lk_account	*a;
	const char		*reason;	/* NULL: reactivate */
	int64_t			 now;
};

/* The suspended accounts, nearest the root first, and the subtree rows whose suspended_by must change. */
struct recompute {
	struct { char id[LK_PUBLIC_ID_MAX], path[LK_ACCOUNT_PATH_MAX]; } *susp;
	size_t		 nsusp, cap;
	struct { uint64_t id; char by[LK_PUBLIC_ID_MAX]; } *change;
	size_t		 nchange, ccap;
	bool		 failed;
};

static enum lk_err
suspended_row(const struct lk_row *r, void *arg)
{
	struct recompute	*c = arg;
	void			*p;

	if (c->nsusp == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		if ((p = reallocarray(c->susp, c->cap, sizeof(*c->susp))) == NULL)
			return LK_ERR_INTERNAL;
		c->susp = p;
	}
	snprintf(c->susp[c->nsusp].id, sizeof(c->susp[0].id), "%s", r->v[0]);
	snprintf(c->susp[c->nsusp].path, sizeof(c->susp[0].path), "%s", r->v[1]);
	c->nsusp++;
	return LK_OK;
}

static enum lk_err
subtree_row(const struct lk_row *r, void *arg)
{
	struct recompute	*c = arg;
	const char		*by = "";
	size_t			 i;
	void			*p;

	for (i = 0; i < c->nsusp && *by == '\0'; i++)
		if (lk_path_within(r->v[1], c->susp[i].path))
			by = c->susp[i].id;
	if (strcmp(by, r->v[2]) == 0)
		return LK_OK;
	if (c->nchange == c->ccap) {
		c->ccap = c->ccap ? c->ccap * 2 : 64;
		if ((p = reallocarray(c->change, c->ccap, sizeof(*c->change))) == NULL)
			return LK_ERR_INTERNAL;
		c->change = p;
	}
	c->change[c->nchange].id = strtoull(r->v[0], NULL, 10);
	snprintf(c->change[c->nchange].by, sizeof(c->change[0].by), "%s", by);
	c->nchange++;
	return LK_OK;
}

/*
 * Set suspended_by on every account of a's subtree to the suspended account
 * nearest the root on its path (after a's own status changed), in the
 * caller's transaction.
 */
static enum lk_err
recompute_suspended_by(struct lk_db *db, const struct lk_account *a)
{
	struct recompute	 c = { 0 };
	char			 like[LK_ACCOUNT_PATH_MAX + 2];
	enum lk_err		 e;
	size_t			 i;

	snprintf(like, sizeof(like), "%s%%", a->path);
	const struct lk_param	 p[] = { LK_STR(like) };	/* after like is written: LK_STR takes its length */
	if ((e = lk_db_exec(db, SQL_SUSPENDED_ALL, NULL, 0, suspended_row, &c, NULL)) == LK_OK)
		e = lk_db_exec(db, SQL_SUBTREE_LOCK, p, 1, subtree_row, &c, NULL);
	for (i = 0; e == LK_OK && i < c.nchange; i++) {
		const struct lk_param q[] = { LK_STR0(c.change[i].by), LK_INT(c.change[i].id) };

		e = lk_db_exec(db, SQL_SET_SUSPENDED_BY, q, 2, NULL, NULL, NULL);
	}
	free(c.susp);
	free(c.change);
	return e;
}

static enum lk_err
suspend_work(struct lk_db *db, void *arg)
{
	struct suspend_ctx	*c = arg;
	bool			 suspend = c->reason != NULL;
	const struct lk_param	 p[] = { suspend ? LK_INT(c->now) : LK_NULL,
	    suspend && *c->reason ? LK_STR(c->reason) : LK_NULL, LK_INT(c->now),
	    LK_INT(c->a->id), LK_INT(suspend) };
	uint64_t		 n = 0;
	json_t			*changes;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_SUSPEND, p, LK_NELEM(p), NULL, NULL, &n)) != LK_OK ||
	    n == 0)
		return e;	/* already so: no change, no audit row */
	if ((e = recompute_suspended_by(db, c->a)) != LK_OK)
		return e;
	changes = json_pack("{s:{s:s,s:s},s:s?}", "status", "old", suspend ? "active" : "suspended",
	    "new", suspend ? "suspended" : "active", "reason",
	    suspend && *c->reason ? c->reason : NULL);
	e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, c->a->public_id,
	    c->a->path, suspend ? "account.suspend" : "account.reactivate", c->a->public_id,
	    changes }, c->now);
	json_decref(changes);
	return e;
}

enum lk_err
lk_accounts_suspend(struct lk_db *db, const struct lk_actor *actor, struct lk_account *a,
    const char *reason, int64_t now)
{
	struct suspend_ctx	c = { actor, a, reason, now };
	enum lk_err		e;

	if ((e = lk_db_txn(db, suspend_work, &c)) != LK_OK)
		return e;
	return lk_accounts_get(db, a->public_id, a);
}

struct suspended_on { char id[LK_PUBLIC_ID_MAX]; };
static const struct lk_col suspended_cols[] = { LK_COL_TEXT(suspended_on, id) };

enum lk_err
lk_accounts_suspended_on(struct lk_db *db, const char *path, char *by, size_t bysz)
{
	struct suspended_on	s;
	enum lk_err		e;

	e = lk_db_get(db, SQL_SUSPENDED_ON, path, LK_DB_MAP(suspended_cols, &s));
	snprintf(by, bysz, "%s", e == LK_OK ? s.id : "");
	return e == LK_ERR_NOT_FOUND ? LK_OK : e;
}

struct delete_ctx {
	const struct lk_actor	*actor;
	const struct lk_account	*a;
	int64_t			 now;
	struct lk_account_use	*use;
};

static enum lk_err
use_row(const struct lk_row *r, void *arg)
{
	struct lk_account_use *use = arg;

	use->children = strtoll(r->v[0], NULL, 10);
	use->keys = strtoll(r->v[1], NULL, 10);
	use->users = strtoll(r->v[2], NULL, 10);
	return LK_OK;
}

static enum lk_err
use_work(struct lk_db *db, const struct lk_account *a, struct lk_account_use *use)
{
	const struct lk_param p[] = { LK_INT(a->id), LK_INT(a->id), LK_INT(a->id) };

	memset(use, 0, sizeof(*use));
	return lk_db_exec(db, SQL_IN_USE, p, LK_NELEM(p), use_row, use, NULL);
}

static enum lk_err
use_read(struct lk_db *db, void *arg)
{
	struct delete_ctx *c = arg;

	return use_work(db, c->a, c->use);
}

enum lk_err
lk_accounts_use(struct lk_db *db, const struct lk_account *a, struct lk_account_use *out)
{
	struct delete_ctx c = { NULL, a, 0, out };

	return lk_db_read(db, use_read, &c);
}

static enum lk_err
delete_work(struct lk_db *db, void *arg)
{
	struct delete_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->a->id) };
	enum lk_err		 e;
	uint64_t		 n = 0;
	json_t			*changes;

	if ((e = use_work(db, c->a, c->use)) != LK_OK)
		return e;
	if (c->use->children > 0 || c->use->keys > 0 || c->use->users > 0)
		return LK_ERR_CONFLICT;
	if ((e = lk_db_exec(db, SQL_DELETE, p, 1, NULL, NULL, &n)) != LK_OK)
		return e;
	if (n == 0)
		return LK_ERR_NOT_FOUND;
	changes = json_pack("{s:s,s:s}", "name", c->a->name, "plan", c->a->plan);
	e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, c->a->public_id,
	    c->a->path, "account.delete", c->a->public_id, changes }, c->now);
	json_decref(changes);
	return e;
}

enum lk_err
lk_accounts_delete(struct lk_db *db, const struct lk_actor *actor,
    const struct lk_account *a, int64_t now, struct lk_account_use *use)
{
	struct lk_account_use	 mine;
	struct delete_ctx	 c = { actor, a, now, use != NULL ? use : &mine };

	return lk_db_txn(db, delete_work, &c);
}

static json_t *
account_item(const void *a, const void *arg)
{
	(void)arg;
	return lk_account_json(a);
}

enum lk_err
lk_accounts_list(struct lk_db *db, const struct lk_account *root, const char *status,
    struct lk_page *page)
{
	struct lk_account	 a;
	char			 like[LK_ACCOUNT_PATH_MAX + 2];

	snprintf(like, sizeof(like), "%s%%", root->path);
	const struct lk_param p[] = { LK_STR(like), LK_INT(root->id), LK_STR0(status),
	    LK_STR0(status) };

	return lk_db_page(db, SQL_LIST, p, LK_NELEM(p), page,
	    LK_DB_ITEMS(cols, &a, account_item, NULL));
}

struct tree_ctx {
	const struct lk_account	*root;
	int			 max;
	json_t			*out;
};

static enum lk_err
tree_row(const struct lk_row *r, void *arg)
{
	struct tree_ctx		*c = arg;
	struct lk_account	 a;
	json_t			*o;
	const char		*p;
	int			 depth = 0;

	lk_db_row_map(r, LK_DB_MAP(cols, &a));
	for (p = a.path + strlen(c->root->path); *p != '\0'; p++)
		depth += *p == '/';
	o = lk_account_json(&a);
	json_object_set_new(o, "depth", json_integer(depth));
	json_object_set_new(o, "key_count", json_integer(strtoll(r->v[ACCOUNT_NFIELDS], NULL, 10)));
	json_array_append_new(c->out, o);
	return LK_OK;
}

static enum lk_err
tree_work(struct lk_db *db, void *arg)
{
	struct tree_ctx	*c = arg;
	char		 like[LK_ACCOUNT_PATH_MAX + 2];

	snprintf(like, sizeof(like), "%s%%", c->root->path);
	const struct lk_param p[] = { LK_STR(like), LK_INT(c->max) };

	json_array_clear(c->out);
	return lk_db_exec(db, SQL_TREE, p, LK_NELEM(p), tree_row, c, NULL);
}

enum lk_err
lk_accounts_tree(struct lk_db *db, const struct lk_account *root, int max, json_t **out)
{
	struct tree_ctx	c = { root, max, json_array() };
	enum lk_err	e;

	if ((e = lk_db_read(db, tree_work, &c)) != LK_OK) {
		json_decref(c.out);
		c.out = NULL;
	}
	*out = c.out;
	return e;
}
