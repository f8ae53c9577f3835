/*
 * use.h — one use of a found key, decided in the documented order (docs/api.md
 * "Policies"): key status (revoked) → account status (suspended, here or
 * above) → expiry → IP allowlist → scope → rate limit → credits.
 *
 * What each costs the database: a revoked, expired or scope-refused use is
 * counted like a valid one (one upsert: it spends the window's budget); an
 * attempt refused for the account's suspension, the address or the credits
 * is recorded in its outcome column only (lk_usage_deny), never as a use. A
 * key without credits costs one upsert; a key with credits one transaction
 * (the count and a conditional UPDATE of its credits, refilled lazily by the
 * calendar), exact under concurrency.
 */
#ifndef LK_USE_H
#define LK_USE_H

#include "base/conf.h"
#include "base/db.h"
#include "model/keys.h"
#include "model/ratelimit.h"

/* What the use asks. */
struct lk_use {
	int64_t		 now;
	const char	*ip;		/* the client's address; NULL: not given */
	const char	*wanted;	/* scopes asked for (space-separated); NULL: none */
	int64_t		 cost;		/* credits a valid use spends (0..LK_COST_MAX) */
};

/*
 * Decide and count one use of k. LK_OK with *out filled (out->outcome the
 * answer, out->credits the credits left when k has credits), or
 * LK_ERR_UNAVAILABLE when the count could not be written (see
 * lk_ratelimit_hit for ratelimit_on_db_error = open).
 */
enum lk_err	lk_use_key(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_key *k, const struct lk_use *u, struct lk_rl_state *out);

#endif
