/*
 * audit_list.h — reading the audit log: GET /v1/audit (api/audit) and the
 * console's audit pages list the same rows through this one query. Rows are
 * listed newest first; the page cursor carries the row's position in the log.
 */
#ifndef LK_AUDIT_LIST_H
#define LK_AUDIT_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/db.h"
#include "base/page.h"

#define LK_ACTION_MAX	40

/*
 * Filters; NULL means not filtered. since/until bound the row's time
 * (inclusive/exclusive) when has_since/has_until (0 is a time: the epoch).
 * kind "session" keeps the sign-in and sign-out rows (user.login,
 * user.logout, user.login_failed, user.password_failed), "change" the others.
 * only_env "test" keeps only the rows about test keys (lk_auth_only_env).
 */
struct lk_audit_filter {
	const char	*target_id, *action, *actor, *kind;
	int64_t		 since, until;
	bool		 has_since, has_until;
	const char	*only_env;
};

/* The query fields of a listing (filters + paging), for field tables. */
#define LK_AUDIT_FIELDS \
	{ "target_id", LK_FT_WORD, 0, LK_PUBLIC_ID_MAX - 1, NULL }, \
	{ "action", LK_FT_WORD, 0, LK_ACTION_MAX, NULL }, \
	{ "actor", LK_FT_WORD, 0, LK_PUBLIC_ID_MAX - 1, NULL }, \
	{ "since", LK_FT_TIME, 0, 0, NULL }, \
	{ "until", LK_FT_TIME, 0, 0, NULL }, \
	{ "kind", LK_FT_ENUM, 0, 0, lk_audit_kinds }, \
	LK_PAGE_FIELDS

/* The values of the kind filter: "change", "session". */
extern const char *const lk_audit_kinds[];

/* Fill f from validated fields (see LK_AUDIT_FIELDS); the strings stay owned by fields. */
void		lk_audit_filter_of(json_t *fields, struct lk_audit_filter *f);

/*
 * Fill page with the rows of the subtree at root_path that pass f, newest
 * first: {"id","at","actor","account_id","action","target_id","ip",
 * "request_id","changes","actor_name","target_name","account_name"}; a name
 * (a user's email, a key's label, an account's name) is null when the
 * object is gone or outside the subtree (or, for a key, of another env than
 * f->only_env).
 */
enum lk_err	lk_audit_list(struct lk_db *db, const char *root_path,
		    const struct lk_audit_filter *f, struct lk_page *page);

#endif
