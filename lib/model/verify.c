/*
 * verify.c — the answer to a verify: the use of the presented key decided and
 * counted by model/use, written without a JSON library (the hot path).
 */
#include <string.h>

#include "base/net.h"
#include "base/timefmt.h"
#include "model/verify.h"

const struct lk_field lk_verify_fields[] = {
	{ "key", LK_FT_TEXT, LK_FF_REQUIRED, LK_KEY_FOREIGN_MAX, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "ip", LK_FT_WORD, 0, LK_NET_ADDR_MAX - 1, NULL },
	{ "cost", LK_FT_INT, LK_FF_ZERO, LK_COST_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

const char *
lk_verify_ip_why(const char *ip)
{
	struct lk_cidr	c;
	size_t		n;
	char		why[64];

	if (ip == NULL || (strchr(ip, '/') == NULL && strchr(ip, ',') == NULL &&
	    lk_net_cidrs_parse(ip, &c, 1, &n, why, sizeof(why)) && n == 1))
		return NULL;
	return "must be the end client's IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1";
}

static const char *const codes[LK_OUTCOME__MAX] = {
	[LK_OUTCOME_VALID] = "VALID",
	[LK_OUTCOME_RATE_LIMITED] = "RATE_LIMITED",
	[LK_OUTCOME_REVOKED] = "REVOKED_API_KEY",
	[LK_OUTCOME_EXPIRED] = "EXPIRED_API_KEY",
	[LK_OUTCOME_INSUFFICIENT_SCOPE] = "INSUFFICIENT_SCOPE",
	[LK_OUTCOME_ACCOUNT_SUSPENDED] = "ACCOUNT_SUSPENDED",
	[LK_OUTCOME_IP_NOT_ALLOWED] = "IP_NOT_ALLOWED",
	[LK_OUTCOME_USAGE_EXCEEDED] = "USAGE_EXCEEDED",
};

/* The verdict on a found key, written directly: meta is stored as compact JSON. */
static void
verdict(struct lk_out *o, const struct lk_key *k, const struct lk_rl_state *rl)
{
	const char	*p = k->scopes, *w;
	char		 t[LK_TIME_MAX];
	size_t		 n;
	bool		 first = true;

	lk_out_reset(o);
	lk_out_lit(o, "{\"valid\":");
	if (rl->outcome == LK_OUTCOME_VALID)
		lk_out_lit(o, "true");
	else
		lk_out_lit(o, "false");
	lk_out_lit(o, ",\"code\":");
	lk_out_str(o, codes[rl->outcome], strlen(codes[rl->outcome]));
	lk_out_lit(o, ",\"key\":{\"id\":");
	lk_out_str(o, k->public_id, strlen(k->public_id));
	lk_out_lit(o, ",\"account_id\":");
	lk_out_str(o, k->owner.public_id, strlen(k->owner.public_id));
	lk_out_lit(o, ",\"env\":");
	lk_out_str(o, k->env, strlen(k->env));
	lk_out_lit(o, ",\"scopes\":[");
	while ((w = lk_scopes_next(&p, &n)) != NULL) {
		if (!first)
			lk_out_lit(o, ",");
		lk_out_str(o, w, n);
		first = false;
	}
	lk_out_lit(o, "],\"expires_at\":");
	if (k->expires_at == 0)
		lk_out_lit(o, "null");
	else {
		lk_time_format(k->expires_at, t);
		lk_out_str(o, t, strlen(t));
	}
	lk_out_lit(o, ",\"meta\":");
	if (k->meta[0] == '{')
		lk_out_raw(o, k->meta, strlen(k->meta));
	else
		lk_out_lit(o, "{}");
	lk_out_lit(o, "},\"ratelimit\":{\"limit\":");
	lk_out_int(o, rl->limit);
	lk_out_lit(o, ",\"remaining\":");
	lk_out_int(o, rl->remaining);
	lk_out_lit(o, ",\"reset\":");
	lk_out_int(o, rl->reset);
	lk_out_lit(o, "}");
	if (k->policy.has_credits) {
		lk_out_lit(o, ",\"credits\":{\"remaining\":");
		lk_out_int(o, rl->credits);
		lk_out_lit(o, "}");
	}
	lk_out_lit(o, "}");
}

enum lk_err
lk_verify_found(struct lk_db *db, const struct lk_conf *conf, const struct lk_key *k,
    const struct lk_use *u, struct lk_out *o)
{
	struct lk_rl_state	rl;
	enum lk_err		e;

	if ((e = lk_use_key(db, conf, k, u, &rl)) == LK_OK)
		verdict(o, k, &rl);
	return e;
}

void
lk_verify_invalid(struct lk_out *o)
{
	lk_out_reset(o);
	lk_out_lit(o, "{\"valid\":false,\"code\":\"INVALID_API_KEY\"}");
}

enum lk_err
lk_verify_key(struct lk_db *db, const struct lk_conf *conf, const char *key,
    const struct lk_use *u, struct lk_out *o)
{
	struct lk_keyparts	 parts;
	struct lk_key		 k;
	bool			 found = false;
	enum lk_err		 e;

	if (lk_keyfmt_presented(key, strlen(key), conf->key_prefix, &parts) != LK_OK) {
		lk_verify_invalid(o);
		return LK_OK;
	}
	e = lk_keys_by_digests(db, parts.digest, &k, &found, parts.digest, &k, &found);
	if (e == LK_OK && found)
		return lk_verify_found(db, conf, &k, u, o);
	if (e == LK_OK)
		lk_verify_invalid(o);
	return e;
}
