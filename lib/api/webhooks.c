/* webhooks.c — /v1/webhooks: method → auth → scope → fields → model/webhooks → response. */
#include <string.h>

#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/webhooks.h"
#include "base/outbound.h"
#include "http/resp.h"
#include "model/webhooks.h"

static const char *const acct_prefix[] = { "acct_", NULL };

static const struct lk_field create_fields[] = {
	{ "url", LK_FT_TEXT, LK_FF_REQUIRED, LK_OUTBOUND_URL_MAX, NULL },
	{ "events", LK_FT_SCOPES, LK_FF_NULLABLE, 0, NULL },
	{ "description", LK_FT_TEXT, LK_FF_NULLABLE, LK_WEBHOOK_DESC_MAX, NULL },
	{ "account_id", LK_FT_ID, 0, 0, acct_prefix },
	{ NULL, 0, 0, 0, NULL }
};
static const struct lk_field patch_fields[] = {
	{ "url", LK_FT_TEXT, 0, LK_OUTBOUND_URL_MAX, NULL },
	{ "events", LK_FT_SCOPES, LK_FF_NULLABLE, 0, NULL },
	{ "description", LK_FT_TEXT, LK_FF_NULLABLE, LK_WEBHOOK_DESC_MAX, NULL },
	{ "enabled", LK_FT_BOOL, 0, 0, NULL },
	{ NULL, 0, 0, 0, NULL }
};
static const struct lk_field list_fields[] = {
	LK_PAGE_FIELDS,
	{ NULL, 0, 0, 0, NULL }
};

/* Webhooks carry every key's events: a test key, which sees test keys only, has none. */
static enum lk_err
caller(struct lk_req *req, struct lk_caller *c, const char *scope)
{
	enum lk_err e;

	if ((e = lk_auth_caller_scope(req, c, scope)) != LK_OK)
		return e;
	if (lk_auth_only_env(c) != NULL)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "Webhooks are managed with live keys (they carry the events of live keys)");
	return LK_OK;
}

/* The URL rule (SSRF): field url recorded invalid (lk_req_invalid) with why. */
static void
check_url(struct lk_req *req, const char *url)
{
	char why[256];

	if (lk_outbound_check(url, req->conf->webhook_allow_private, why, sizeof(why)) != LK_OK)
		lk_req_invalid(req, "url", "%s", why);
}

/* events as given: "*" when absent or null; recorded invalid if a type is unknown. */
static void
check_events(struct lk_req *req, json_t *f, const char **events)
{
	char why[128];

	*events = json_string_value(json_object_get(f, "events"));
	if (*events == NULL)
		*events = "*";
	else if (!lk_webhook_events_ok(*events, why, sizeof(why)))
		lk_req_invalid(req, "events", "%s", why);
}

/* An endpoint object with its secret: only create and rotate answer with it. */
static void
answer_with_secret(struct lk_req *req, int status, struct lk_webhook *w)
{
	json_t *o = lk_webhook_json(w);

	json_object_set_new(o, "secret", json_string(w->secret));
	OPENSSL_cleanse(w->secret, sizeof(w->secret));
	lk_resp_json(req, status, o);
}

/* The context account's endpoints (lk_auth_list_subtree: the page under the account). */
static enum lk_err
list_webhooks(struct lk_db *db, const struct lk_account *acct, json_t *f __attribute__((unused)),
    struct lk_page *page)
{
	return lk_webhooks_list(db, acct, page);
}

static enum lk_err
list(struct lk_req *req, struct lk_caller *c)
{
	return lk_auth_list_subtree(req, c, list_fields, list_webhooks);
}

static enum lk_err
create(struct lk_req *req, struct lk_caller *c)
{
	struct lk_account	 acct;
	struct lk_webhook	 w;
	const char		*url, *events;
	json_t			*f;
	enum lk_err		 e;

	if ((e = lk_req_no_query(req)) != LK_OK ||
	    (e = lk_req_body_fields(req, create_fields, &f)) != LK_OK)
		return e;
	url = json_string_value(json_object_get(f, "url"));
	e = lk_auth_account(req, c, json_string_value(json_object_get(f, "account_id")), &acct);
	if (e == LK_ERR_NOT_FOUND)
		e = lk_req_fail(req, LK_ERR_FORBIDDEN, "account_id",
		    "Webhooks can only be created in the caller's account or below it");
	if (e == LK_OK) {
		/* every invalid field at once (a form shows each beside its input) */
		check_events(req, f, &events);
		check_url(req, url);
		e = lk_req_invalids(req);
	}
	if (e == LK_OK && (e = lk_webhooks_create(req->db, &c->actor, &acct, url,
	    json_string_value(json_object_get(f, "description")), events, req->now, &w)) == LK_OK)
		answer_with_secret(req, 201, &w);
	json_decref(f);
	return e;
}

static enum lk_err
patch(struct lk_req *req, struct lk_caller *c, struct lk_webhook *w)
{
	struct lk_webhook_patch	 pt = { 0 };
	json_t			*f, *v;
	enum lk_err		 e;

	if ((e = lk_req_body_fields(req, patch_fields, &f)) != LK_OK)
		return e;
	pt.has_url = (pt.url = json_string_value(json_object_get(f, "url"))) != NULL;
	pt.has_events = json_object_get(f, "events") != NULL;
	pt.has_description = (v = json_object_get(f, "description")) != NULL;
	pt.description = json_string_value(v);
	pt.has_enabled = (v = json_object_get(f, "enabled")) != NULL;
	pt.enabled = json_is_true(v);
	if (!pt.has_url && !pt.has_events && !pt.has_description && !pt.has_enabled)
		e = lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "Give url, events, description or enabled");
	else {
		if (pt.has_events)
			check_events(req, f, &pt.events);
		if (pt.has_url)
			check_url(req, pt.url);
		e = lk_req_invalids(req);
	}
	if (e == LK_OK && (e = lk_webhooks_update(req->db, &c->actor, w, &pt, req->now)) == LK_OK)
		lk_resp_json(req, 200, lk_webhook_json(w));
	json_decref(f);
	return e;
}

/* The endpoint id names, if the caller's subtree holds it (else 404). */
static enum lk_err
find(struct lk_req *req, struct lk_caller *c, const char *id, struct lk_webhook *w)
{
	struct lk_account	acct;
	enum lk_err		e;

	if (!lk_crypto_public_id_ok(id, "wh_"))
		return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such webhook");
	e = lk_webhooks_get(req->db, id, w);
	if (e == LK_OK)
		e = lk_auth_account(req, c, w->owner.public_id, &acct);
	if (e == LK_ERR_NOT_FOUND)
		return lk_req_fail(req, e, NULL, "No such webhook");
	return e;
}

static enum lk_err
item(struct lk_req *req, const char *id)
{
	struct lk_caller	 c;
	struct lk_webhook	 w;
	enum lk_err		 e;

	if (req->method != LK_GET && req->method != LK_PATCH && req->method != LK_DELETE)
		return lk_req_method_not_allowed(req, "GET, PATCH, DELETE");
	if ((e = caller(req, &c, req->method == LK_GET ? "webhooks:read" : "webhooks:write")) !=
	    LK_OK || (e = lk_req_no_query(req)) != LK_OK || (e = find(req, &c, id, &w)) != LK_OK)
		return e;
	switch (req->method) {
	case LK_GET:
		lk_resp_json(req, 200, lk_webhook_json(&w));
		return LK_OK;
	case LK_DELETE:
		if ((e = lk_webhooks_delete(req->db, &c.actor, &w, req->now)) == LK_OK)
			lk_resp_json(req, 204, NULL);
		return e;
	default:
		return patch(req, &c, &w);
	}
}

/* POST /v1/webhooks/{id}/rotate, /test; GET …/messages; POST …/messages/{msg}/resend. */
static enum lk_err
action(struct lk_req *req, const char *id, const char *what, const char *msg)
{
	struct lk_caller	 c;
	struct lk_webhook	 w;
	char			 msg_id[LK_PUBLIC_ID_MAX];
	struct lk_page		 page;
	json_t			*f;
	bool			 read = strcmp(what, "messages") == 0 && msg == NULL;
	enum lk_err		 e;

	if (req->method != (read ? LK_GET : LK_POST))
		return lk_req_method_not_allowed(req, read ? "GET" : "POST");
	if ((e = caller(req, &c, read ? "webhooks:read" : "webhooks:write")) != LK_OK ||
	    (!read && (e = lk_req_no_query(req)) != LK_OK) ||
	    (e = find(req, &c, id, &w)) != LK_OK)
		return e;
	if (strcmp(what, "rotate") == 0) {
		if ((e = lk_webhooks_rotate(req->db, &c.actor, &w,
		    req->conf->webhook_secret_overlap, req->now)) == LK_OK)
			answer_with_secret(req, 200, &w);
		return e;
	}
	if (strcmp(what, "test") == 0) {
		if ((e = lk_webhooks_send_test(req->db, &w, req->now, msg_id)) == LK_OK)
			lk_resp_json(req, 202, json_pack("{s:s,s:s}", "message_id", msg_id,
			    "type", "webhook.test"));
		return e;
	}
	if (msg != NULL) {
		e = lk_webhooks_resend(req->db, &c.actor, &w, msg, req->now);
		if (e == LK_ERR_NOT_FOUND)
			return lk_req_fail(req, e, NULL, "No such message");
		if (e == LK_OK)
			lk_resp_json(req, 202, json_pack("{s:s,s:s}", "message_id", msg,
			    "status", "pending"));
		return e;
	}
	if ((e = lk_req_fields(req, req->query, list_fields, &f)) != LK_OK)
		return e;
	if ((e = lk_req_page(req, f, &page)) == LK_OK &&
	    (e = lk_webhooks_messages(req->db, &w, &page)) == LK_OK)
		lk_resp_json(req, 200, lk_page_json(&page));
	lk_page_free(&page);
	json_decref(f);
	return e;
}

static enum lk_err
collection(struct lk_req *req)
{
	struct lk_caller	c;
	enum lk_err		e;

	if (req->method != LK_GET && req->method != LK_POST)
		return lk_req_method_not_allowed(req, "GET, POST");
	if ((e = caller(req, &c, req->method == LK_GET ? "webhooks:read" : "webhooks:write")) !=
	    LK_OK)
		return e;
	return req->method == LK_GET ? list(req, &c) : create(req, &c);
}

enum lk_err
lk_webhooks_http(struct lk_req *req)
{
	if (req->nsegs < 1 || strcmp(req->segs[0], "webhooks") != 0)
		return lk_req_no_route(req);
	if (req->nsegs == 1)
		return collection(req);
	if (req->nsegs == 2)
		return item(req, req->segs[1]);
	if (req->nsegs == 3 && (strcmp(req->segs[2], "rotate") == 0 ||
	    strcmp(req->segs[2], "test") == 0 || strcmp(req->segs[2], "messages") == 0))
		return action(req, req->segs[1], req->segs[2], NULL);
	if (req->nsegs == 5 && strcmp(req->segs[2], "messages") == 0 &&
	    strcmp(req->segs[4], "resend") == 0)
		return action(req, req->segs[1], "messages", req->segs[3]);
	return lk_req_no_route(req);
}
