/*
 * verify.c — POST /v1/verify {"key": "...", "scopes": [...]}: is this key good,
 * for the caller's subtree (and, for a test caller, a test key)? Both keys
 * are checked in memory first, then fetched together with one indexed read;
 * a found key's use is counted against its own rate limit with one write
 * (the caller is not counted).
 */
#include <string.h>

#include "api/auth.h"
#include "api/verify.h"
#include "base/timefmt.h"
#include "http/resp.h"

static const struct lk_field fields[] = {
	{ "key", LK_FT_TEXT, LK_FF_REQUIRED, 512, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* Outcome of a use of the found key k, before its count is known. */
static enum lk_outcome
precheck(const struct lk_key *k, const char *wanted, int64_t now)
{
	enum lk_outcome o = lk_outcome_of(k, now);

	if (o == LK_OUTCOME_VALID && !lk_scopes_grantable(k->scopes, wanted, NULL, NULL))
		return LK_OUTCOME_INSUFFICIENT_SCOPE;
	return o;
}

static const char *const codes[LK_OUTCOME__MAX] = {
	[LK_OUTCOME_VALID] = "VALID",
	[LK_OUTCOME_RATE_LIMITED] = "RATE_LIMITED",
	[LK_OUTCOME_REVOKED] = "REVOKED_API_KEY",
	[LK_OUTCOME_EXPIRED] = "EXPIRED_API_KEY",
	[LK_OUTCOME_INSUFFICIENT_SCOPE] = "INSUFFICIENT_SCOPE",
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
	lk_out_lit(o, "}}");
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
	const char		*key, *wanted;
	json_t			*f;
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
	wanted = json_string_value(json_object_get(f, "scopes"));
	tparsed = lk_keyfmt_parse(key, strlen(key), req->conf->key_prefix, &tparts) == LK_OK;
	e = lk_keys_by_digests(req->db, cparts.digest, &c.key, &cfound,
	    tparsed ? tparts.digest : cparts.digest, &target, &tfound);
	if (e == LK_OK && !cfound)
		e = LK_ERR_INVALID_KEY;
	if (e == LK_OK && (e = lk_auth_status(req, &c.key)) == LK_OK)
		e = lk_auth_require(req, &c, "verify");
	if (e == LK_OK && tparsed && tfound && lk_auth_sees(&c, &target))
		/* The verified key is counted, not the caller's. */
		e = lk_ratelimit_hit(req->db, req->conf, &target, req->now,
		    precheck(&target, wanted != NULL ? wanted : "", req->now), &rl);
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
