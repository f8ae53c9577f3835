/*
 * leaks.h — leaked-key reports (docs/api.md, "Leaked keys"): a key found
 * somewhere public is revoked (revoked_reason "leaked"), audited (key.leaked,
 * whose event the audit writer puts in the outbox) and its account's owners
 * and developers are mailed; once per key per place it was found (key_leaks).
 */
#ifndef LK_LEAKS_H
#define LK_LEAKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/db.h"
#include "model/keys.h"

#define LK_LEAK_URL_MAX		2048	/* characters of where a key was found */
#define LK_LEAK_SOURCE_MAX	100	/* characters of who found it ("github", "gitguardian") */
/*
 * Places recorded per key: past this, a report of a new place is no longer
 * audited or mailed (unless it revokes the key), so whoever holds a leaked
 * key cannot flood its owners' mailboxes with reports.
 */
#define LK_LEAK_PLACES_MAX	20

struct lk_leak_result {
	bool	 recorded;	/* a new report: audited (key.leaked), event, mail */
	bool	 revoked;	/* revoked by this report (else it already was) */
};

/*
 * The key token names, if it is one of ours: a token in latchkey's shape must
 * pass its checksum before any query (lk_keyfmt_presented); then one digest
 * lookup (an imported key's digest is the SHA-256 of its text). Fills k.
 * LK_ERR_NOT_FOUND if it is not a key here.
 */
enum lk_err	lk_leaks_find(struct lk_db *db, const char *prefix, const char *token,
		    size_t len, struct lk_key *k);

/*
 * Report k as found at url ("" if unknown) by source, in one transaction:
 * record the place (key_leaks; a place already recorded for k is a repeat
 * and does nothing), revoke k with reason "leaked" unless it is already
 * revoked (expired keys too: an expiry can be moved), and write the audit
 * row key.leaked {url, source, and the status change when it revoked}. After
 * the commit, a recorded report is mailed (mail_command) to the owners and
 * developers of k's account. k is refreshed from its locked row.
 */
enum lk_err	lk_leaks_report(struct lk_db *db, const struct lk_actor *actor, struct lk_key *k,
		    const char *url, const char *source, int64_t now, struct lk_leak_result *r);

#endif
