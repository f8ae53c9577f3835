/* usage.c — the key_usage rows: each use counted, daily usage by outcome, retention; their SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "model/cache.h"
#include "model/notices.h"
#include "model/usage.h"

#define DAY	86400

/*
 * The count of a use: MariaDB evaluates the assignments of ON DUPLICATE KEY
 * UPDATE left to right, each seeing the ones before it, so the outcome columns
 * are decided on the new count inside the same row lock; LAST_INSERT_ID(expr)
 * hands that count back to the client. A use stamped with an older window of
 * the same length (another server's clock a little behind) counts in the
 * newer one, so counts never flap back at a boundary.
 */
static const char SQL_HIT[] =
    "INSERT INTO key_usage (key_id, day, account_id, env, win_start, win_len, n, valid,"
    " rate_limited, revoked, expired, insufficient_scope, last_valid_at)"
    " VALUES (?, ?, ?, ?, ?, ?, LAST_INSERT_ID(1), ?, 0, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE"
    " n = LAST_INSERT_ID(IF(win_len = VALUES(win_len) AND win_start >= VALUES(win_start),"
    "  n + 1, 1)),"
    " win_start = IF(win_len = VALUES(win_len), GREATEST(win_start, VALUES(win_start)),"
    "  VALUES(win_start)),"
    " win_len = VALUES(win_len),"
    " valid = valid + (VALUES(valid) AND n <= ?),"
    " rate_limited = rate_limited + (VALUES(valid) AND n > ?),"
    " revoked = revoked + VALUES(revoked),"
    " expired = expired + VALUES(expired),"
    " insufficient_scope = insufficient_scope + VALUES(insufficient_scope),"
    " last_valid_at = IF(VALUES(valid) AND n <= ?, VALUES(last_valid_at), last_valid_at)";

#define USAGE_SUMS \
    "SUM(u.valid), SUM(u.rate_limited), SUM(u.revoked), SUM(u.expired)," \
    " SUM(u.insufficient_scope), SUM(u.account_suspended), SUM(u.ip_not_allowed)," \
    " SUM(u.usage_exceeded)"

/*
 * An attempt the policies refuse that is not a use (docs/api.md "Policies"):
 * its outcome column counts it, the window's counter n does not (a stranger
 * outside the allowlist cannot spend the holder's rate limit). A new row
 * starts the current window at 0 uses.
 */
static const char SQL_DENY[] =
    "INSERT INTO key_usage (key_id, day, account_id, env, win_start, win_len, n,"
    " account_suspended, ip_not_allowed, usage_exceeded)"
    " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE account_suspended = account_suspended + VALUES(account_suspended),"
    " ip_not_allowed = ip_not_allowed + VALUES(ip_not_allowed),"
    " usage_exceeded = usage_exceeded + VALUES(usage_exceeded)";

static const char SQL_KEY[] =
    "SELECT u.day, " USAGE_SUMS " FROM key_usage u"
    " WHERE u.key_id = ? AND u.day >= ? AND (? IS NULL OR u.env = ?) GROUP BY u.day";
static const char SQL_ACCOUNT[] =
    "SELECT u.day, " USAGE_SUMS " FROM key_usage u"
    " JOIN accounts a ON a.id = u.account_id"
    " WHERE a.path LIKE ? AND u.day >= ? AND (? IS NULL OR u.env = ?) GROUP BY u.day";
static const char SQL_KEEP_LAST_USED[] =
    "UPDATE api_keys k JOIN (SELECT key_id, MAX(last_valid_at) AS m FROM key_usage"
    " WHERE day < ? AND last_valid_at IS NOT NULL GROUP BY key_id) u ON u.key_id = k.id"
    " SET k.last_used_at = GREATEST(COALESCE(k.last_used_at, 0), u.m)";
static const char SQL_EXPIRE[] =
    "DELETE FROM key_usage WHERE day < ?";
/*
 * The verify cache's change feed is written by every change whether or not a
 * host runs the cache; its rows older than LK_CACHE_FEED_KEEP are removed
 * here, with the usage past retention (a follower whose cursor is older than
 * half of that trusts nothing it holds, model/cache.c).
 */
static const char SQL_FEED_EXPIRE[] =
    "DELETE FROM cache_feed WHERE at < UNIX_TIMESTAMP() - ?";
/* The cluster-wide claim of the next sweep (schema/010_job_runs.sql). */
static const char SQL_CLAIM_SWEEP[] =
    "UPDATE job_runs SET next_at = ? WHERE name = 'sweep' AND next_at <= ?";

static const char *const outcome_names[LK_OUTCOME__MAX] = {
	[LK_OUTCOME_VALID] = "valid",
	[LK_OUTCOME_RATE_LIMITED] = "rate_limited",
	[LK_OUTCOME_REVOKED] = "revoked",
	[LK_OUTCOME_EXPIRED] = "expired",
	[LK_OUTCOME_INSUFFICIENT_SCOPE] = "insufficient_scope",
	[LK_OUTCOME_ACCOUNT_SUSPENDED] = "account_suspended",
	[LK_OUTCOME_IP_NOT_ALLOWED] = "ip_not_allowed",
	[LK_OUTCOME_USAGE_EXCEEDED] = "usage_exceeded",
};

enum lk_err
lk_usage_count(struct lk_db *db, const struct lk_usage_use *c, uint64_t *n)
{
	const struct lk_param	 p[] = {
		LK_INT(c->k->id), LK_INT(c->day), LK_INT(c->k->owner.id),
		LK_STR(c->k->env), LK_INT(c->win_start), LK_INT(c->window),
		LK_INT(c->pre == LK_OUTCOME_VALID),
		LK_INT(c->pre == LK_OUTCOME_REVOKED),
		LK_INT(c->pre == LK_OUTCOME_EXPIRED),
		LK_INT(c->pre == LK_OUTCOME_INSUFFICIENT_SCOPE),
		c->pre == LK_OUTCOME_VALID ? LK_INT(c->now) : LK_NULL,
		LK_INT(c->limit), LK_INT(c->limit), LK_INT(c->limit),
	};
	uint64_t		 affected = 0;
	enum lk_err		 e;

	if ((e = lk_db_exec(db, SQL_HIT, p, LK_NELEM(p), NULL, NULL, &affected)) != LK_OK)
		return e;
	*n = lk_db_insert_id(db);
	if (*n == 0 && affected == 1)		/* a new row: the first use of its window */
		*n = 1;
	return LK_OK;
}

enum lk_err
lk_usage_deny(struct lk_db *db, const struct lk_usage_use *c)
{
	const struct lk_param	 p[] = {
		LK_INT(c->k->id), LK_INT(c->day), LK_INT(c->k->owner.id),
		LK_STR(c->k->env), LK_INT(c->win_start), LK_INT(c->window),
		LK_INT(c->pre == LK_OUTCOME_ACCOUNT_SUSPENDED),
		LK_INT(c->pre == LK_OUTCOME_IP_NOT_ALLOWED),
		LK_INT(c->pre == LK_OUTCOME_USAGE_EXCEEDED),
	};

	return lk_db_exec(db, SQL_DENY, p, LK_NELEM(p), NULL, NULL, NULL);
}

enum lk_outcome
lk_outcome_of(const struct lk_key *k, int64_t now)
{
	switch (lk_key_status(k, now)) {
	case LK_KEY_REVOKED:
		return LK_OUTCOME_REVOKED;
	case LK_KEY_EXPIRED:
		return LK_OUTCOME_EXPIRED;
	case LK_KEY_ACTIVE:
		break;
	}
	return LK_OUTCOME_VALID;
}

const char *
lk_outcome_name(enum lk_outcome o)
{
	return (unsigned)o < LK_OUTCOME__MAX ? outcome_names[o] : "valid";
}

struct series {
	int64_t		 first;		/* day number of counts[0] */
	int		 days;
	int64_t		 (*counts)[LK_OUTCOME__MAX];
};

static enum lk_err
series_row(const struct lk_row *r, void *arg)
{
	struct series	*s = arg;
	int64_t		 i = strtoll(r->v[0], NULL, 10) - s->first;
	int		 o;

	if (i < 0 || i >= s->days)
		return LK_OK;	/* a day after now's (another server's clock) */
	for (o = 0; o < LK_OUTCOME__MAX; o++)
		s->counts[i][o] += r->null[o + 1] ? 0 : strtoll(r->v[o + 1], NULL, 10);
	return LK_OK;
}

/* sql's parameters: what (a key id, or an account path pattern), the first day, the env twice. */
struct query_ctx {
	const char	*sql;
	struct lk_param	 p[4];
	struct series	*s;
};

static enum lk_err
query_work(struct lk_db *db, void *arg)
{
	struct query_ctx *c = arg;

	memset(c->s->counts, 0, sizeof(*c->s->counts) * c->s->days);
	return lk_db_exec(db, c->sql, c->p, LK_NELEM(c->p), series_row, c->s, NULL);
}

static json_t *
counts_json(const int64_t counts[LK_OUTCOME__MAX])
{
	json_t	*o = json_object();
	int	 i;

	for (i = 0; i < LK_OUTCOME__MAX; i++)
		json_object_set_new(o, lk_outcome_name(i), json_integer(counts[i]));
	return o;
}

static json_t *
series_json(const struct series *s)
{
	json_t	*data = json_array(), *o;
	int64_t	 totals[LK_OUTCOME__MAX] = { 0 };
	char	 t[LK_TIME_MAX];
	int	 d, i;

	for (d = 0; d < s->days; d++) {
		lk_time_format((s->first + d) * DAY, t);
		t[10] = '\0';
		o = counts_json(s->counts[d]);
		json_object_set_new(o, "date", json_string(t));
		json_array_append_new(data, o);
		for (i = 0; i < LK_OUTCOME__MAX; i++)
			totals[i] += s->counts[d][i];
	}
	return json_pack("{s:o,s:o}", "data", data, "totals", counts_json(totals));
}

/* only_env: NULL (every key), or the env whose keys alone are summed. */
static enum lk_err
run_series(struct lk_db *db, const char *sql, struct lk_param what,
    const char *only_env, int days, int64_t now, json_t **out)
{
	int64_t			 counts[LK_USAGE_DAYS_MAX][LK_OUTCOME__MAX];
	struct series		 s = { now / DAY - days + 1, days, counts };
	struct query_ctx	 c = { sql, { what, LK_INT(s.first), LK_STR0(only_env),
				    LK_STR0(only_env) }, &s };
	enum lk_err		 e;

	if (days < 1 || days > LK_USAGE_DAYS_MAX)
		return LK_ERR_VALIDATION;
	if ((e = lk_db_read(db, query_work, &c)) != LK_OK)
		return e;
	*out = series_json(&s);
	return LK_OK;
}

enum lk_err
lk_usage_key(struct lk_db *db, const struct lk_key *k, const char *only_env, int days,
    int64_t now, json_t **out)
{
	return run_series(db, SQL_KEY, LK_INT(k->id), only_env, days, now, out);
}

enum lk_err
lk_usage_account(struct lk_db *db, const struct lk_account *a, const char *only_env,
    int days, int64_t now, json_t **out)
{
	char	like[LK_ACCOUNT_PATH_MAX + 2];

	snprintf(like, sizeof(like), "%s%%", a->path);	/* paths are digits and '/' */
	return run_series(db, SQL_ACCOUNT, LK_STR(like), only_env, days, now, out);
}

struct gc_ctx {
	int64_t		 cutoff;	/* first day kept */
	uint64_t	 removed;
};

static enum lk_err
gc_work(struct lk_db *db, void *arg)
{
	struct gc_ctx		*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->cutoff) };
	const struct lk_param	 keep[] = { LK_INT(LK_CACHE_FEED_KEEP) };
	enum lk_err		 e;

	c->removed = 0;
	if ((e = lk_db_exec(db, SQL_KEEP_LAST_USED, p, 1, NULL, NULL, NULL)) != LK_OK ||
	    (e = lk_db_exec(db, SQL_FEED_EXPIRE, keep, 1, NULL, NULL, NULL)) != LK_OK)
		return e;
	return lk_db_exec(db, SQL_EXPIRE, p, 1, NULL, NULL, &c->removed);
}

enum lk_err
lk_usage_gc(struct lk_db *db, const struct lk_conf *conf, int64_t now,
    uint64_t *removed)
{
	struct gc_ctx	c = { now / DAY - (int64_t)conf->usage_retention_days + 1, 0 };
	enum lk_err	e;

	e = lk_db_txn(db, gc_work, &c);
	if (removed != NULL)
		*removed = e == LK_OK ? c.removed : 0;
	return e;
}

struct claim_ctx {
	int64_t		 now;
	uint64_t	 claimed;
};

static enum lk_err
claim_work(struct lk_db *db, void *arg)
{
	struct claim_ctx	*c = arg;
	const struct lk_param	 p[] = { LK_INT(c->now + LK_USAGE_SWEEP_EVERY), LK_INT(c->now) };

	return lk_db_exec(db, SQL_CLAIM_SWEEP, p, 2, NULL, NULL, &c->claimed);
}

/* Whether this program runs the sweep that is due: the one that moved job_runs' next_at on. */
static bool
claim_sweep(struct lk_db *db, int64_t now)
{
	struct claim_ctx c = { now, 0 };

	return lk_db_read(db, claim_work, &c) == LK_OK && c.claimed == 1;
}

void
lk_usage_maybe_sweep(struct lk_db *db, const struct lk_conf *conf, int64_t now)
{
	static int64_t	next;	/* this process's next sweep; 0: not yet chosen */
	uint16_t	r = 0;

	/*
	 * The first sweep comes at a random point of the first interval, so
	 * programs started together do not sweep together and a CGI process
	 * (one request) sweeps with probability 1/LK_USAGE_SWEEP_EVERY.
	 */
	if (next == 0) {
		lk_crypto_random(&r, sizeof(r));
		next = now + r % LK_USAGE_SWEEP_EVERY;
	}
	if (now < next)
		return;
	next = now + LK_USAGE_SWEEP_EVERY;
	if (!claim_sweep(db, now))
		return;
	if (lk_usage_gc(db, conf, now, NULL) != LK_OK)
		lk_log_err("usage retention sweep failed; the next one retries");
	if (lk_keys_sweep_inactive(db, &lk_keys_sweeper, now, NULL) != LK_OK)
		lk_log_err("inactivity sweep failed; the next one retries");
	if (lk_notices_sweep(db, now, NULL) != LK_OK)
		lk_log_err("expiry notice sweep failed; the next one retries");
}
