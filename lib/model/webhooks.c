/* webhooks.c — webhook endpoints and their messages: SQL, objects, the delivery pass. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/scopes.h"
#include "base/timefmt.h"
#include "model/events.h"
#include "model/webhooks.h"

#define EP_COLUMNS \
    "SELECT w.id, w.public_id, a.id, a.public_id, a.path, a.plan, w.url, w.description," \
    " w.events, w.enabled, w.disabled_reason, w.secret, w.old_secret, w.old_secret_until," \
    " w.failing_since, w.created_at, w.updated_at" \
    " FROM webhook_endpoints w JOIN accounts a ON a.id = w.account_id"

static const char SQL_GET[] = EP_COLUMNS " WHERE w.public_id = ?";
static const char SQL_LIST[] = EP_COLUMNS " WHERE a.path LIKE ?" LK_DB_PAGE_AFTER("w");
static const char SQL_INSERT[] =
    "INSERT INTO webhook_endpoints (public_id, account_id, url, description, events, secret,"
    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_UPDATE[] =
    "UPDATE webhook_endpoints SET url = IF(?, ?, url), description = IF(?, ?, description),"
    " events = IF(?, ?, events), enabled = IF(?, ?, enabled),"
    " disabled_reason = IF(?, IF(?, NULL, 'manual'), disabled_reason),"
    " failing_since = IF(? AND ?, NULL, failing_since), updated_at = ? WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM webhook_endpoints WHERE id = ?";
static const char SQL_ROTATE[] =
    "UPDATE webhook_endpoints SET old_secret = secret, old_secret_until = ?, secret = ?,"
    " updated_at = ? WHERE id = ?";
static const char SQL_MESSAGES[] =
    "SELECT m.id, m.public_id, m.type, m.created_at, m.status, m.attempts, m.next_attempt_at,"
    " m.last_attempt_at, m.response_code, m.latency_ms, m.last_error, m.delivered_at"
    " FROM webhook_messages m WHERE m.endpoint_id = ?" LK_DB_PAGE_AFTER("m");
static const char SQL_MESSAGE_LOCK[] =
    "SELECT id FROM webhook_messages WHERE public_id = ? AND endpoint_id = ? FOR UPDATE";
static const char SQL_RESEND[] =
    "UPDATE webhook_messages SET status = 'pending', attempts = 0, next_attempt_at = ?,"
    " lease = NULL WHERE public_id = ? AND endpoint_id = ?";
/*
 * The claim: due messages of enabled endpoints get this pass's token and are
 * not due again until the lease has passed. One statement: two workers never
 * take the same row (the second waits on the row lock, then sees it not due).
 */
static const char SQL_CLAIM[] =
    "UPDATE webhook_messages SET lease = ?, next_attempt_at = ?"
    " WHERE status = 'pending' AND next_attempt_at <= ?"
    " AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1)"
    " ORDER BY next_attempt_at, id LIMIT ?";
static const char SQL_CLAIMED[] =
    "SELECT m.id, m.public_id, m.payload, m.attempts, w.id, w.public_id, a.public_id, a.path,"
    " w.url, w.secret, w.old_secret, w.old_secret_until, w.failing_since"
    " FROM webhook_messages m JOIN webhook_endpoints w ON w.id = m.endpoint_id"
    " JOIN accounts a ON a.id = w.account_id WHERE m.lease = ? ORDER BY m.id";
static const char SQL_DELIVERED[] =
    "UPDATE webhook_messages SET status = 'delivered', attempts = attempts + 1, lease = NULL,"
    " last_attempt_at = ?, response_code = ?, latency_ms = ?, last_error = NULL,"
    " delivered_at = ? WHERE id = ? AND lease = ?";
static const char SQL_RETRY[] =
    "UPDATE webhook_messages SET status = ?, attempts = attempts + 1, lease = NULL,"
    " next_attempt_at = ?, last_attempt_at = ?, response_code = ?, latency_ms = ?,"
    " last_error = ? WHERE id = ? AND lease = ?";
static const char SQL_EP_OK[] =
    "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL";
static const char SQL_EP_FAILING[] =
    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?";
static const char SQL_EP_DISABLE[] =
    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = 'failing', updated_at = ?"
    " WHERE id = ? AND enabled = 1 AND failing_since IS NOT NULL AND failing_since <= ?";

const char *const lk_webhook_event_types[] = {
	"key.created", "key.updated", "key.revoked", "key.reactivated", "key.rotated",
	"key.deleted", "key.expiring", "key.expired", "key.leaked", "account.created",
	"account.updated", "account.deleted", "webhook.test", NULL
};

static const struct lk_col cols[] = {
	LK_COLS_OWNED(lk_webhook),
	LK_COL_TEXT(lk_webhook, url), LK_COL_TEXT(lk_webhook, description),
	LK_COL_TEXT(lk_webhook, events), LK_COL_INT(lk_webhook, enabled),
	LK_COL_TEXT(lk_webhook, disabled_reason), LK_COL_TEXT(lk_webhook, secret),
	LK_COL_TEXT(lk_webhook, old_secret), LK_COL_INT(lk_webhook, old_secret_until),
	LK_COL_INT(lk_webhook, failing_since), LK_COL_INT(lk_webhook, created_at),
	LK_COL_INT(lk_webhook, updated_at),
};

static const struct lk_col message_cols[] = {
	LK_COL_ID(lk_webhook_message, id), LK_COL_TEXT(lk_webhook_message, public_id),
	LK_COL_TEXT(lk_webhook_message, type), LK_COL_INT(lk_webhook_message, created_at),
	LK_COL_TEXT(lk_webhook_message, status), LK_COL_INT(lk_webhook_message, attempts),
	LK_COL_INT(lk_webhook_message, next_attempt_at),
	LK_COL_INT(lk_webhook_message, last_attempt_at),
	LK_COL_INT(lk_webhook_message, response_code),
	LK_COL_INT(lk_webhook_message, latency_ms), LK_COL_TEXT(lk_webhook_message, last_error),
	LK_COL_INT(lk_webhook_message, delivered_at),
};

/* One word of an events list: a type, "*", or "family.*" of a known family. */
static bool
event_ok(const char *w, size_t n)
{
	const char *const	*t;

	if (n == 1 && w[0] == '*')
		return true;
	for (t = lk_webhook_event_types; *t != NULL; t++)
		if ((strlen(*t) == n && strncmp(*t, w, n) == 0) ||
		    (n >= 2 && w[n - 1] == '*' && w[n - 2] == '.' && strncmp(*t, w, n - 1) == 0))
			return true;
	return false;
}

bool
lk_webhook_events_ok(const char *events, char *why, size_t whysz)
{
	const char	*p = events, *w;
	size_t		 n;
	bool		 any = false;

	while ((w = lk_scopes_next(&p, &n)) != NULL) {
		if (!event_ok(w, n)) {
			snprintf(why, whysz, "'%.*s' is not an event type (see docs/api.md, Events)",
			    (int)(n > 60 ? 60 : n), w);
			return false;
		}
		any = true;
	}
	if (!any)
		snprintf(why, whysz, "Give at least one event type, or \"*\"");
	return any;
}

static json_t *
time_json(int64_t t)
{
	char s[LK_TIME_MAX];

	if (t == 0)
		return json_null();
	lk_time_format(t, s);
	return json_string(s);
}

json_t *
lk_webhook_json(const struct lk_webhook *w)
{
	return json_pack("{s:s,s:s,s:s,s:s?,s:o,s:b,s:s?,s:o,s:o,s:o,s:o}",
	    "id", w->public_id, "account_id", w->owner.public_id, "url", w->url,
	    "description", w->description[0] ? w->description : NULL,
	    "events", lk_scopes_json(w->events), "enabled", (int)w->enabled,
	    "disabled_reason", w->disabled_reason[0] ? w->disabled_reason : NULL,
	    "failing_since", time_json(w->failing_since),
	    "old_secret_expires_at", time_json(w->old_secret[0] ? w->old_secret_until : 0),
	    "created_at", time_json(w->created_at), "updated_at", time_json(w->updated_at));
}

json_t *
lk_webhook_message_json(const struct lk_webhook_message *m)
{
	return json_pack("{s:s,s:s,s:o,s:s,s:I,s:o,s:o,s:o,s:o,s:s?,s:o}",
	    "id", m->public_id, "type", m->type, "created_at", time_json(m->created_at),
	    "status", m->status, "attempts", (json_int_t)m->attempts,
	    "next_attempt_at", time_json(strcmp(m->status, "pending") == 0 ?
	    m->next_attempt_at : 0),
	    "last_attempt_at", time_json(m->last_attempt_at),
	    "response_code", m->response_code ? json_integer(m->response_code) : json_null(),
	    "latency_ms", m->last_attempt_at ? json_integer(m->latency_ms) : json_null(),
	    "last_error", m->last_error[0] ? m->last_error : NULL,
	    "delivered_at", time_json(m->delivered_at));
}

enum lk_err
lk_webhooks_get(struct lk_db *db, const char *public_id, struct lk_webhook *out)
{
	return lk_db_get(db, SQL_GET, public_id, LK_DB_MAP(cols, out));
}

/* The audit row of a change to w. */
static enum lk_err
audit(struct lk_db *db, const struct lk_actor *actor, const struct lk_webhook *w,
    const char *action, json_t *changes, int64_t now)
{
	return lk_owner_audit(db, actor, &w->owner, w->public_id, action, changes, now);
}

struct create_ctx {
	const struct lk_actor	*actor;
	const struct lk_account	*account;
	const char		*url, *description, *events;
	int64_t			 now;
	struct lk_webhook	*out;
};

static enum lk_err
create_work(struct lk_db *db, void *arg)
{
	struct create_ctx	*c = arg;
	struct lk_webhook	*w = c->out;
	enum lk_err		 e;

	memset(w, 0, sizeof(*w));
	if (!lk_crypto_public_id("wh_", w->public_id, sizeof(w->public_id)) ||
	    !lk_webhook_secret_new(w->secret))
		return LK_ERR_INTERNAL;
	{
		const struct lk_param p[] = { LK_STR(w->public_id), LK_INT(c->account->id),
		    LK_STR(c->url), LK_STR0(c->description), LK_STR(c->events),
		    LK_STR(w->secret), LK_INT(c->now), LK_INT(c->now) };
		if ((e = lk_db_exec(db, SQL_INSERT, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	w->id = lk_db_insert_id(db);
	w->owner = lk_account_owner(c->account);
	snprintf(w->url, sizeof(w->url), "%s", c->url);
	snprintf(w->description, sizeof(w->description), "%s",
	    c->description != NULL ? c->description : "");
	snprintf(w->events, sizeof(w->events), "%s", c->events);
	w->enabled = 1;
	w->created_at = w->updated_at = c->now;
	return audit(db, c->actor, w, "webhook.create", json_pack("{s:s,s:o,s:s?}", "url",
	    c->url, "events", lk_scopes_json(c->events), "description", c->description), c->now);
}

enum lk_err
lk_webhooks_create(struct lk_db *db, const struct lk_actor *actor,
    const struct lk_account *account, const char *url, const char *description,
    const char *events, int64_t now, struct lk_webhook *out)
{
	struct create_ctx c = { actor, account, url, description, events, now, out };

	return lk_db_txn(db, create_work, &c);
}

struct change_ctx {
	const struct lk_actor		*actor;
	struct lk_webhook		*w;
	const struct lk_webhook_patch	*patch;
	int64_t				 overlap, now;
};

static enum lk_err
update_work(struct lk_db *db, void *arg)
{
	struct change_ctx		*c = arg;
	const struct lk_webhook_patch	*pt = c->patch;
	const struct lk_param		 p[] = {
		LK_INT(pt->has_url), pt->has_url ? LK_STR(pt->url) : LK_NULL,
		LK_INT(pt->has_description), LK_STR0(pt->description),
		LK_INT(pt->has_events), pt->has_events ? LK_STR(pt->events) : LK_NULL,
		LK_INT(pt->has_enabled), LK_INT(pt->enabled),
		LK_INT(pt->has_enabled), LK_INT(pt->enabled),
		LK_INT(pt->has_enabled), LK_INT(pt->enabled),
		LK_INT(c->now), LK_INT(c->w->id),
	};
	uint64_t			 n = 0;
	json_t				*changes = json_object();
	enum lk_err			 e;

	if ((e = lk_db_exec(db, SQL_UPDATE, p, LK_NELEM(p), NULL, NULL, &n)) != LK_OK) {
		json_decref(changes);
		return e;
	}
	if (pt->has_url)
		json_object_set_new(changes, "url", json_string(pt->url));
	if (pt->has_description)
		json_object_set_new(changes, "description",
		    pt->description ? json_string(pt->description) : json_null());
	if (pt->has_events)
		json_object_set_new(changes, "events", lk_scopes_json(pt->events));
	if (pt->has_enabled)
		json_object_set_new(changes, "enabled", json_boolean(pt->enabled));
	return audit(db, c->actor, c->w, "webhook.update", changes, c->now);
}

enum lk_err
lk_webhooks_update(struct lk_db *db, const struct lk_actor *actor, struct lk_webhook *w,
    const struct lk_webhook_patch *patch, int64_t now)
{
	struct change_ctx	c = { actor, w, patch, 0, now };
	enum lk_err		e;

	if ((e = lk_db_txn(db, update_work, &c)) != LK_OK)
		return e;
	return lk_webhooks_get(db, w->public_id, w);
}

static enum lk_err
delete_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->w->id) };
	uint64_t		 n = 0;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_DELETE, p, 1, NULL, NULL, &n)) != LK_OK)
		return e;
	if (n == 0)
		return LK_ERR_NOT_FOUND;
	return audit(db, c->actor, c->w, "webhook.delete", json_pack("{s:s}", "url", c->w->url),
	    c->now);
}

enum lk_err
lk_webhooks_delete(struct lk_db *db, const struct lk_actor *actor, const struct lk_webhook *w,
    int64_t now)
{
	struct change_ctx c = { actor, (struct lk_webhook *)w, NULL, 0, now };

	return lk_db_txn(db, delete_work, &c);
}

static enum lk_err
rotate_work(struct lk_db *db, void *arg)
{
	struct change_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->now + c->overlap), LK_STR(c->w->secret),
	    LK_INT(c->now), LK_INT(c->w->id) };
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_ROTATE, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
		return e;
	return audit(db, c->actor, c->w, "webhook.rotate",
	    json_pack("{s:I}", "overlap", (json_int_t)c->overlap), c->now);
}

enum lk_err
lk_webhooks_rotate(struct lk_db *db, const struct lk_actor *actor, struct lk_webhook *w,
    int64_t overlap, int64_t now)
{
	struct change_ctx	c = { actor, w, NULL, overlap, now };
	char			secret[LK_WEBHOOK_SECRET_MAX];
	enum lk_err		e;

	if (!lk_webhook_secret_new(secret))
		return LK_ERR_INTERNAL;
	memcpy(w->secret, secret, sizeof(secret));
	if ((e = lk_db_txn(db, rotate_work, &c)) != LK_OK)
		return e;
	if ((e = lk_webhooks_get(db, w->public_id, w)) == LK_OK)
		memcpy(w->secret, secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	return e;
}

struct test_ctx {
	const struct lk_webhook	*w;
	int64_t			 now;
	char			*msg_id;
};

static enum lk_err
test_work(struct lk_db *db, void *arg)
{
	struct test_ctx *c = arg;

	return lk_events_emit_to(db, c->w->id, "webhook.test",
	    json_pack("{s:s,s:s}", "webhook_id", c->w->public_id, "account_id",
	    c->w->owner.public_id), c->now, c->msg_id);
}

enum lk_err
lk_webhooks_send_test(struct lk_db *db, struct lk_webhook *w, int64_t now, char *msg_id)
{
	struct test_ctx c = { w, now, msg_id };

	return lk_db_txn(db, test_work, &c);
}

struct resend_ctx {
	const struct lk_actor	*actor;
	const struct lk_webhook	*w;
	const char		*msg_id;
	int64_t			 now;
};

static enum lk_err
resend_work(struct lk_db *db, void *arg)
{
	struct resend_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->now), LK_STR(c->msg_id), LK_INT(c->w->id) };
	int64_t			 id = 0;
	enum lk_err		 e;

	/* Found, not changed, counts: a message already due is resent as it is. */
	if ((e = lk_db_exec(db, SQL_MESSAGE_LOCK, p + 1, 2, lk_db_row_int, &id, NULL)) != LK_OK)
		return e;
	if (id == 0)
		return LK_ERR_NOT_FOUND;
	if ((e = lk_db_exec(db, SQL_RESEND, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
		return e;
	return audit(db, c->actor, c->w, "webhook.resend",
	    json_pack("{s:s}", "message_id", c->msg_id), c->now);
}

enum lk_err
lk_webhooks_resend(struct lk_db *db, const struct lk_actor *actor, const struct lk_webhook *w,
    const char *msg_id, int64_t now)
{
	struct resend_ctx c = { actor, w, msg_id, now };

	return lk_db_txn(db, resend_work, &c);
}

static json_t *
webhook_item(const void *w, const void *arg __attribute__((unused)))
{
	return lk_webhook_json(w);
}

enum lk_err
lk_webhooks_list(struct lk_db *db, const struct lk_account *root, struct lk_page *page)
{
	struct lk_webhook	w;
	char			like[LK_ACCOUNT_PATH_MAX + 2];

	snprintf(like, sizeof(like), "%s%%", root->path);
	const struct lk_param p[] = { LK_STR(like) };

	return lk_db_page(db, SQL_LIST, p, 1, page, LK_DB_ITEMS(cols, &w, webhook_item, NULL));
}

static json_t *
message_item(const void *m, const void *arg __attribute__((unused)))
{
	return lk_webhook_message_json(m);
}

enum lk_err
lk_webhooks_messages(struct lk_db *db, const struct lk_webhook *w, struct lk_page *page)
{
	struct lk_webhook_message	m;
	const struct lk_param		p[] = { LK_INT(w->id) };

	return lk_db_page(db, SQL_MESSAGES, p, 1, page,
	    LK_DB_ITEMS(message_cols, &m, message_item, NULL));
}

/* ------------------------------------------------------------------ delivery */

/* A claimed message and what its attempt needs of its endpoint. */
struct claimed {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	char		*payload;
	int64_t		 attempts;
	struct lk_webhook ep;		/* id, public_id, owner, url, secrets, failing_since */
};

struct claim_ctx {
	char		 lease[33];
	int64_t		 now;
	int		 max;
	struct claimed	*m;
	int		 n;
};

static enum lk_err
claimed_row(const struct lk_row *r, void *arg)
{
	struct claim_ctx	*c = arg;
	struct claimed		*m;

	if (c->n == c->max)
		return LK_OK;
	m = &c->m[c->n];
	memset(m, 0, sizeof(*m));
	m->id = strtoull(r->v[0], NULL, 10);
	snprintf(m->public_id, sizeof(m->public_id), "%s", r->v[1]);
	if ((m->payload = strdup(r->v[2])) == NULL)
		return LK_ERR_INTERNAL;
	m->attempts = strtoll(r->v[3], NULL, 10);
	m->ep.id = strtoull(r->v[4], NULL, 10);
	snprintf(m->ep.public_id, sizeof(m->ep.public_id), "%s", r->v[5]);
	snprintf(m->ep.owner.public_id, sizeof(m->ep.owner.public_id), "%s", r->v[6]);
	snprintf(m->ep.owner.path, sizeof(m->ep.owner.path), "%s", r->v[7]);
	snprintf(m->ep.url, sizeof(m->ep.url), "%s", r->v[8]);
	snprintf(m->ep.secret, sizeof(m->ep.secret), "%s", r->v[9]);
	snprintf(m->ep.old_secret, sizeof(m->ep.old_secret), "%s", r->null[10] ? "" : r->v[10]);
	m->ep.old_secret_until = r->null[11] ? 0 : strtoll(r->v[11], NULL, 10);
	m->ep.failing_since = r->null[12] ? 0 : strtoll(r->v[12], NULL, 10);
	c->n++;
	return LK_OK;
}

static enum lk_err
claim_work(struct lk_db *db, void *arg)
{
	struct claim_ctx	*c = arg;
	const struct lk_conf	*conf = lk_db_conf(db);
	const struct lk_param	 p[] = { LK_STR(c->lease), LK_INT(c->now + conf->webhook_lease),
	    LK_INT(c->now), LK_INT(c->max) };
	const struct lk_param	 q[] = { LK_STR(c->lease) };
	uint64_t		 n = 0;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_CLAIM, p, LK_NELEM(p), NULL, NULL, &n)) != LK_OK || n == 0)
		return e;
	return lk_db_exec(db, SQL_CLAIMED, q, 1, claimed_row, c, NULL);
}

/* What one attempt gave. */
struct attempt {
	const struct claimed		*m;
	const char			*lease;
	int64_t				 now;
	bool				 ok;
	struct lk_outbound_result	 r;
};

/* The seconds to wait after the n-th failed attempt (1-based); 0 if that was the last. */
static int64_t
backoff(const struct lk_conf *conf, int64_t n)
{
	int64_t	 steps[LK_CONF_LIST_MAX];
	size_t	 nsteps = 0;

	if (!lk_conf_durations(conf->webhook_retry_schedule, 1, steps, LK_CONF_LIST_MAX,
	    &nsteps) || n < 1 || (size_t)n > nsteps)
		return 0;
	return steps[n - 1];
}

static const struct lk_actor deliver_actor = { "latchkey-deliver", "", "" };

static enum lk_err
record_work(struct lk_db *db, void *arg)
{
	struct attempt		*a = arg;
	const struct lk_conf	*conf = lk_db_conf(db);
	const struct claimed	*m = a->m;
	const struct lk_param	 ep[] = { LK_INT(m->ep.id) };
	int64_t			 wait;
	uint64_t		 n = 0;
	enum lk_err		 e;

	if (a->ok) {
		const struct lk_param p[] = { LK_INT(a->now), LK_INT(a->r.code),
		    LK_INT(a->r.latency_ms), LK_INT(a->now), LK_INT(m->id), LK_STR(a->lease) };

		if ((e = lk_db_exec(db, SQL_DELIVERED, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK)
			return e;
		return lk_db_exec(db, SQL_EP_OK, ep, 1, NULL, NULL, NULL);
	}
	wait = backoff(conf, m->attempts + 1);
	{
		const struct lk_param p[] = { LK_STR(wait > 0 ? "pending" : "failed"),
		    LK_INT(a->now + wait), LK_INT(a->now), LK_INT0(a->r.code),
		    LK_INT(a->r.latency_ms), LK_STR(a->r.error), LK_INT(m->id), LK_STR(a->lease) };
		const struct lk_param f[] = { LK_INT(a->now), LK_INT(m->ep.id) };
		const struct lk_param d[] = { LK_INT(a->now), LK_INT(m->ep.id),
		    LK_INT(a->now - (int64_t)conf->webhook_disable_after) };

		if ((e = lk_db_exec(db, SQL_RETRY, p, LK_NELEM(p), NULL, NULL, NULL)) != LK_OK ||
		    (e = lk_db_exec(db, SQL_EP_FAILING, f, LK_NELEM(f), NULL, NULL, NULL)) != LK_OK ||
		    (e = lk_db_exec(db, SQL_EP_DISABLE, d, LK_NELEM(d), NULL, NULL, &n)) != LK_OK)
			return e;
	}
	if (n == 0)
		return LK_OK;
	lk_log_info("webhook %s disabled: every delivery failed for %u s", m->ep.public_id,
	    conf->webhook_disable_after);
	return audit(db, &deliver_actor, &m->ep, "webhook.disable",
	    json_pack("{s:s,s:s}", "reason", "failing", "last_error", a->r.error), a->now);
}

/* One attempt of m: the SSRF rule, the signed POST; the outcome into a. */
static void
attempt(const struct lk_conf *conf, const struct claimed *m, struct attempt *a)
{
	struct lk_outbound_target	 t;
	char				 sig[LK_WEBHOOK_SIG_MAX], old[LK_WEBHOOK_SIG_MAX];
	char				 h_id[80], h_ts[48], h_sig[2 * LK_WEBHOOK_SIG_MAX + 32];
	const char			*headers[] = { h_id, h_ts, h_sig, NULL };

	a->now = time(NULL);
	if (lk_outbound_resolve(m->ep.url, conf->webhook_allow_private, &t, a->r.error,
	    sizeof(a->r.error)) != LK_OK)
		return;
	if (!lk_webhook_sign(m->ep.secret, m->public_id, a->now, m->payload, sig)) {
		snprintf(a->r.error, sizeof(a->r.error), "the endpoint's secret is malformed");
		return;
	}
	/* During a rotation's overlap both secrets sign: receivers of either verify. */
	if (m->ep.old_secret[0] != '\0' && m->ep.old_secret_until > a->now &&
	    lk_webhook_sign(m->ep.old_secret, m->public_id, a->now, m->payload, old))
		snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s %s", sig, old);
	else
		snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
	snprintf(h_id, sizeof(h_id), "webhook-id: %s", m->public_id);
	snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %lld", (long long)a->now);
	if (lk_outbound_post(m->ep.url, &t, conf->webhook_allow_private, headers, m->payload,
	    conf->webhook_connect_timeout, conf->webhook_timeout, &a->r)) {
		a->ok = a->r.code >= 200 && a->r.code < 300;
		if (!a->ok)
			snprintf(a->r.error, sizeof(a->r.error), "HTTP %ld", a->r.code);
	}
	a->now = time(NULL);
}

enum lk_err
lk_webhooks_deliver(struct lk_db *db, int max, int *done)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	struct claim_ctx	 c = { .now = time(NULL), .max = max };
	unsigned char		 token[16];
	enum lk_err		 e;
	int			 i;

	*done = 0;
	if (!lk_crypto_random(token, sizeof(token)))
		return LK_ERR_INTERNAL;
	OPENSSL_buf2hexstr_ex(c.lease, sizeof(c.lease), NULL, token, sizeof(token), '\0');
	if ((c.m = calloc(max, sizeof(*c.m))) == NULL)
		return LK_ERR_INTERNAL;
	e = lk_db_read(db, claim_work, &c);
	for (i = 0; i < c.n && e == LK_OK; i++) {
		struct attempt a = { .m = &c.m[i], .lease = c.lease };

		attempt(conf, &c.m[i], &a);
		if (!a.ok)
			lk_log_info("webhook message %s to %s: attempt %lld failed: %s",
			    c.m[i].public_id, c.m[i].ep.public_id,
			    (long long)c.m[i].attempts + 1, a.r.error);
		e = lk_db_txn(db, record_work, &a);
		(*done)++;
	}
	for (i = 0; i < c.n; i++)
		free(c.m[i].payload);
	free(c.m);
	return e;
}
