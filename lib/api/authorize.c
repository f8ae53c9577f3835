/* authz.c — the authorizer's decision (rules in authz_rules.c; no rule here is written twice: keys via auth.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/authorize.h"
#include "base/authz_rules.h"
#include "base/log.h"
#include "base/scopes.h"
#include "http/req.h"

/* The rule of this request: LATCHKEY_AUTHZ_SCOPES (environment) overrides the config's rules. */
static enum lk_err
rule_for(struct lk_req *req, struct lk_authz_rule *out)
{
	const struct lk_authz_rule	*r;
	const char			*env = getenv("LATCHKEY_AUTHZ_SCOPES");
	const char			*uri = lk_req_param(req, "REQUEST_URI");
	char				 path[LK_AUTHZ_PATH_MAX], why[256];

	memset(out, 0, sizeof(*out));
	if (env != NULL) {
		if (!lk_authz_action_parse(env, &out->action, out->scopes, why, sizeof(why))) {
			lk_log_err("LATCHKEY_AUTHZ_SCOPES: %s", why);
			return lk_req_fail(req, LK_ERR_INTERNAL, NULL,
			    "The authorizer's LATCHKEY_AUTHZ_SCOPES setting is invalid");
		}
		return LK_OK;
	}
	if (uri == NULL || !lk_authz_path(uri, path, sizeof(path)))
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "The request path cannot be decoded");
	if ((r = lk_authz_match(&req->conf->authz, lk_req_param(req, "REQUEST_METHOD"),
	    path)) != NULL)
		*out = *r;
	else
		out->action = req->conf->authz.dflt;
	return LK_OK;
}

/*
 * A key in the URL of the guarded request is refused as the API refuses it
 * (400; the app does not run), by its shape only: the parameter names are the
 * app's. The query is REQUEST_URI's, the request as the client sent it.
 */
static enum lk_err
check_query(struct lk_req *req)
{
	const char	*uri = lk_req_param(req, "REQUEST_URI");
	const char	*q = uri != NULL ? strchr(uri, '?') : NULL;

	if (q == NULL)
		return LK_OK;
	q++;
	return lk_req_read_query(req, q, strcspn(q, "#"), false);
}

/* Append "Variable-NAME: value\r\n"; bytes a header must not carry (C0, DEL) become '?'. */
static void
variable(char *buf, size_t size, const char *name, const char *value)
{
	size_t len = strlen(buf), i;

	len += (size_t)snprintf(buf + len, size - len, "Variable-%s: ", name);
	for (i = 0; value[i] != '\0' && len + 3 < size; i++) {
		unsigned char c = (unsigned char)value[i];

		buf[len++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	if (len + 3 <= size)
		memcpy(buf + len, "\r\n", 3);
}

/* 200: the app learns who called, and the key's rate-limit state, through Variable-* headers (no body). */
static void
grant(struct lk_req *req, const struct lk_caller *c)
{
	const struct lk_key	*k = &c->key;
	char			 head[4096 + LK_SCOPES_BUF], n[24];

	snprintf(head, sizeof(head), "Status: 200 OK\r\n");
	variable(head, sizeof(head), "LATCHKEY_KEY_ID", k->public_id);
	variable(head, sizeof(head), "LATCHKEY_ACCOUNT_ID", k->owner.public_id);
	variable(head, sizeof(head), "LATCHKEY_SCOPES", k->scopes);
	variable(head, sizeof(head), "LATCHKEY_ENV", k->env);
	variable(head, sizeof(head), "LATCHKEY_KEY_LABEL", k->label);
	variable(head, sizeof(head), "LATCHKEY_REQUEST_ID", req->request_id);
	if (c->rl.counted) {
		snprintf(n, sizeof(n), "%lld", (long long)c->rl.limit);
		variable(head, sizeof(head), "LATCHKEY_RATELIMIT_LIMIT", n);
		snprintf(n, sizeof(n), "%lld", (long long)c->rl.remaining);
		variable(head, sizeof(head), "LATCHKEY_RATELIMIT_REMAINING", n);
		snprintf(n, sizeof(n), "%lld", (long long)c->rl.reset);
		variable(head, sizeof(head), "LATCHKEY_RATELIMIT_RESET", n);
	}
	snprintf(head + strlen(head), sizeof(head) - strlen(head), "\r\n");
	lk_req_write(req, head, strlen(head));
	req->responded = true;
}

enum lk_err
lk_authz_handle(struct lk_req *req)
{
	struct lk_authz_rule	 rule;
	struct lk_caller	 c;
	const char		*bad;
	size_t			 badlen;
	char			 scope[LK_SCOPE_MAX_LEN + 2];
	const char		*role = lk_req_param(req, "FCGI_ROLE");
	enum lk_err		 e;

	if (role == NULL || strcmp(role, "AUTHORIZER") != 0)
		return lk_req_fail(req, LK_ERR_INTERNAL, NULL,
		    "Server misconfiguration: authorize was called in the %s role; it only "
		    "answers in the FastCGI AUTHORIZER role (lighttpd: \"mode\" => "
		    "\"authorizer\"; Apache: AuthnzFcgiDefineProvider + "
		    "AuthnzFcgiCheckAuthnProvider)", role != NULL ? role : "CGI");
	if ((e = check_query(req)) != LK_OK || (e = rule_for(req, &rule)) != LK_OK)
		return e;
	if (rule.action == LK_AUTHZ_DENY)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "No API key gives access to this location");
	if ((e = lk_auth_caller_cached(req, &c, NULL)) != LK_OK)
		return e;
	if (rule.action == LK_AUTHZ_SCOPES &&
	    !lk_scopes_grantable(c.key.scopes, rule.scopes, &bad, &badlen)) {
		snprintf(scope, sizeof(scope), "%.*s", (int)badlen, bad);
		return lk_auth_require(req, &c, scope);
	}
	grant(req, &c);
	return LK_OK;
}
