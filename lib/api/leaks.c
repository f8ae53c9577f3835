/*
 * leaks.c — leaked-key reports: the GitHub partner route (signature → tokens →
 * model/leaks → feedback) and POST /v1/leaks (the key itself or keys:write).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/leaks.h"
#include "base/scanning.h"
#include "http/resp.h"
#include "model/leaks.h"

/* The source of GitHub's reports: "github:" and GitHub's own (content, commit, …). */
#define GITHUB_SOURCE	"github"

static const struct lk_field report_fields[] = {
	{ "key", LK_FT_TEXT, LK_FF_REQUIRED, LK_KEY_FOREIGN_MAX, NULL },
	{ "url", LK_FT_TEXT, LK_FF_NULLABLE, LK_LEAK_URL_MAX, NULL },
	{ "source", LK_FT_TEXT, LK_FF_NULLABLE, LK_LEAK_SOURCE_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* The JSON body as sent: a new reference in *doc, or the error answered. */
static enum lk_err
read_json(struct lk_req *req, char **raw, size_t *len, json_t **doc)
{
	json_error_t	jerr;
	enum lk_err	e;

	*doc = NULL;
	if ((e = lk_req_read_raw(req, req->conf->max_body, raw, len)) != LK_OK)
		return e;
	if (*raw == NULL)
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL, "The body is missing");
	if ((*doc = json_loadb(*raw, *len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL, "The body is not valid JSON: %s",
		    jerr.text);
	return LK_OK;
}

/* A string member of o, or def when absent or not a string. */
static const char *
str(json_t *o, const char *name, const char *def)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s != NULL ? s : def;
}

/* s into out (size bytes), cut if longer at a character boundary (the columns are UTF-8). */
static void
cut_copy(char *out, size_t size, const char *s)
{
	size_t n;

	if ((size_t)snprintf(out, size, "%s", s) < size)
		return;
	for (n = size - 1; n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80; n--)
		;
	out[n] = '\0';
}

/*
 * One GitHub report: true_positive if the token is a key here (now reported),
 * else false_positive. A url or source too long to keep is cut.
 */
static enum lk_err
github_item(struct lk_req *req, const struct lk_actor *actor, json_t *item, json_t *out)
{
	struct lk_leak_result	 r;
	struct lk_key		 k;
	char			 url[LK_LEAK_URL_MAX + 1], source[LK_LEAK_SOURCE_MAX + 1];
	const char		*token = str(item, "token", NULL);
	enum lk_err		 e;

	if (token == NULL)
		return lk_req_fail(req, LK_ERR_VALIDATION, "token",
		    "Each report must be an object with a string 'token'");
	e = lk_leaks_find(req->db, req->conf->key_prefix, token, strlen(token), &k);
	if (e == LK_OK) {
		cut_copy(url, sizeof(url), str(item, "url", ""));
		snprintf(source, sizeof(source), "%s:", GITHUB_SOURCE);
		cut_copy(source + strlen(source), sizeof(source) - strlen(source),
		    str(item, "source", ""));
		e = lk_leaks_report(req->db, actor, &k, url, source, req->now, &r);
	}
	if (e != LK_OK && e != LK_ERR_NOT_FOUND)
		return e;
	json_array_append_new(out, json_pack("{s:s,s:s,s:s}", "token_raw", token,
	    "token_type", str(item, "type", ""),
	    "label", e == LK_OK ? "true_positive" : "false_positive"));
	return LK_OK;
}

/*
 * POST /v1/leaks/github: the signature over the raw body first (nothing is
 * read from the body before it verifies), then each token.
 */
static enum lk_err
github(struct lk_req *req)
{
	const struct lk_actor	 actor = { "github", req->ip, req->request_id };
	char			 why[128] = "", *raw = NULL;
	size_t			 len = 0, i;
	json_t			*doc = NULL, *item, *out;
	enum lk_err		 e;

	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_read_raw(req, req->conf->max_body, &raw, &len)) != LK_OK)
		return e;
	e = lk_scanning_verify(req->conf->github_secret_scanning_keys_file,
	    lk_req_param(req, "HTTP_GITHUB_PUBLIC_KEY_IDENTIFIER"),
	    lk_req_param(req, "HTTP_GITHUB_PUBLIC_KEY_SIGNATURE"),
	    raw != NULL ? raw : "", len, why, sizeof(why));
	if (e != LK_OK) {
		free(raw);
		return lk_req_fail(req, e, NULL, "%s", why);
	}
	doc = raw != NULL ? json_loadb(raw, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
	free(raw);
	if (!json_is_array(doc)) {
		json_decref(doc);
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "The body must be a JSON array of {\"token\", \"type\", \"url\", \"source\"}");
	}
	out = json_array();
	json_array_foreach(doc, i, item)
		if ((e = github_item(req, &actor, item, out)) != LK_OK)
			break;
	json_decref(doc);
	if (e != LK_OK) {
		json_decref(out);
		return e;
	}
	lk_resp_json(req, 200, out);
	return LK_OK;
}

/* One validated report of POST /v1/leaks and the key it names. */
struct report {
	json_t		*f;
	struct lk_key	 k;
	bool		 self;	/* the key is the one presented */
};

/* Name item i of a refused batch (details.index). */
static enum lk_err
item_fail(struct lk_req *req, size_t i, enum lk_err e)
{
	lk_req_detail(req, "index", json_integer((json_int_t)i));
	return e;
}

/*
 * Validate item i into rp: its fields, and whether its key is the one
 * presented (their digests; nothing read yet).
 */
static enum lk_err
check_item(struct lk_req *req, json_t *item, size_t i, const struct lk_keyparts *cred,
    struct report *rp)
{
	struct lk_keyparts	 kp;
	const char		*key;
	enum lk_err		 e;

	if (!json_is_object(item))
		return item_fail(req, i, lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "Each report must be a JSON object {\"key\", \"url\", \"source\"}"));
	if ((e = lk_req_fields(req, item, report_fields, &rp->f)) != LK_OK)
		return item_fail(req, i, e);
	key = json_string_value(json_object_get(rp->f, "key"));
	rp->self = lk_keyfmt_presented(key, strlen(key), req->conf->key_prefix, &kp) == LK_OK &&
	    lk_crypto_equal(kp.digest, cred->digest, LK_SHA256_LEN);
	lk_crypto_wipe(&kp, sizeof(kp));
	return LK_OK;
}

/*
 * Every report is checked (fields, the caller, each key found and the
 * caller's to report) before any is acted on: a refused batch changes
 * nothing. A caller reporting only the key it presents needs nothing more
 * (anyone holding a key may report it, whatever its state); any other is
 * authenticated first, then needs keys:write over each key's account.
 */
static enum lk_err
reports(struct lk_req *req, json_t *items, bool one)
{
	struct lk_keyparts	 cred;
	struct lk_caller	 c;
	struct lk_actor		 self;
	struct lk_leak_result	 r;
	struct report		*rp;
	const char		*key;
	json_t			*out = NULL;
	size_t			 n = json_array_size(items), i;
	bool			 all_self = true;
	enum lk_err		 e;

	if ((e = lk_auth_credential(req, &cred)) != LK_OK)
		return e;
	if ((rp = calloc(n, sizeof(*rp))) == NULL)
		return LK_ERR_INTERNAL;
	for (i = 0; i < n && e == LK_OK; i++)
		if ((e = check_item(req, json_array_get(items, i), i, &cred, &rp[i])) == LK_OK)
			all_self = all_self && rp[i].self;
	if (e == LK_OK && !all_self)
		e = lk_auth_caller_scope(req, &c, "keys:write");
	for (i = 0; i < n && e == LK_OK; i++) {
		key = json_string_value(json_object_get(rp[i].f, "key"));
		e = lk_leaks_find(req->db, req->conf->key_prefix, key, strlen(key), &rp[i].k);
		if (e == LK_ERR_NOT_FOUND && all_self)
			e = LK_ERR_INVALID_KEY;	/* the credential itself is no key */
		else if (e == LK_ERR_NOT_FOUND || (e == LK_OK && !all_self &&
		    !lk_auth_sees(&c, &rp[i].k)))
			e = item_fail(req, i, lk_req_fail(req, LK_ERR_NOT_FOUND, "key",
			    "No such key"));
	}
	if (e == LK_OK && all_self)
		self = (struct lk_actor){ rp[0].k.public_id, req->ip, req->request_id };
	out = json_array();
	for (i = 0; i < n && e == LK_OK; i++) {
		/* what a report records: its url ("" if none given), its source ("api") */
		const char *url = str(rp[i].f, "url", ""), *source = str(rp[i].f, "source", "api");

		if ((e = lk_leaks_report(req->db, all_self ? &self : &c.actor, &rp[i].k, url, source,
		    req->now, &r)) == LK_OK)
			json_array_append_new(out, json_pack("{s:o,s:s,s:s,s:b,s:b}", "key",
			    lk_key_json(&rp[i].k, req->now), "url", url, "source", source,
			    "recorded", r.recorded, "revoked", r.revoked));
	}
	if (e == LK_OK)
		lk_resp_json(req, 200, one ? json_incref(json_array_get(out, 0)) :
		    json_pack("{s:O}", "data", out));
	json_decref(out);
	for (i = 0; i < n; i++)
		json_decref(rp[i].f);
	free(rp);
	return e;
}

/* POST /v1/leaks: one report (an object) or up to LK_LEAKS_BATCH_MAX (an array). */
static enum lk_err
report(struct lk_req *req)
{
	char		*raw = NULL;
	size_t		 len;
	json_t		*doc, *items;
	enum lk_err	 e;

	if (req->method != LK_POST)
		return lk_req_method_not_allowed(req, "POST");
	if ((e = lk_req_no_query(req)) != LK_OK || (e = read_json(req, &raw, &len, &doc)) != LK_OK) {
		free(raw);
		return e;
	}
	lk_crypto_wipe(raw, len);
	free(raw);
	if (json_is_object(doc))
		items = json_pack("[O]", doc);
	else if (json_is_array(doc) && json_array_size(doc) >= 1 &&
	    json_array_size(doc) <= LK_LEAKS_BATCH_MAX)
		items = json_incref(doc);
	else {
		json_decref(doc);
		lk_req_detail(req, "max_items", json_integer(LK_LEAKS_BATCH_MAX));
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "The body must be a report {\"key\", \"url\", \"source\"} or an array of 1 to %d",
		    LK_LEAKS_BATCH_MAX);
	}
	e = reports(req, items, json_is_object(doc));
	json_decref(items);
	json_decref(doc);
	return e;
}

enum lk_err
lk_leaks_http(struct lk_req *req)
{
	if (req->nsegs < 1 || strcmp(req->segs[0], "leaks") != 0)
		return lk_req_no_route(req);
	if (req->nsegs == 1)
		return report(req);
	if (req->nsegs == 2 && strcmp(req->segs[1], "github") == 0)
		return github(req);
	return lk_req_no_route(req);
}
