/*
 * verify.c — POST /v1/verify {"key", "scopes", "ip", "cost"}: is this key good,
 * for the caller's subtree (and, for a test caller, a test key)? Both keys
 * are checked in memory first, then fetched together with one indexed read;
 * a found key's use is decided and counted by model/use (the policies in
 * their order, one write; the caller is not counted) and answered by
 * model/verify, which `latchkey key verify` uses too.
 */
#include <string.h>

#include "api/auth.h"
#include "api/verify.h"
#include "http/resp.h"
#include "model/cache.h"
#include "model/verify.h"

enum lk_err
lk_verify_http(struct lk_req *req)
{
	static struct lk_out	 out;	/* lives for the process */
	struct lk_keyparts	 cparts, tparts;
	struct lk_caller	 c;
	struct lk_key		 target;
	bool			 cfound, tfound = false, tparsed;
	struct lk_use		 use;
	const char		*key, *why;
	json_t			*f, *cost;
	enum lk_err		 e;

	if (req->nsegs != 1 || strcmp(req->segs[0], "verify") != 0)
		return lk_req_no_route(req);
	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_auth_credential(req, &cparts)) != LK_OK ||
	    (e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, lk_verify_fields, &f)) != LK_OK)
		return e;
	key = json_string_value(json_object_get(f, "key"));
	use.now = req->now;
	use.wanted = json_string_value(json_object_get(f, "scopes"));
	use.ip = json_string_value(json_object_get(f, "ip"));
	use.cost = (cost = json_object_get(f, "cost")) != NULL ? json_integer_value(cost) : 1;
	if ((why = lk_verify_ip_why(use.ip)) != NULL) {
		json_decref(f);
		return lk_req_fail(req, LK_ERR_VALIDATION, "ip", "ip %s", why);
	}
	tparsed = lk_keyfmt_presented(key, strlen(key), req->conf->key_prefix, &tparts) == LK_OK;
	e = lk_cache_keys_by_digests(req->db, req->conf, cparts.digest, &c.key, &cfound,
	    tparsed ? tparts.digest : cparts.digest, &target, &tfound);
	if (e == LK_OK && !cfound)
		e = LK_ERR_INVALID_KEY;
	if (e == LK_OK && (e = lk_auth_status(req, &c.key)) == LK_OK)
		e = lk_auth_require(req, &c, "verify");
	if (e == LK_OK && tparsed && tfound && lk_auth_sees(&c, &target))
		/* The verified key is counted, not the caller's. */
		e = lk_verify_found(req->db, req->conf, &target, &use, &out);
	else if (e == LK_OK)
		lk_verify_invalid(&out);
	json_decref(f);
	if (e == LK_OK)
		lk_resp_out(req, 200, &out);
	return e;
}
