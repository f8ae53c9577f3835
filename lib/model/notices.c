/* notices.c — expiry notices: which keys are due one, recorded once, their events and mails. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/conf.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "model/events.h"
#include "model/keys.h"
#include "model/notices.h"
#include "model/users.h"

#define DAY		86400
#define BATCH		200	/* keys looked at per query */
#define RECIPIENTS_MAX	50

/* Active keys expiring within the window that have not had this notice. */
static const char SQL_EXPIRING[] =
    "SELECT k.public_id FROM api_keys k WHERE k.revoked_at IS NULL"
    " AND k.expires_at > ? AND k.expires_at <= ?"
    " AND NOT EXISTS (SELECT 1 FROM key_notices n WHERE n.key_id = k.id AND n.kind = ?)"
    " ORDER BY k.expires_at LIMIT " "200";
static const char SQL_RECORD[] =
    "INSERT IGNORE INTO key_notices (key_id, kind, sent_at) VALUES (?, ?, ?)";
static const char SQL_RECIPIENTS[] =
    "SELECT email FROM users WHERE account_id = ? AND disabled_at IS NULL"
    " AND role IN ('owner', 'developer') ORDER BY id LIMIT 50";

struct ids {
	char	 id[BATCH][LK_PUBLIC_ID_MAX];
	int	 n;
};

static enum lk_err
id_row(const struct lk_row *r, void *arg)
{
	struct ids *ids = arg;

	if (ids->n < BATCH)
		snprintf(ids->id[ids->n++], LK_PUBLIC_ID_MAX, "%s", r->v[0]);
	return LK_OK;
}

/* One notice of one key. */
struct notice {
	const char	*key_id;
	const char	*type;		/* key.expiring, key.expired */
	char		 kind[24];	/* expiring:N, expired */
	int64_t		 larger[LK_CONF_LIST_MAX];	/* thresholds also settled by this one */
	size_t		 nlarger;
	int64_t		 now;
	bool		 sent;
	struct lk_key	 k;
};

static enum lk_err
notice_work(struct lk_db *db, void *arg)
{
	struct notice	*n = arg;
	uint64_t	 affected = 0;
	char		 kind[24];
	size_t		 i;
	enum lk_err	 e;

	n->sent = false;
	if ((e = lk_keys_get(db, n->key_id, &n->k)) != LK_OK)
		return e == LK_ERR_NOT_FOUND ? LK_OK : e;	/* deleted meanwhile */
	{
		const struct lk_param p[] = { LK_INT(n->k.id), LK_STR(n->kind), LK_INT(n->now) };

		/* The row lock of a concurrent sweep's insert makes this wait, then find it. */
		if ((e = lk_db_exec(db, SQL_RECORD, p, 3, NULL, NULL, &affected)) != LK_OK ||
		    affected == 0)
			return e;
	}
	/* A key already inside a smaller threshold never needs the larger ones' notices. */
	for (i = 0; i < n->nlarger; i++) {
		snprintf(kind, sizeof(kind), "expiring:%" PRId64, n->larger[i] / DAY);
		const struct lk_param p[] = { LK_INT(n->k.id), LK_STR(kind), LK_INT(n->now) };

		if ((e = lk_db_exec(db, SQL_RECORD, p, 3, NULL, NULL, NULL)) != LK_OK)
			return e;
	}
	n->sent = true;
	return lk_events_emit(db, n->k.owner.path, n->type, lk_key_json(&n->k, n->now), n->now);
}

void
lk_notices_flatten(const char *s, char *out, size_t size)
{
	size_t i;

	snprintf(out, size, "%s", s);
	for (i = 0; out[i] != '\0'; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}

static void
mail_notice(struct lk_db *db, const struct notice *n)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	char			 subject[160], body[2048], label[sizeof(n->k.label)], at[LK_TIME_MAX];
	bool			 expired = strcmp(n->type, "key.expired") == 0;

	if (conf->mail_command[0] == '\0')
		return;
	lk_notices_flatten(n->k.label, label, sizeof(label));
	lk_time_format(n->k.expires_at, at);
	snprintf(subject, sizeof(subject), "latchkey: API key %s %s %s", n->k.start,
	    expired ? "expired at" : "expires at", at);
	snprintf(body, sizeof(body),
	    "The API key \"%s\" (%s..., id %s) of account %s %s %s.\n\n%s",
	    label, n->k.start, n->k.public_id, n->k.owner.public_id,
	    expired ? "expired at" : "expires at", at,
	    expired ? "Requests made with it are now refused (EXPIRED_API_KEY). Create a new key, "
	    "or give a key that should live on a later expires_at before it expires.\n" :
	    "Rotate it (a new key, the old one kept for a grace period) or set a later "
	    "expires_at, and update the systems that use it, before then.\n");
	if (conf->console_url[0] != '\0') {
		size_t len = strlen(body);

		snprintf(body + len, sizeof(body) - len, "\nThe key in the console: %s/admin/keys/%s\n",
		    conf->console_url, n->k.public_id);
	}
	lk_notices_mail(db, n->k.owner.id, subject, body);
}

/* Notices of type for the keys of SQL_EXPIRING between from and to, kind "expiring:N"/"expired". */
static enum lk_err
sweep_window(struct lk_db *db, const char *type, const char *kind, int64_t from, int64_t to,
    const int64_t *larger, size_t nlarger, int64_t now, uint64_t *sent)
{
	const struct lk_param	 p[] = { LK_INT(from), LK_INT(to), LK_STR(kind) };
	struct ids		*ids;
	struct notice		 n;
	enum lk_err		 e;
	int			 i;

	if ((ids = calloc(1, sizeof(*ids))) == NULL)
		return LK_ERR_INTERNAL;
	do {
		ids->n = 0;
		if ((e = lk_db_exec(db, SQL_EXPIRING, p, 3, id_row, ids, NULL)) != LK_OK)
			break;
		for (i = 0; i < ids->n && e == LK_OK; i++) {
			memset(&n, 0, sizeof(n));
			n.key_id = ids->id[i];
			n.type = type;
			snprintf(n.kind, sizeof(n.kind), "%s", kind);
			if (nlarger > 0)
				memcpy(n.larger, larger, nlarger * sizeof(*larger));
			n.nlarger = nlarger;
			n.now = now;
			if ((e = lk_db_txn(db, notice_work, &n)) == LK_OK && n.sent) {
				(*sent)++;
				mail_notice(db, &n);
			}
		}
	} while (e == LK_OK && ids->n == BATCH);
	free(ids);
	return e;
}

static int
by_size(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

enum lk_err
lk_notices_sweep(struct lk_db *db, int64_t now, uint64_t *sent)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	int64_t			 t[LK_CONF_LIST_MAX];
	char			 kind[24];
	uint64_t		 count = 0;
	size_t			 n = 0, i;
	enum lk_err		 e = LK_OK;

	if (!lk_conf_durations(conf->expiry_notice_days, DAY, t, LK_CONF_LIST_MAX, &n))
		n = 0;
	/* Smallest threshold first: a key inside it settles the larger ones too. */
	qsort(t, n, sizeof(*t), by_size);
	for (i = 0; i < n && e == LK_OK; i++) {
		snprintf(kind, sizeof(kind), "expiring:%" PRId64, t[i] / DAY);
		e = sweep_window(db, "key.expiring", kind, now, now + t[i], t + i + 1, n - i - 1,
		    now, &count);
	}
	if (e == LK_OK)
		e = sweep_window(db, "key.expired", "expired", now - LK_NOTICE_EXPIRED_WINDOW, now,
		    NULL, 0, now, &count);
	if (sent != NULL)
		*sent = count;
	return e;
}

struct recipients {
	char	 to[RECIPIENTS_MAX][LK_EMAIL_MAX * 4 + 1];
	int	 n;
};

static enum lk_err
recipient_row(const struct lk_row *r, void *arg)
{
	struct recipients *rc = arg;

	/* Emails were checked when the users were made: no blanks, no line breaks. */
	if (rc->n < RECIPIENTS_MAX && strcspn(r->v[0], "\r\n,") == strlen(r->v[0]))
		snprintf(rc->to[rc->n++], sizeof(rc->to[0]), "%s", r->v[0]);
	return LK_OK;
}

void
lk_notices_mail(struct lk_db *db, uint64_t account, const char *subject, const char *body)
{
	const struct lk_conf	*conf = lk_db_conf(db);
	const struct lk_param	 p[] = { LK_INT(account) };
	struct sigaction	 ign = { .sa_handler = SIG_IGN }, old;
	struct recipients	*rc;
	FILE			*f;
	int			 i, st;

	if (conf->mail_command[0] == '\0' || (rc = calloc(1, sizeof(*rc))) == NULL)
		return;
	if (lk_db_exec(db, SQL_RECIPIENTS, p, 1, recipient_row, rc, NULL) != LK_OK || rc->n == 0) {
		free(rc);
		return;
	}
	/* A command that exits without reading must not kill us (the CLI keeps SIGPIPE). */
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &old);
	/* mail_command reads the whole message with its headers (sendmail -t -i). */
	if ((f = popen(conf->mail_command, "w")) == NULL) {
		lk_log_err("mail_command could not be started");
		sigaction(SIGPIPE, &old, NULL);
		free(rc);
		return;
	}
	fprintf(f, "To: ");
	for (i = 0; i < rc->n; i++)
		fprintf(f, "%s%s", i ? ", " : "", rc->to[i]);
	fprintf(f, "\nSubject: %s\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n"
	    "Auto-Submitted: auto-generated\n\n%s", subject, body);
	if ((st = pclose(f)) != 0)
		lk_log_err("mail_command exited with status %d", st);
	sigaction(SIGPIPE, &old, NULL);
	free(rc);
}
