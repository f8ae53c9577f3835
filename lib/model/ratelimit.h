/*
 * ratelimit.h — exact per-key rate limits in fixed windows, counted by one
 * upsert per use (the same write records the day's usage by outcome).
 *
 * A key's limit is its own ratelimit {limit, window} or else its account's
 * plan per 60 s. Windows are aligned to UTC midnight (a window that does not
 * divide a day is cut short at midnight). Every use of a found key counts,
 * whatever its outcome; the use is allowed while the window's count is <= the
 * limit.
 */
#ifndef LK_RATELIMIT_H
#define LK_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/conf.h"
#include "base/db.h"
#include "model/keys.h"
#include "model/usage.h"

/* A key's limit and the state of its window after a counted use. */
struct lk_rl_state {
	bool		 counted;	/* false: the count could not be written (open mode) */
	int64_t		 limit, window;	/* the policy: limit uses per window seconds */
	int64_t		 used;		/* uses in the current window, this one included */
	int64_t		 remaining;	/* max(0, limit - used) */
	int64_t		 reset;		/* seconds until the window ends, >= 1 */
	enum lk_outcome	 outcome;	/* of this use */
	int64_t		 credits;	/* remaining after this use; -1: unlimited */
};

/* The limit and window that apply to k: its own ratelimit, else its plan per 60 s. */
void		lk_ratelimit_policy(const struct lk_key *k, int64_t *limit, int64_t *window);

/*
 * Count one use of k at now. pre is the outcome the caller found before
 * counting (VALID when the key is active and has what was asked, or
 * REVOKED / EXPIRED / INSUFFICIENT_SCOPE); a VALID use beyond the limit
 * becomes RATE_LIMITED. One statement, no read-modify-write.
 * Returns LK_OK with *out filled, or LK_ERR_UNAVAILABLE when the count could
 * not be written and conf says ratelimit_on_db_error = closed (with "open",
 * LK_OK with out->counted false and out->outcome = pre).
 */
enum lk_err	lk_ratelimit_hit(struct lk_db *db, const struct lk_conf *conf,
		    const struct lk_key *k, int64_t now, enum lk_outcome pre,
		    struct lk_rl_state *out);

/*
 * The parts of lk_ratelimit_hit, for a count inside a larger unit of work
 * (model/use): fill out's policy and window at now and use, the use to count
 * (outcome pre, not counted yet); then, once lk_usage_count gave the window's
 * count n, mark out counted (a VALID use beyond the limit becomes
 * RATE_LIMITED).
 */
void		lk_ratelimit_window(const struct lk_key *k, int64_t now, enum lk_outcome pre,
		    struct lk_usage_use *use, struct lk_rl_state *out);
void		lk_ratelimit_counted(struct lk_rl_state *out, uint64_t n);

#endif
