/* events.c — the outbox: an event's fan-out to the endpoints above its account, in its transaction. */
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/scopes.h"
#include "base/timefmt.h"
#include "model/accounts.h"
#include "model/events.h"
#include "model/keys.h"

bool
lk_webhook_wants(const char *events, const char *type)
{
	const char	*p = events, *w;
	size_t		 n;

	while ((w = lk_scopes_next(&p, &n)) != NULL)
		if ((n == 1 && w[0] == '*') || (strlen(type) == n && strncmp(type, w, n) == 0) ||
		    (n >= 2 && w[n - 1] == '*' && strncmp(type, w, n - 1) == 0))
			return true;
	return false;
}

/* Payloads above this are sent as the object's id and account only (the outbox column's bound). */
#define PAYLOAD_MAX	60000

/* Enabled endpoints of the account at the path and those above it (their paths are its prefixes). */
static const char SQL_ENDPOINTS[] =
    "SELECT e.id, e.events FROM webhook_endpoints e JOIN accounts a ON a.id = e.account_id"
    " WHERE e.enabled = 1 AND LEFT(?, CHAR_LENGTH(a.path)) = a.path";
static const char SQL_INSERT[] =
    "INSERT INTO webhook_messages (public_id, endpoint_id, type, payload, created_at,"
    " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)";

static const struct {
	const char	*action, *type;
} types[] = {
	{ "key.create", "key.created" },
	{ "key.update", "key.updated" },
	{ "key.revoke", "key.revoked" },
	{ "key.reactivate", "key.reactivated" },
	{ "key.rotate", "key.rotated" },
	{ "key.delete", "key.deleted" },
	{ "key.leaked", "key.leaked" },
	{ "account.create", "account.created" },
	{ "account.update", "account.updated" },
	{ "account.suspend", "account.updated" },
	{ "account.reactivate", "account.updated" },
	{ "account.delete", "account.deleted" },
};

const char *
lk_events_type_of(const char *action)
{
	size_t i;

	for (i = 0; i < LK_NELEM(types); i++)
		if (strcmp(types[i].action, action) == 0)
			return types[i].type;
	return NULL;
}

/* The endpoints a type goes to: ids, grown as rows come. */
struct targets {
	const char	*type;
	uint64_t	*ids;
	size_t		 n, cap;
};

static enum lk_err
target_row(const struct lk_row *r, void *arg)
{
	struct targets	*t = arg;
	uint64_t	*ids;

	if (!lk_webhook_wants(r->v[1], t->type))
		return LK_OK;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 8;
		if ((ids = realloc(t->ids, t->cap * sizeof(*ids))) == NULL)
			return LK_ERR_INTERNAL;
		t->ids = ids;
	}
	t->ids[t->n++] = strtoull(r->v[0], NULL, 10);
	return LK_OK;
}

/* The payload text of type with data (stolen); NULL if it cannot be built. */
static char *
payload(const char *type, json_t *data, int64_t now)
{
	char	 ts[LK_TIME_MAX], *s;
	json_t	*p;

	lk_time_format(now, ts);
	p = json_pack("{s:s,s:s,s:o}", "type", type, "timestamp", ts, "data", data);
	s = p != NULL ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (s != NULL && strlen(s) > PAYLOAD_MAX) {
		json_t *small = json_pack("{s:O*,s:O*}", "id", json_object_get(data, "id"),
		    "account_id", json_object_get(data, "account_id"));

		free(s);
		return payload(type, small, now);
	}
	return s;
}

static enum lk_err
insert(struct lk_db *db, uint64_t endpoint, const char *type, const char *body, int64_t now,
    char *msg_id)
{
	char	id[LK_PUBLIC_ID_MAX];

	if (!lk_crypto_public_id("msg_", id, sizeof(id)))
		return LK_ERR_INTERNAL;
	if (msg_id != NULL)
		memcpy(msg_id, id, sizeof(id));
	const struct lk_param p[] = { LK_STR(id), LK_INT(endpoint), LK_STR(type),
	    LK_STR(body), LK_INT(now), LK_INT(now) };
	return lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL);
}

/* Messages of type for targets t, data (stolen) made only if there is one. */
static enum lk_err
fan_out(struct lk_db *db, const struct targets *t, json_t *data, int64_t now)
{
	enum lk_err	 e = LK_OK;
	char		*body;
	size_t		 i;

	if (data == NULL)
		return LK_ERR_INTERNAL;
	if ((body = payload(t->type, data, now)) == NULL)
		return LK_ERR_INTERNAL;
	for (i = 0; i < t->n && e == LK_OK; i++)
		e = insert(db, t->ids[i], t->type, body, now, NULL);
	free(body);
	return e;
}

/* The endpoints above account_path that want type; LK_OK with none is the common case. */
static enum lk_err
find_targets(struct lk_db *db, const char *account_path, struct targets *t)
{
	const struct lk_param p[] = { LK_STR(account_path) };

	return lk_db_exec(db, SQL_ENDPOINTS, p, 1, target_row, t, NULL);
}

enum lk_err
lk_events_emit(struct lk_db *db, const char *account_path, const char *type, json_t *data,
    int64_t now)
{
	struct targets	 t = { type, NULL, 0, 0 };
	enum lk_err	 e;

	if ((e = find_targets(db, account_path, &t)) == LK_OK && t.n > 0)
		e = fan_out(db, &t, json_incref(data), now);
	json_decref(data);
	free(t.ids);
	return e;
}

enum lk_err
lk_events_emit_to(struct lk_db *db, uint64_t endpoint_id, const char *type, json_t *data,
    int64_t now, char *msg_id)
{
	enum lk_err	 e;
	char		*body;

	if (data == NULL || (body = payload(type, data, now)) == NULL)
		return LK_ERR_INTERNAL;
	e = insert(db, endpoint_id, type, body, now, msg_id);
	free(body);
	return e;
}

/* The object an event of ev carries: read back in the transaction, or what the audit row says. */
static json_t *
data_of(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	const char		*target = ev->target_id;
	struct lk_key		 k;
	struct lk_account	 a;

	if (strcmp(ev->action, "key.delete") == 0 || strcmp(ev->action, "account.delete") == 0) {
		json_t *d = json_pack("{s:s,s:s}", "id", target, "account_id", ev->account_id);

		if (d != NULL && ev->changes != NULL)
			json_object_update_missing(d, ev->changes);
		if (d != NULL && strcmp(ev->action, "account.delete") == 0)
			json_object_del(d, "account_id");
		return d;
	}
	if (strncmp(ev->action, "key.", 4) == 0) {
		/* A rotation's event carries the new key (its rotated_from names the old one). */
		if (strcmp(ev->action, "key.rotate") == 0)
			target = json_string_value(json_object_get(ev->changes, "new_key_id"));
		if (target == NULL || lk_keys_get(db, target, &k) != LK_OK)
			return NULL;
		return lk_key_json(&k, now);
	}
	if (lk_accounts_get(db, target, &a) != LK_OK)
		return NULL;
	return lk_account_json(&a);
}

enum lk_err
lk_events_audited(struct lk_db *db, const struct lk_audit_event *ev, int64_t now)
{
	struct targets	 t = { lk_events_type_of(ev->action), NULL, 0, 0 };
	enum lk_err	 e;

	if (t.type == NULL)
		return LK_OK;
	if ((e = find_targets(db, ev->account_path, &t)) == LK_OK && t.n > 0) {
		e = fan_out(db, &t, data_of(db, ev, now), now);
		if (e != LK_OK)
			lk_log_err("event %s of %s could not be written", t.type, ev->target_id);
	}
	free(t.ids);
	return e;
}
