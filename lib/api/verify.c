/*
 * verify.c — POST /v1/verify {"key", "scopes", "ip", "cost"}: is this key good,
 * for the caller's subtree (and, for a test caller, a test key)? Both keys
 * are checked in memory first, then fetched together with one indexed read;
 * a found key's use is decided and counted by model/use (the policies in
 * their order, one write; the caller is not counted).
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/verify.h"
#include "base/net.h"
#include "base/timefmt.h"
#include "http/resp.h"

static const struct lk_field fields[] = {
	{ "key", LK_FT_TEXT, LK_FF_REQUIRED, LK_KEY_FOREIGN_MAX, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "ip", LK_FT_WORD, 0, LK_NET_ADDR_MAX - 1, NULL },
	{ "cost", LK_FT_INT, LK_FF_ZERO, LK_COST_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* The end client's address the platform passes on: one IPv4 or IPv6 address. */
static enum lk_err
check_ip(struct lk_req *req, const char *ip)
{
	struct lk_cidr	c;
	size_t		n;
	char		why[64];

	if (ip == NULL || (strchr(ip, '/') == NULL && strchr(ip, ',') == NULL &&
	    lk_net_cidrs_parse(ip, &c, 1, &n, why, sizeof(why)) && n == 1))
		return LK_OK;
	return lk_req_fail(req, LK_ERR_VALIDATION, "ip",
	    "ip must be the end client's IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1");
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
lk_verify_http(struct lk_req *req)
{
	static struct lk_out	 out;	/* lives for the process */
	struct lk_keyparts	 cparts, tparts;
	struct lk_caller	 c;
	struct lk_key		 target;
	struct lk_rl_state	 rl;
	bool			 cfound, tfound = false, tparsed;
	struct lk_use		 use;
	const char		*key;
	json_t			*f, *cost;
	enum lk_err		 e;

	if (req->nsegs != 1 || strcmp(req->segs[0], "verify") != 0)
		return lk_req_no_route(req);
	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_auth_credential(req, &cparts)) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, fields, &f)) != LK_OK)
		return e;
	key = json_string_value(json_object_get(f, "key"));
	use.now = req->now;
	use.wanted = json_string_value(json_object_get(f, "scopes"));
	use.ip = json_string_value(json_object_get(f, "ip"));
	use.cost = (cost = json_object_get(f, "cost")) != NULL ? json_integer_value(cost) : 1;
	if ((e = check_ip(req, use.ip)) != LK_OK) {
		json_decref(f);
		return e;
	}
	tparsed = lk_keyfmt_presented(key, strlen(key), req->conf->key_prefix, &tparts) == LK_OK;
	e = lk_keys_by_digests(req->db, cparts.digest, &c.key, &cfound,
	    tparsed ? tparts.digest : cparts.digest, &target, &tfound);
	if (e == LK_OK && !cfound)
		e = LK_ERR_INVALID_KEY;
	if (e == LK_OK && (e = lk_auth_status(req, &c.key)) == LK_OK)
		e = lk_auth_require(req, &c, "verify");
	if (e == LK_OK && tparsed && tfound && lk_auth_sees(&c, &target))
		/* The verified key is counted, not the caller's. */
		e = lk_use_key(req->db, req->conf, &target, &use, &rl);
	else if (e == LK_OK) {
		lk_out_reset(&out);
		lk_out_lit(&out, "{\"valid\":false,\"code\":\"INVALID_API_KEY\"}");
		lk_resp_out(req, 200, &out);
		json_decref(f);
		return LK_OK;
	}
	json_decref(f);
	if (e != LK_OK)
		return e;
	verdict(&out, &target, &rl);
	lk_resp_out(req, 200, &out);
	return LK_OK;
}
