/*
 * audit.h — one hash-chained row per state change, written inside the
 * caller's transaction. hash = SHA-256(prev_hash || content), content = the
 * compact, key-sorted JSON object of the row's fields (see audit.c).
 */
#ifndef LK_AUDIT_H
#define LK_AUDIT_H

#include <jansson.h>

#include "db.h"

/* Who acts: a key id ("key_…"), a user id, or "cli"; where from; which request. */
struct lk_actor {
	const char	*id;
	const char	*ip;
	const char	*request_id;
};

struct lk_audit_event {
	const struct lk_actor	*actor;
	const char		*account_id;	/* public id of the account the target lives in */
	const char		*account_path;	/* its path, for subtree listing */
	const char		*action;	/* "key.create", "account.delete", … */
	const char		*target_id;	/* public id of the changed object */
	json_t			*changes;	/* object of changed fields (never secrets); borrowed */
};

/* Append ev at time now. Must run inside lk_db_txn. */
enum lk_err	lk_audit_write(struct lk_db *db, const struct lk_audit_event *ev, int64_t now);

#endif
