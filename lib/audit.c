/* audit.c — append to the hash chain: lock the head, hash, insert, move the head. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "crypto.h"
#include "log.h"

static const char SQL_HEAD[] =
    "SELECT hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_INSERT[] =
    "INSERT INTO audit_log (public_id, at, actor, account_id, account_path,"
    " action, target_id, ip, request_id, changes, prev_hash, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_MOVE_HEAD[] =
    "UPDATE audit_head SET hash = ? WHERE id = 1";

static enum lk_err
head_row(const struct lk_row *row, void *arg)
{
	memcpy(arg, row->v[0], LK_SHA256_LEN);
	return LK_OK;
}

enum lk_err
lk_audit_write(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	unsigned char	 prev[LK_SHA256_LEN], hash[LK_SHA256_LEN];
	unsigned char	 buf[LK_SHA256_LEN + 8192];
	char		 id[LK_PUBLIC_ID_MAX], *changes = NULL, *content = NULL;
	const struct lk_actor *a = ev->actor;
	json_t		*row, *ch;
	size_t		 clen;
	enum lk_err	 e;

	memset(prev, 0, sizeof(prev));
	if (!lk_crypto_public_id("evt_", id, sizeof(id)))
		return LK_ERR_INTERNAL;
	if ((e = lk_db_exec(db, SQL_HEAD, NULL, 0, head_row, prev, NULL)) != LK_OK)
		return e;
	ch = ev->changes != NULL ? json_incref(ev->changes) : json_object();
	changes = json_dumps(ch, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(ch);
	row = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "public_id", id, "at", (json_int_t)now, "actor", a->id,
	    "account_id", ev->account_id, "account_path", ev->account_path,
	    "action", ev->action, "target_id", ev->target_id,
	    "ip", a->ip != NULL ? a->ip : "",
	    "request_id", a->request_id != NULL ? a->request_id : "",
	    "changes", changes != NULL ? changes : "{}");
	if (row != NULL)
		content = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(row);
	if (changes == NULL || content == NULL ||
	    (clen = strlen(content)) > sizeof(buf) - LK_SHA256_LEN) {
		free(changes);
		free(content);
		lk_log_err("audit record could not be built");
		return LK_ERR_INTERNAL;
	}
	memcpy(buf, prev, LK_SHA256_LEN);
	memcpy(buf + LK_SHA256_LEN, content, clen);
	lk_crypto_sha256(buf, LK_SHA256_LEN + clen, hash);
	free(content);
	{
		const struct lk_param p[] = {
			LK_STR(id), LK_INT(now), LK_STR(a->id),
			LK_STR(ev->account_id), LK_STR(ev->account_path),
			LK_STR(ev->action), LK_STR(ev->target_id),
			LK_STR(a->ip != NULL ? a->ip : ""),
			LK_STR(a->request_id != NULL ? a->request_id : ""),
			LK_STR(changes), LK_BLOB(prev, LK_SHA256_LEN),
			LK_BLOB(hash, LK_SHA256_LEN),
		};
		const struct lk_param h[] = { LK_BLOB(hash, LK_SHA256_LEN) };

		e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL);
		if (e == LK_OK)
			e = lk_db_exec(db, SQL_MOVE_HEAD, h, LK_NELEM(h), NULL, NULL, NULL);
	}
	free(changes);
	return e;
}
