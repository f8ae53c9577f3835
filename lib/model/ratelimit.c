/*
 * ratelimit.c — a key's limit and window, and the state of its window after a
 * use; the use is counted by model/usage's one upsert (lk_usage_count).
 */
#include <stdio.h>

#include "base/log.h"
#include "model/ratelimit.h"
#include "model/usage.h"

#define DAY	86400

void
lk_ratelimit_policy(const struct lk_key *k, int64_t *limit, int64_t *window)
{
	if (k->rl_limit > 0 && k->rl_window > 0) {
		*limit = k->rl_limit;
		*window = k->rl_window;
	} else {
		*limit = lk_plan_rate(k->owner.plan);
		*window = 60;
		if (*limit == 0)	/* an unknown plan gets the smallest */
			*limit = lk_plan_rate("free");
	}
}

void
lk_ratelimit_window(const struct lk_key *k, int64_t now, enum lk_outcome pre,
    struct lk_usage_use *use, struct lk_rl_state *out)
{
	int64_t day_start, end;

	lk_ratelimit_policy(k, &out->limit, &out->window);
	day_start = now - now % DAY;
	use->k = k;
	use->day = now / DAY;
	use->win_start = day_start + (now - day_start) / out->window * out->window;
	use->window = out->window;
	use->limit = out->limit;
	use->now = now;
	use->pre = pre;
	end = use->win_start + out->window;
	if (end > day_start + DAY)
		end = day_start + DAY;
	out->reset = end - now > 0 ? end - now : 1;
	out->outcome = pre;
	out->counted = false;
	out->used = 0;
	out->remaining = out->limit;
	out->credits = -1;
}

void
lk_ratelimit_counted(struct lk_rl_state *out, uint64_t n)
{
	out->counted = true;
	out->used = (int64_t)n;
	out->remaining = out->used >= out->limit ? 0 : out->limit - out->used;
	if (out->outcome == LK_OUTCOME_VALID && out->used > out->limit)
		out->outcome = LK_OUTCOME_RATE_LIMITED;
}

struct hit_ctx {
	struct lk_usage_use	 use;
	uint64_t		 n;
};

static enum lk_err
hit_work(struct lk_db *db, void *arg)
{
	struct hit_ctx *c = arg;

	return lk_usage_count(db, &c->use, &c->n);
}

enum lk_err
lk_ratelimit_hit(struct lk_db *db, const struct lk_conf *conf,
    const struct lk_key *k, int64_t now, enum lk_outcome pre,
    struct lk_rl_state *out)
{
	struct hit_ctx	 c;

	lk_ratelimit_window(k, now, pre, &c.use, out);
	c.n = 0;
	lk_usage_maybe_sweep(db, conf, now);
	if (lk_db_read(db, hit_work, &c) != LK_OK) {
		if (conf->ratelimit_open) {
			lk_log_err("rate-limit count not written for %s; "
			    "ratelimit_on_db_error = open lets the request through", k->public_id);
			return LK_OK;
		}
		return LK_ERR_UNAVAILABLE;
	}
	lk_ratelimit_counted(out, c.n);
	return LK_OK;
}
