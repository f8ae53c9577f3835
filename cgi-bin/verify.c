/*
 * verify — POST /v1/verify {"key": "...", "scopes": [...]}: is this key good,
 * for the caller's subtree (and, for a test caller, a test key)? Both keys are checked in memory first, then
 * fetched together with one indexed read; nothing is written unless
 * last_used_at is stale.
 */
#include <string.h>

#include "auth.h"
#include "resp.h"
#include "serve.h"

static const struct lk_field fields[] = {
	{ "key", LK_FT_TEXT, LK_FF_REQUIRED, 512, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* The first wanted scope that k does not allow, or NULL. */
static const char *
missing_scope(const struct lk_key *k, const char *wanted, char *buf, size_t size)
{
	const char *p = wanted;

	while (*p != '\0') {
		size_t n = strcspn(p, " ");

		if (n > 0 && n < size) {
			memcpy(buf, p, n);
			buf[n] = '\0';
			if (!lk_scopes_allow(k->scopes, buf))
				return buf;
		}
		p += n + (p[n] == ' ');
	}
	return NULL;
}

static json_t *
verdict(struct lk_req *req, const struct lk_key *k, bool found, const char *wanted)
{
	const char	*code = "VALID";
	char		 buf[LK_SCOPE_MAX_LEN + 2];
	json_t		*o;

	if (!found)
		return json_pack("{s:b,s:s}", "valid", 0, "code", "INVALID_API_KEY");
	switch (lk_key_status(k, req->now)) {
	case LK_KEY_REVOKED:
		code = "REVOKED_API_KEY";
		break;
	case LK_KEY_EXPIRED:
		code = "EXPIRED_API_KEY";
		break;
	case LK_KEY_ACTIVE:
		if (missing_scope(k, wanted, buf, sizeof(buf)) != NULL)
			code = "INSUFFICIENT_SCOPE";
		break;
	}
	o = json_pack("{s:b,s:s}", "valid", strcmp(code, "VALID") == 0, "code", code);
	json_object_set_new(o, "key", lk_key_verify_json(k));
	return o;
}

static enum lk_err
handle(struct lk_req *req)
{
	struct lk_keyparts	 cparts, tparts;
	struct lk_caller	 c;
	struct lk_key		 target;
	bool			 cfound, tfound = false, tparsed;
	const char		*key, *wanted;
	json_t			*f, *result;
	enum lk_err		 e;

	if (req->nsegs != 1 || strcmp(req->segs[0], "verify") != 0)
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
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
	if (e != LK_OK) {
		json_decref(f);
		return e;
	}
	lk_auth_actor(req, &c);
	tfound = tparsed && tfound && lk_auth_sees(&c, &target);
	result = verdict(req, &target, tfound, wanted != NULL ? wanted : "");
	json_decref(f);
	if ((e = lk_keys_touch(req->db, &c.key, req->now)) == LK_OK &&
	    json_is_true(json_object_get(result, "valid")) &&
	    strcmp(target.public_id, c.key.public_id) != 0)
		e = lk_keys_touch(req->db, &target, req->now);
	if (e != LK_OK) {
		json_decref(result);
		return e;
	}
	lk_resp_json(req, 200, result);
	return LK_OK;
}

int
main(void)
{
	return lk_serve(handle);
}
