/* ceiling.c — scope ceilings (model/ceiling.h); the SQL of accounts.grantable_scopes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/scopes.h"
#include "model/ceiling.h"

/* The ceilings on the account at path and above it (path starts with theirs). */
static const char SQL_CEILINGS[] =
    "SELECT public_id, grantable_scopes FROM accounts"
    " WHERE grantable_scopes IS NOT NULL AND ? LIKE CONCAT(path, '%')";
static const char SQL_LOCK[] =
    "SELECT grantable_scopes IS NOT NULL, COALESCE(grantable_scopes, '') FROM accounts"
    " WHERE id = ? FOR UPDATE";
static const char SQL_SET[] =
    "UPDATE accounts SET grantable_scopes = ?, updated_at = ? WHERE id = ?";
/* The unrevoked keys of a subtree (locked: none is created or changed while this decides). */
static const char SQL_KEYS[] =
    "SELECT k.id, k.public_id, x.public_id, x.path, k.scopes, COALESCE(k.expires_at, 0)"
    " FROM api_keys k"
    " JOIN accounts x ON x.id = k.account_id"
    " WHERE x.path LIKE ? AND k.revoked_at IS NULL ORDER BY k.id FOR UPDATE";
static const char SQL_REVOKE[] =
    "UPDATE api_keys SET revoked_at = ?, revoked_reason = 'ceiling' WHERE id = ?";

#define LISTED_MAX	100

struct check_ctx {
	const char	*path, *scopes;
	char		*bad, *by;
	size_t		 badsz, bysz;
	bool		 ok;
};

static enum lk_err
check_row(const struct lk_row *r, void *arg)
{
	struct check_ctx	*c = arg;
	const char		*w;
	size_t			 wn;

	if (c->ok && !lk_scopes_within_ceiling(r->v[1], c->scopes, &w, &wn)) {
		snprintf(c->bad, c->badsz, "%.*s", (int)wn, w);
		snprintf(c->by, c->bysz, "%s", r->v[0]);
		c->ok = false;
	}
	return LK_OK;
}

static enum lk_err
check_work(struct lk_db *db, void *arg)
{
	struct check_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_STR(c->path) };

	c->ok = true;
	return lk_db_exec(db, SQL_CEILINGS, p, 1, check_row, c, NULL);
}

enum lk_err
lk_ceiling_check(struct lk_db *db, const char *path, const char *scopes, char *bad,
    size_t badsz, char *by, size_t bysz)
{
	struct check_ctx	c = { path, scopes, bad, by, badsz, bysz, true };
	enum lk_err		e;

	if ((e = lk_db_read(db, check_work, &c)) != LK_OK)
		return e;
	return c.ok ? LK_OK : LK_ERR_FORBIDDEN;
}

struct set_ctx {
	const struct lk_actor	*actor;
	struct lk_account	*a;
	const char		*scopes;	/* NULL: none */
	bool			 revoke;
	int64_t			 now;
	json_t			*outside;
	int64_t			 had, nout;
	char			 old[LK_SCOPES_BUF];
	/* The keys outside, to revoke: ids and their accounts. */
	struct { uint64_t id; char pid[LK_PUBLIC_ID_MAX], acct[LK_PUBLIC_ID_MAX],
	    path[LK_ACCOUNT_PATH_MAX]; int64_t expires_at; } *keys;
	size_t			 nkeys, cap;
};

static enum lk_err
lock_row(const struct lk_row *r, void *arg)
{
	struct set_ctx *c = arg;

	c->had = strtoll(r->v[0], NULL, 10);
	snprintf(c->old, sizeof(c->old), "%s", r->v[1]);
	return LK_OK;
}

static enum lk_err
key_row(const struct lk_row *r, void *arg)
{
	struct set_ctx *c = arg;

	if (c->scopes == NULL || lk_scopes_within_ceiling(c->scopes, r->v[4], NULL, NULL))
		return LK_OK;
	c->nout++;
	if (json_array_size(c->outside) < LISTED_MAX)
		json_array_append_new(c->outside, json_pack("{s:s,s:s,s:o}", "id", r->v[1],
		    "account_id", r->v[2], "scopes", lk_scopes_json(r->v[4])));
	if (!c->revoke)
		return LK_OK;
	if (c->nkeys == c->cap) {
		size_t	 cap = c->cap ? c->cap * 2 : 64;
		void	*k = reallocarray(c->keys, cap, sizeof(*c->keys));

		if (k == NULL)
			return LK_ERR_INTERNAL;
		c->keys = k;
		c->cap = cap;
	}
	c->keys[c->nkeys].id = strtoull(r->v[0], NULL, 10);
	snprintf(c->keys[c->nkeys].pid, sizeof(c->keys[0].pid), "%s", r->v[1]);
	snprintf(c->keys[c->nkeys].acct, sizeof(c->keys[0].acct), "%s", r->v[2]);
	snprintf(c->keys[c->nkeys].path, sizeof(c->keys[0].path), "%s", r->v[3]);
	c->keys[c->nkeys].expires_at = strtoll(r->v[5], NULL, 10);
	c->nkeys++;
	return LK_OK;
}

static json_t *
ceiling_json(bool set, const char *scopes)
{
	return set ? lk_scopes_json(scopes) : json_null();
}

static enum lk_err
set_work(struct lk_db *db, void *arg)
{
	struct set_ctx	*c = arg;
	char		 like[LK_ACCOUNT_PATH_MAX + 2];
	enum lk_err	 e;
	size_t		 i;
	json_t		*changes;

	/* Redo-safe: lk_db_txn may run this twice. */
	json_array_clear(c->outside);
	c->nout = 0;
	c->nkeys = 0;
	snprintf(like, sizeof(like), "%s%%", c->a->path);
	{
		const struct lk_param p[] = { LK_INT(c->a->id) };
		if ((e = lk_db_exec(db, SQL_LOCK, p, 1, lock_row, c, NULL)) != LK_OK)
			return e;
	}
	{
		const struct lk_param p[] = { LK_STR(like) };
		if ((e = lk_db_exec(db, SQL_KEYS, p, 1, key_row, c, NULL)) != LK_OK)
			return e;
	}
	if (c->nout > 0 && !c->revoke)
		return LK_ERR_CONFLICT;
	for (i = 0; i < c->nkeys; i++) {
		const struct lk_param p[] = { LK_INT(c->now), LK_INT(c->keys[i].id) };

		if ((e = lk_db_exec(db, SQL_REVOKE, p, 2, NULL, NULL, NULL)) != LK_OK)
			return e;
		/* the status change as every key.revoke records it (lk_audit_change) */
		changes = json_pack("{s:s}", "reason", "ceiling");
		lk_audit_change(changes, "status", json_string(c->keys[i].expires_at != 0 &&
		    c->keys[i].expires_at <= c->now ? "expired" : "active"), json_string("revoked"));
		e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, c->keys[i].acct,
		    c->keys[i].path, "key.revoke", c->keys[i].pid, changes }, c->now);
		json_decref(changes);
		if (e != LK_OK)
			return e;
	}
	{
		const struct lk_param p[] = { c->scopes != NULL ? LK_STR(c->scopes) : LK_NULL,
		    LK_INT(c->now), LK_INT(c->a->id) };
		if ((e = lk_db_exec(db, SQL_SET, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	changes = json_pack("{s:{s:o,s:o}}", "grantable_scopes", "old",
	    ceiling_json(c->had != 0, c->old), "new", ceiling_json(c->scopes != NULL,
	    c->scopes != NULL ? c->scopes : ""));
	if (c->nkeys > 0)
		json_object_set_new(changes, "revoked_keys", json_integer((json_int_t)c->nkeys));
	e = lk_audit_write(db, &(struct lk_audit_event){ c->actor, c->a->public_id,
	    c->a->path, "account.update", c->a->public_id, changes }, c->now);
	json_decref(changes);
	return e;
}

enum lk_err
lk_ceiling_set(struct lk_db *db, const struct lk_actor *actor, struct lk_account *a,
    const char *scopes, bool revoke, int64_t now, json_t **outside)
{
	struct set_ctx	*c;
	enum lk_err	 e;

	*outside = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LK_ERR_INTERNAL;
	*c = (struct set_ctx){ .actor = actor, .a = a, .scopes = scopes, .revoke = revoke,
	    .now = now, .outside = json_array() };
	e = lk_db_txn(db, set_work, c);
	if (c->nout > 0)
		*outside = json_incref(c->outside);
	json_decref(c->outside);
	free(c->keys);
	free(c);
	if (e == LK_OK)
		e = lk_accounts_get(db, a->public_id, a);
	return e;
}
