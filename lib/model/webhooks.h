/*
 * webhooks.h — webhook endpoints (an account's, receiving its subtree's
 * events), their messages (the outbox rows model/events writes), and the
 * delivery pass the worker (latchkey-deliver, latchkey deliver --once) runs.
 */
#ifndef LK_WEBHOOKS_H
#define LK_WEBHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/db.h"
#include "base/outbound.h"
#include "base/page.h"
#include "model/accounts.h"
#include "model/audit.h"
#include "model/events.h"

#define LK_WEBHOOK_DESC_MAX	200	/* characters */
#define LK_WEBHOOK_EVENTS_BUF	1001	/* webhook_endpoints.events */

struct lk_webhook {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	struct lk_owner	 owner;
	char		 url[LK_OUTBOUND_URL_MAX + 1];
	char		 description[LK_WEBHOOK_DESC_MAX * 4 + 1];
	char		 events[LK_WEBHOOK_EVENTS_BUF];	/* space-separated types or patterns */
	int64_t		 enabled;
	char		 disabled_reason[8];		/* "manual", "failing", "" */
	char		 secret[LK_WEBHOOK_SECRET_MAX];
	char		 old_secret[LK_WEBHOOK_SECRET_MAX];
	int64_t		 old_secret_until;
	int64_t		 failing_since;
	int64_t		 created_at;
	int64_t		 updated_at;
};

/* Changes of a PATCH; has_* says which were given. */
struct lk_webhook_patch {
	bool		 has_url, has_description, has_events, has_enabled;
	const char	*url, *description, *events;	/* description NULL clears */
	bool		 enabled;
};

/* One delivery (message) as the API and the console show it. */
struct lk_webhook_message {
	uint64_t	 id;
	char		 public_id[LK_PUBLIC_ID_MAX];
	char		 type[41];
	int64_t		 created_at;
	char		 status[10];
	int64_t		 attempts;
	int64_t		 next_attempt_at;
	int64_t		 last_attempt_at;
	int64_t		 response_code;		/* 0: none */
	int64_t		 latency_ms;
	char		 last_error[201];
	int64_t		 delivered_at;
};

/* The event types an endpoint can ask for (NULL-terminated). */
extern const char *const lk_webhook_event_types[];

/*
 * True if events (space-separated) are each a known type, "*", or a family
 * pattern ("key.*", "account.*"); why names the first bad one.
 */
bool		 lk_webhook_events_ok(const char *events, char *why, size_t whysz);


/* The API object (never a secret). */
json_t		*lk_webhook_json(const struct lk_webhook *w);
json_t		*lk_webhook_message_json(const struct lk_webhook_message *m);

enum lk_err	 lk_webhooks_get(struct lk_db *db, const char *public_id, struct lk_webhook *out);

/*
 * Create an endpoint of account with a new secret (in out->secret), audited
 * (webhook.create). url, events are checked by the caller.
 */
enum lk_err	 lk_webhooks_create(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_account *account, const char *url, const char *description,
		    const char *events, int64_t now, struct lk_webhook *out);

/* Apply patch to w (audited, webhook.update); w is re-read. Enabling clears the failure state. */
enum lk_err	 lk_webhooks_update(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_webhook *w, const struct lk_webhook_patch *patch, int64_t now);

/* Delete w and its messages (audited, webhook.delete). */
enum lk_err	 lk_webhooks_delete(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_webhook *w, int64_t now);

/*
 * New secret for w (into w->secret); the current one keeps signing beside it
 * for overlap seconds (audited, webhook.rotate).
 */
enum lk_err	 lk_webhooks_rotate(struct lk_db *db, const struct lk_actor *actor,
		    struct lk_webhook *w, int64_t overlap, int64_t now);

/* Queue a webhook.test message for w alone; its id into msg_id (LK_PUBLIC_ID_MAX). */
enum lk_err	 lk_webhooks_send_test(struct lk_db *db, struct lk_webhook *w, int64_t now,
		    char *msg_id);

/*
 * Put message msg_id of w back in the queue, due now, as if new (attempts
 * from 0; the same webhook-id, so a receiver can tell it from a new event);
 * audited, webhook.resend (message_id).
 */
enum lk_err	 lk_webhooks_resend(struct lk_db *db, const struct lk_actor *actor,
		    const struct lk_webhook *w, const char *msg_id, int64_t now);

/* Endpoints of root's subtree (root included), newest first. */
enum lk_err	 lk_webhooks_list(struct lk_db *db, const struct lk_account *root,
		    struct lk_page *page);

/* w's messages, newest first. */
enum lk_err	 lk_webhooks_messages(struct lk_db *db, const struct lk_webhook *w,
		    struct lk_page *page);

/*
 * One delivery pass: claim up to max due messages (each by one worker: a
 * lease of webhook_lease seconds), post each (SSRF rule on every attempt,
 * Standard Webhooks headers, signed with the secret and, within the
 * overlap, the old one), record the outcome: delivered on a 2xx, else due
 * again after the next webhook_retry_schedule step, failed after the last.
 * An endpoint failing every attempt for webhook_disable_after is disabled
 * (audited, webhook.disable). *done counts the messages attempted.
 */
enum lk_err	 lk_webhooks_deliver(struct lk_db *db, int max, int *done);

#endif
