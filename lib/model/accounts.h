/*
 * accounts.h — the account tree. path is the chain of internal ids from the
 * root ("/1/7/42/"): X is in Y's subtree iff X.path starts with Y.path.
 */
#ifndef LK_ACCOUNTS_H
#define LK_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/crypto.h"
#include "base/db.h"
#include "base/page.h"
#include "base/scopes.h"
#include "model/audit.h"

#define LK_ACCOUNT_PATH_MAX	256
#define LK_ACCOUNT_NAME_MAX	100	/* characters */
#define LK_SUSPEND_REASON_MAX	200	/* characters */
#define LK_INACTIVE_DAYS_MAX	3650

struct lk_account {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	char		 parent_public[LK_PUBLIC_ID_MAX];	/* "" for the root */
	char		 name[LK_ACCOUNT_NAME_MAX * 4 + 1];
	char		 plan[16];
	char		 path[LK_ACCOUNT_PATH_MAX];
	int64_t		 created_at;
	int64_t		 suspended_at;		/* 0: active */
	char		 suspend_reason[LK_SUSPEND_REASON_MAX * 4 + 1];
	int64_t		 has_ceiling;		/* 1: grantable_scopes limits its subtree's keys */
	char		 grantable_scopes[LK_SCOPES_BUF];	/* space-separated patterns */
	int64_t		 revoke_after_inactive_days;	/* 0: not set here (inherited or off) */
	char		 suspended_by[LK_PUBLIC_ID_MAX];	/* the suspended account nearest the
							   root on its path (itself included), "" */
};

/* The account a key or a user belongs to, as their rows carry it (joined from accounts). */
struct lk_owner {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	char		 path[LK_ACCOUNT_PATH_MAX];
	char		 plan[16];
};

/*
 * The first column table entries (lk_db_row_map) of struct s, a row that
 * belongs to an account (members id, public_id, owner), in the order the
 * SELECTs name them: its id, its public id, then a.id, a.public_id, a.path,
 * a.plan of its account.
 */
#define LK_COLS_OWNED(s) \
	LK_COL_ID(s, id), LK_COL_TEXT(s, public_id), \
	LK_COL_ID(s, owner.id), LK_COL_TEXT(s, owner.public_id), \
	LK_COL_TEXT(s, owner.path), LK_COL_TEXT(s, owner.plan)

/* The owner part of an account. */
struct lk_owner	 lk_account_owner(const struct lk_account *a);

/* Zero *a and fill what an owner knows of its account: id, public_id, path, plan. */
void		 lk_owner_account(const struct lk_owner *o, struct lk_account *a);

/*
 * Write the audit row of a change to target (a key's or a user's public id),
 * which belongs to the account o; takes the reference to changes.
 */
enum lk_err	 lk_owner_audit(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_owner *o, const char *target, const char *action,
		    json_t *changes, int64_t now);

/*
 * Suspend a (reason: "" or text) or reactivate it (reason NULL), audited
 * (account.suspend / account.reactivate); no change and no audit row when
 * it already is so. Refreshes *a. Keys keep their own status: every key of
 * a's subtree is refused while a is suspended (model/use).
 */
enum lk_err	 lk_accounts_suspend(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_account *a, const char *reason, int64_t now);

/*
 * The suspended account (nearest the root) among the account at path and
 * those above it, into by ("" when none is suspended).
 */
enum lk_err	 lk_accounts_suspended_on(struct lk_db *db, const char *path, char *by,
		    size_t bysz);

/* Requests per minute of plan ("free" 60, "pro" 600, "enterprise" 6000); 0 if unknown. */
int64_t		 lk_plan_rate(const char *plan);

/* Rank of plan in the order free < pro < enterprise (0, 1, 2); -1 if unknown. */
int		 lk_plan_rank(const char *plan);

/* True if the account at path is in the subtree rooted at root (root itself included). */
bool		 lk_path_within(const char *path, const char *root);

/* True if the account at path is the root account (no parent: "/N/"). */
bool		 lk_path_is_root(const char *path);

/* The API object {"id","parent_id","name","plan","created_at"}. */
json_t		*lk_account_json(const struct lk_account *a);

/* Look up by public id. LK_ERR_NOT_FOUND if there is none. */
enum lk_err	 lk_accounts_get(struct lk_db *db, const char *public_id, struct lk_account *out);

/* True if parent may get a child: the tree is not too deep there. */
bool		 lk_accounts_can_nest(const struct lk_account *parent);

/*
 * Create a child of parent (NULL: a root account) and write its audit row.
 * Fills out. LK_ERR_CONFLICT if the tree would be too deep
 * (!lk_accounts_can_nest) or parent already has max_children children (exact
 * under concurrency); LK_ERR_NOT_FOUND if parent was deleted meanwhile.
 */
enum lk_err	 lk_accounts_create(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_account *parent, const char *name,
		    const char *plan, int64_t max_children, int64_t now,
		    struct lk_account *out);

/* What a PATCH of an account changes: NULL / has_* false leaves a field as it is. */
struct lk_account_patch {
	const char	*name, *plan;
	bool		 has_inactive_days;
	int64_t		 inactive_days;		/* revoke_after_inactive_days; 0 clears */
};

/*
 * Apply p to a (re-read under a row lock) and write the audit row
 * account.update: the new name and plan, and revoke_after_inactive_days as
 * {"old", "new"}. a is updated in place.
 */
enum lk_err	 lk_accounts_update(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_account *a, const struct lk_account_patch *p, int64_t now);

/* What keeps an account from being deleted: its sub-accounts, its keys, its console users. */
struct lk_account_use {
	int64_t		 children, keys, users;
};

/* Count what a holds (lk_account_use), in a read of its own. */
enum lk_err	 lk_accounts_use(struct lk_db *db, const struct lk_account *a,
		    struct lk_account_use *out);

/*
 * Delete a; LK_ERR_CONFLICT while it has keys, child accounts or users, and
 * then *use (if not NULL) says how many of each.
 */
enum lk_err	 lk_accounts_delete(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_account *a, int64_t now, struct lk_account_use *use);

/*
 * Fill page with the accounts strictly below root, newest first; status
 * "active" or "suspended" (their own status) filters, NULL lists all.
 */
enum lk_err	 lk_accounts_list(struct lk_db *db, const struct lk_account *root,
		    const char *status, struct lk_page *page);

/*
 * The subtree of root (root included) in tree order, at most max accounts:
 * *out is a new array of account objects with "depth" (0 for root) and
 * "key_count" added (the admin console's tree).
 */
enum lk_err	 lk_accounts_tree(struct lk_db *db, const struct lk_account *root,
		    int max, json_t **out);

/* The root account (no parent) if one exists: LK_ERR_NOT_FOUND otherwise. */
enum lk_err	 lk_accounts_root(struct lk_db *db, struct lk_account *out);

#endif
