/*
 * ratelimit.c — the counter upsert. MariaDB evaluates the assignments of ON
 * DUPLICATE KEY UPDATE left to right, each seeing the ones before it, so the
 * outcome columns are decided on the new count inside the same row lock;
 * LAST_INSERT_ID(expr) hands that count back to the client. A use stamped
 * with an older window of the same length (another server's clock a little
 * behind) counts in the newer one, so counts never flap back at a boundary.
 */
#include <stdio.h>

#include "base/log.h"
#include "model/ratelimit.h"
#include "model/usage.h"

#define DAY	86400

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

void
lk_ratelimit_policy(const struct lk_key *k, int64_t *limit, int64_t *window)
{
	if (k->rl_limit > 0 && k->rl_window > 0) {
		*limit = k->rl_limit;
		*window = k->rl_window;
	} else {
		*limit = lk_plan_rate(k->account_plan);
		*window = 60;
		if (*limit == 0)	/* an unknown plan gets the smallest */
			*limit = lk_plan_rate("free");
	}
}

struct hit_ctx {
	const struct lk_key	*k;
	int64_t			 day, win_start, window, limit, now;
	enum lk_outcome		 pre;
	uint64_t		 n;
};

static enum lk_err
hit_work(struct lk_db *db, void *arg)
{
	struct hit_ctx		*c = arg;
	const struct lk_param	 p[] = {
		LK_INT(c->k->id), LK_INT(c->day), LK_INT(c->k->account_id),
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
	c->n = lk_db_insert_id(db);
	if (c->n == 0 && affected == 1)		/* a new row: the first use of its window */
		c->n = 1;
	return LK_OK;
}

enum lk_err
lk_ratelimit_hit(struct lk_db *db, const struct lk_conf *conf,
    const struct lk_key *k, int64_t now, enum lk_outcome pre,
    struct lk_rl_state *out)
{
	struct hit_ctx	 c;
	int64_t		 day_start, end;
	enum lk_err	 e;

	lk_ratelimit_policy(k, &out->limit, &out->window);
	day_start = now - now % DAY;
	c.k = k;
	c.day = now / DAY;
	c.win_start = day_start + (now - day_start) / out->window * out->window;
	c.window = out->window;
	c.limit = out->limit;
	c.now = now;
	c.pre = pre;
	c.n = 0;
	end = c.win_start + out->window;
	if (end > day_start + DAY)
		end = day_start + DAY;
	out->reset = end - now > 0 ? end - now : 1;
	out->outcome = pre;
	out->counted = false;
	out->used = 0;
	out->remaining = out->limit;
	lk_usage_maybe_sweep(db, conf, now);
	if ((e = lk_db_read(db, hit_work, &c)) != LK_OK) {
		if (conf->ratelimit_open) {
			lk_log_err("rate-limit count not written for %s; "
			    "ratelimit_on_db_error = open lets the request through", k->public_id);
			return LK_OK;
		}
		return LK_ERR_UNAVAILABLE;
	}
	out->counted = true;
	out->used = (int64_t)c.n;
	out->remaining = out->used >= out->limit ? 0 : out->limit - out->used;
	if (pre == LK_OUTCOME_VALID && out->used > out->limit)
		out->outcome = LK_OUTCOME_RATE_LIMITED;
	return LK_OK;
}
