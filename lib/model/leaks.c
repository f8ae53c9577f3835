/* leaks.c — leaked-key reports: the place recorded once, the key revoked, audited and mailed. */
#include <stdio.h>
#include <string.h>

#include "base/conf.h"
#include "base/crypto.h"
#include "base/keyfmt.h"
#include "model/leaks.h"
#include "model/notices.h"

static const char SQL_PLACES[] =
    "SELECT COUNT(*) FROM key_leaks WHERE key_id = ?";
/* The unique (key_id, url_hash) row lock makes a concurrent repeat wait here, then find it. */
static const char SQL_RECORD[] =
    "INSERT IGNORE INTO key_leaks (key_id, url_hash, url, source, reported_at)"
    " VALUES (?, ?, ?, ?, ?)";

enum lk_err
lk_leaks_find(struct lk_db *db, const char *prefix, const char *token, size_t len,
    struct lk_key *k)
{
	struct lk_keyparts	kp;
	struct lk_account	a;
	bool			found = false;
	enum lk_err		e;

	if (lk_keyfmt_presented(token, len, prefix, &kp) != LK_OK)
		return LK_ERR_NOT_FOUND;
	e = lk_keys_with_account(db, kp.digest, k, &a, &found);
	lk_crypto_wipe(&kp, sizeof(kp));
	if (e == LK_OK && !found)
		e = LK_ERR_NOT_FOUND;
	return e;
}

struct report {
	const struct lk_actor	*actor;
	struct lk_key		*k;
	const char		*url, *source;
	int64_t			 now;
	struct lk_leak_result	*r;
	bool			 repeat;
};

/*
 * The key's row is locked first (by the revoke), so concurrent reports of one
 * key queue on it instead of deadlocking on key_leaks; a repeat rolls back.
 */
static enum lk_err
report_work(struct lk_db *db, void *arg)
{
	struct report		*c = arg;
	unsigned char		 h[LK_SHA256_LEN];
	int64_t			 places = 0;
	uint64_t		 added = 0;
	json_t			*changes;
	enum lk_err		 e;

	memset(c->r, 0, sizeof(*c->r));
	c->repeat = false;
	if ((changes = json_pack("{s:s,s:s}", "url", c->url, "source", c->source)) == NULL)
		return LK_ERR_INTERNAL;
	lk_crypto_sha256(c->url, strlen(c->url), h);
	if ((e = lk_keys_revoke_locked(db, c->k, "leaked", c->now, changes, &c->r->revoked)) !=
	    LK_OK)
		goto out;
	{
		const struct lk_param p[] = { LK_INT(c->k->id) };

		if ((e = lk_db_exec(db, SQL_PLACES, p, 1, lk_db_row_int, &places, NULL)) != LK_OK)
			goto out;
	}
	if (places < LK_LEAK_PLACES_MAX) {
		const struct lk_param p[] = { LK_INT(c->k->id), LK_BLOB(h, sizeof(h)),
		    LK_STR(c->url), LK_STR(c->source), LK_INT(c->now) };

		if ((e = lk_db_exec(db, SQL_RECORD, p, LK_NELEM(p), NULL, NULL, &added)) != LK_OK)
			goto out;
		if (added == 0) {	/* this key, this place: reported before; undo the revoke */
			c->repeat = true;
			e = LK_ERR_CONFLICT;
			goto out;
		}
	}
	if (added > 0 || c->r->revoked) {
		c->r->recorded = true;
		e = lk_owner_audit(db, c->actor, &c->k->owner, c->k->public_id, "key.leaked",
		    changes, c->now);
		changes = NULL;		/* lk_owner_audit took it */
	}
out:
	json_decref(changes);
	return e;
}

/* The mail of a recorded report: what happened, which key, where, what to do. */
static void
mail_report(struct lk_db *db, const struct lk_key *k, const char *url, const char *source,
    bool revoked)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	char			 subject[160], body[6144], label[sizeof(k->label)];
	char			 where[LK_LEAK_URL_MAX * 4 + 1], who[LK_LEAK_SOURCE_MAX * 4 + 1];
	char			 start[sizeof(k->start)];
	size_t			 len;

	if (conf->mail_command[0] == '\0')
		return;
	lk_notices_flatten(k->label, label, sizeof(label));
	lk_notices_flatten(url[0] != '\0' ? url : "(no address given)", where, sizeof(where));
	lk_notices_flatten(source, who, sizeof(who));
	lk_notices_flatten(k->start, start, sizeof(start));
	snprintf(subject, sizeof(subject), "latchkey: API key %s was reported leaked", start);
	snprintf(body, sizeof(body),
	    "The API key \"%s\" (%s..., id %s) of account %s was reported as leaked by %s.\n"
	    "It was found at: %s\n\n%s\n"
	    "What to do: create a new key for the systems that used this one and put it in\n"
	    "place; remove the key from where it was found (and from that place's history);\n"
	    "check the key's usage and the audit log for requests you do not recognise.\n",
	    label, start, k->public_id, k->owner.public_id, who, where,
	    revoked ? "It has been revoked: requests made with it are now refused "
	    "(REVOKED_API_KEY)." : "It was already revoked; it stays revoked.");
	if (conf->console_url[0] != '\0') {
		len = strlen(body);
		snprintf(body + len, sizeof(body) - len, "\nThe key in the console: %s/admin/keys/%s\n",
		    conf->console_url, k->public_id);
	}
	lk_notices_mail(db, k->owner.id, subject, body);
}

enum lk_err
lk_leaks_report(struct lk_db *db, const struct lk_actor *actor, struct lk_key *k,
    const char *url, const char *source, int64_t now, struct lk_leak_result *r)
{
	struct report	c = { actor, k, url, source, now, r, false };
	enum lk_err	e;

	e = lk_db_txn(db, report_work, &c);
	if (c.repeat) {
		memset(r, 0, sizeof(*r));
		return lk_keys_get(db, k->public_id, k);	/* as it is, not as the undone revoke left it */
	}
	if (e == LK_OK && r->recorded)
		mail_report(db, k, url, source, r->revoked);
	return e;
}
