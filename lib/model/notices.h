/*
 * notices.h — expiry notices: key.expiring once per key per threshold of
 * expiry_notice_days, key.expired once when a key passes its expiry; each an
 * event (model/events) and, with mail_command set, a plain-text mail to the
 * key's account's owners and developers.
 */
#ifndef LK_NOTICES_H
#define LK_NOTICES_H

#include <stdint.h>

#include "base/db.h"

/* Keys that expired longer ago than this get no key.expired (a first sweep after an upgrade). */
#define LK_NOTICE_EXPIRED_WINDOW	(7 * 86400)

/*
 * One sweep: every key due a notice gets it, each in a transaction of its
 * own that records it (key_notices) and writes its event, so a notice is
 * emitted exactly once however many processes and hosts sweep at once.
 * Mails go after the commit. *sent (may be NULL) counts the notices.
 */
enum lk_err	lk_notices_sweep(struct lk_db *db, int64_t now, uint64_t *sent);

/*
 * s (a label, a URL) into out with its control characters as spaces: text
 * from outside can never start a header or a line of a mail.
 */
void		lk_notices_flatten(const char *s, char *out, size_t size);

/*
 * Mail text to every owner and developer of the account with internal id
 * account (mail_command; nothing when unset). subject is ASCII without line
 * breaks; body is plain text, its control characters other than newlines
 * replaced. Failures are logged.
 */
void		lk_notices_mail(struct lk_db *db, uint64_t account, const char *subject,
		    const char *body);

#endif
