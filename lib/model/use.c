/* use.c — one use of a found key (model/use.h). */
#include "base/log.h"
#include "base/scopes.h"
#include "model/cache.h"
#include "model/policy.h"
#include "model/use.h"
#include "model/usage.h"

/*
 * Spend cost credits, refilling first when the refill period began after the
 * last refill (due is decided on the row, under its lock). LAST_INSERT_ID
 * hands back what remains. No row changed: too few credits.
 */
static const char SQL_SPEND[] =
    "UPDATE api_keys SET"
    " credits_remaining = LAST_INSERT_ID(IF(refill_amount > 0 AND COALESCE(refilled_at, 0) < ?,"
    "  refill_amount, credits_remaining) - ?),"
    " refilled_at = IF(refill_amount > 0 AND COALESCE(refilled_at, 0) < ?, ?, refilled_at)"
    " WHERE id = ? AND credits_remaining IS NOT NULL"
    " AND IF(refill_amount > 0 AND COALESCE(refilled_at, 0) < ?, refill_amount,"
    "  credits_remaining) >= ?";
static const char SQL_CREDITS[] =
    "SELECT IF(refill_amount > 0 AND COALESCE(refilled_at, 0) < ?, refill_amount,"
    " credits_remaining) FROM api_keys WHERE id = ?";

/* The outcome before anything is counted, in the documented order (rate limit and credits come later). */
static enum lk_outcome
precheck(const struct lk_key *k, const struct lk_use *u)
{
	enum lk_key_status s = lk_key_status(k, u->now);

	if (s == LK_KEY_REVOKED)
		return LK_OUTCOME_REVOKED;
	if (k->policy.suspended_by[0] != '\0')
		return LK_OUTCOME_ACCOUNT_SUSPENDED;
	if (s == LK_KEY_EXPIRED)
		return LK_OUTCOME_EXPIRED;
	if (!lk_policy_ip_allowed(&k->policy, u->ip))
		return LK_OUTCOME_IP_NOT_ALLOWED;
	if (u->wanted != NULL && !lk_scopes_grantable(k->scopes, u->wanted, NULL, NULL))
		return LK_OUTCOME_INSUFFICIENT_SCOPE;
	return LK_OUTCOME_VALID;
}

struct deny_ctx {
	struct lk_usage_use	 use;
};

static enum lk_err
deny_work(struct lk_db *db, void *arg)
{
	struct deny_ctx *c = arg;

	return lk_usage_deny(db, &c->use);
}

/* Record a refused attempt that is not a use; the answer stands even if it could not be written. */
static void
deny(struct lk_db *db, const struct lk_key *k, int64_t now, enum lk_outcome o,
    struct lk_rl_state *out)
{
	struct deny_ctx c;

	lk_ratelimit_window(k, now, o, &c.use, out);
	if (k->policy.has_credits)
		out->credits = lk_policy_credits_now(&k->policy, now);
	if (lk_db_read(db, deny_work, &c) != LK_OK)
		lk_log_err("refused use of %s (%s) not recorded", k->public_id, lk_outcome_name(o));
}

struct spend_ctx {
	const struct lk_key	*k;
	const struct lk_use	*u;
	struct lk_usage_use	 use;
	struct lk_rl_state	*out;
	int64_t			 period;	/* start of the current refill period; 0: none */
	bool			 exceeded;
};

static enum lk_err
spend_work(struct lk_db *db, void *arg)
{
	struct spend_ctx	*c = arg;
	uint64_t		 n = 0, affected = 0;
	int64_t			 left = 0;
	enum lk_err		 e;

	lk_ratelimit_window(c->k, c->u->now, LK_OUTCOME_VALID, &c->use, c->out);
	c->exceeded = false;
	if ((e = lk_usage_count(db, &c->use, &n)) != LK_OK)
		return e;
	lk_ratelimit_counted(c->out, n);
	if (c->out->outcome != LK_OUTCOME_VALID)
		return LK_OK;		/* rate limited: no credit spent */
	const struct lk_param p[] = {
		LK_INT(c->period), LK_INT(c->u->cost), LK_INT(c->period), LK_INT(c->period),
		LK_INT(c->k->id), LK_INT(c->period), LK_INT(c->u->cost),
	};
	if ((e = lk_db_exec(db, SQL_SPEND, p, LK_NELEM(p), NULL, NULL, &affected)) != LK_OK)
		return e;
	if (affected == 1) {
		c->out->credits = (int64_t)lk_db_insert_id(db);
		return LK_OK;
	}
	const struct lk_param q[] = { LK_INT(c->period), LK_INT(c->k->id) };
	if ((e = lk_db_exec(db, SQL_CREDITS, q, LK_NELEM(q), lk_db_row_int, &left, NULL)) != LK_OK)
		return e;
	c->out->credits = left;
	c->exceeded = true;
	return LK_ERR_CONFLICT;		/* roll the count back: this was not a use */
}

enum lk_err
lk_use_key(struct lk_db *db, const struct lk_conf *conf, const struct lk_key *k,
    const struct lk_use *u, struct lk_rl_state *out)
{
	struct spend_ctx	 c = { k, u, { 0 }, out, 0, false };
	enum lk_outcome		 pre = precheck(k, u);
	enum lk_err		 e;

	/* verify_cache = on: counted in the host's cache (model/cache), the same outcomes. */
	const bool cached = lk_cache_counts(conf, k);

	if (pre == LK_OUTCOME_ACCOUNT_SUSPENDED || pre == LK_OUTCOME_IP_NOT_ALLOWED) {
		if (cached)
			(void)lk_cache_count_use(db, conf, k, u->now, pre, out);
		else
			deny(db, k, u->now, pre, out);
		return LK_OK;
	}
	/* Nothing to spend (cost 0): counted like a key without credits. */
	if (pre != LK_OUTCOME_VALID || !k->policy.has_credits || u->cost == 0) {
		if (cached)
			return lk_cache_count_use(db, conf, k, u->now, pre, out);
		if ((e = lk_ratelimit_hit(db, conf, k, u->now, pre, out)) == LK_OK &&
		    k->policy.has_credits)
			out->credits = lk_policy_credits_now(&k->policy, u->now);
		return e;
	}
	c.period = lk_policy_period_start(&k->policy, u->now);
	lk_usage_maybe_sweep(db, conf, u->now);
	e = lk_db_txn(db, spend_work, &c);
	if (e == LK_ERR_CONFLICT && c.exceeded) {
		int64_t left = out->credits;

		deny(db, k, u->now, LK_OUTCOME_USAGE_EXCEEDED, out);
		out->credits = left;
		return LK_OK;
	}
	if (e != LK_OK && conf->ratelimit_open) {
		lk_log_err("use of %s not counted; ratelimit_on_db_error = open lets it through",
		    k->public_id);
		lk_ratelimit_window(k, u->now, LK_OUTCOME_VALID, &c.use, out);
		return LK_OK;
	}
	return e;
}
