/*
 * usage.h — the outcomes of a use, daily usage by outcome read from the rows
 * model/ratelimit.c writes (one per key and UTC day), and their retention.
 * Below ratelimit: ratelimit includes this header, never the reverse.
 */
#ifndef LK_USAGE_H
#define LK_USAGE_H

#include <stdint.h>

#include <jansson.h>

#include "base/conf.h"
#include "base/db.h"
#include "model/accounts.h"
#include "model/keys.h"

#define LK_USAGE_DAYS_DEFAULT	30
#define LK_USAGE_DAYS_MAX	400
#define LK_USAGE_SWEEP_EVERY	3600	/* seconds between a program's retention sweeps */

/* How a use ended: the usage history's columns. */
enum lk_outcome {
	LK_OUTCOME_VALID,
	LK_OUTCOME_RATE_LIMITED,
	LK_OUTCOME_REVOKED,
	LK_OUTCOME_EXPIRED,
	LK_OUTCOME_INSUFFICIENT_SCOPE,
	LK_OUTCOME_ACCOUNT_SUSPENDED,
	LK_OUTCOME_IP_NOT_ALLOWED,
	LK_OUTCOME_USAGE_EXCEEDED,
	LK_OUTCOME__MAX
};

/*
 * The outcome of a use of k at now as its status gives it, before the count
 * (and before any scope check): REVOKED, EXPIRED or VALID.
 */
enum lk_outcome	 lk_outcome_of(const struct lk_key *k, int64_t now);

/* The usage column / API name of o ("valid", "rate_limited", …). */
const char	*lk_outcome_name(enum lk_outcome o);

/*
 * SQL: a key's last_used_at, for the SELECTs of api_keys AS k: the newest
 * valid use counted in key_usage, else the column (which the retention sweep
 * keeps).
 */
#define LK_USAGE_LAST_USED \
    "GREATEST(COALESCE(k.last_used_at, 0), COALESCE((SELECT u.last_valid_at" \
    " FROM key_usage u WHERE u.key_id = k.id AND u.last_valid_at IS NOT NULL" \
    " ORDER BY u.day DESC LIMIT 1), 0))"

/* One use of a key to count (lk_usage_count). */
struct lk_usage_use {
	const struct lk_key	*k;		/* id, account_id, env */
	int64_t			 day;		/* UTC day number (now / 86400) */
	int64_t			 win_start, window;	/* the current window */
	int64_t			 limit;		/* uses allowed in the window */
	int64_t			 now;
	enum lk_outcome		 pre;		/* the outcome found before counting */
};

/*
 * Count u in its key's row of the day with one upsert (no read-modify-write):
 * the window's counter and the day's outcome columns (a VALID use beyond
 * limit counts as rate_limited). *n is the window's count, this use included.
 * Runs in the caller's unit of work (lk_db_read).
 */
enum lk_err	lk_usage_count(struct lk_db *db, const struct lk_usage_use *u, uint64_t *n);

/*
 * Record u, an attempt refused by a policy that is not a use (pre
 * ACCOUNT_SUSPENDED, IP_NOT_ALLOWED or USAGE_EXCEEDED): its outcome column
 * only, the window's counter untouched. In the caller's unit of work.
 */
enum lk_err	lk_usage_deny(struct lk_db *db, const struct lk_usage_use *u);

/*
 * The last `days` UTC days up to now's, oldest first, as the API object
 * {"data": [{"date", "valid", "rate_limited", "revoked", "expired",
 * "insufficient_scope"}…], "totals": {…}}, days without use as zeros.
 * Of one key, or summed over every key of account's subtree (deleted keys
 * included); only_env "test" counts test keys alone (NULL: every key). *out
 * is new.
 */
enum lk_err	lk_usage_key(struct lk_db *db, const struct lk_key *k,
		    const char *only_env, int days, int64_t now, json_t **out);
enum lk_err	lk_usage_account(struct lk_db *db, const struct lk_account *a,
		    const char *only_env, int days, int64_t now, json_t **out);

/*
 * Retention: remove usage rows older than conf->usage_retention_days, after
 * carrying their last valid use into api_keys.last_used_at. *removed (may
 * be NULL) gets the number of rows removed.
 */
enum lk_err	lk_usage_gc(struct lk_db *db, const struct lk_conf *conf, int64_t now,
		    uint64_t *removed);

/*
 * Run lk_usage_gc and the inactivity sweep (lk_keys_sweep_inactive, as
 * lk_keys_sweeper) at a random time within a program's first
 * LK_USAGE_SWEEP_EVERY seconds and then every LK_USAGE_SWEEP_EVERY seconds,
 * so storage stays bounded without cron. A due sweep runs only in the program
 * that claims it (job_runs, cluster-wide): once an hour for all programs of all
 * web nodes together, never on every node at once.
 * Failures are logged and otherwise ignored (the next sweep retries).
 */
void		lk_usage_maybe_sweep(struct lk_db *db, const struct lk_conf *conf,
		    int64_t now);

#endif
