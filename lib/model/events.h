/*
 * events.h — the events of changes, written to the outbox (webhook_messages)
 * in the change's own transaction: one message per enabled endpoint of an
 * account at or above the change's account that asks for the event's type.
 * Payload: {"type", "timestamp", "data": the object as the API shows it}.
 */
#ifndef LK_EVENTS_H
#define LK_EVENTS_H

#include <jansson.h>

#include "base/db.h"
#include "model/audit.h"

/*
 * True if an endpoint asking for events (space-separated types and patterns
 * such as key.* or *) gets type. Here, not in model/webhooks, so that the
 * audit writer's outbox step does not pull the endpoints' module (and libcurl)
 * into every program.
 */
bool		 lk_webhook_wants(const char *events, const char *type);

/* The event type of an audited action ("key.create" → "key.created"); NULL if none. */
const char	*lk_events_type_of(const char *action);

/*
 * The event of the audited change ev, if its action has one (inside its
 * transaction: lk_audit_write calls it). data is the target read back
 * within the transaction (or, for deletions, what the audit row names).
 */
enum lk_err	 lk_events_audited(struct lk_db *db, const struct lk_audit_event *ev,
		    int64_t now);

/*
 * Emit type with data (stolen) for the account at account_path. Must run
 * inside lk_db_txn. With endpoint_id, to that endpoint alone (whatever it
 * asks for; webhook.test), and msg_id (LK_PUBLIC_ID_MAX) gets the message's id.
 */
enum lk_err	 lk_events_emit(struct lk_db *db, const char *account_path, const char *type,
		    json_t *data, int64_t now);
enum lk_err	 lk_events_emit_to(struct lk_db *db, uint64_t endpoint_id, const char *type,
		    json_t *data, int64_t now, char *msg_id);

#endif
