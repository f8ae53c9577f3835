/* authz.c — per-location rules and the authorizer's decision (no rule here is written twice: keys via auth.c). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uriparser/Uri.h>

#include "auth.h"
#include "authz.h"
#include "log.h"
#include "req.h"

#define LK_AUTHZ_M_GET		0x01
#define LK_AUTHZ_M_HEAD		0x02
#define LK_AUTHZ_M_POST		0x04
#define LK_AUTHZ_M_PUT		0x08
#define LK_AUTHZ_M_PATCH	0x10
#define LK_AUTHZ_M_DELETE	0x20
#define LK_AUTHZ_M_OPTIONS	0x40

static const struct {
	const char	*name;
	unsigned int	 bit;
} method_names[] = {
	{ "GET", LK_AUTHZ_M_GET },
	{ "HEAD", LK_AUTHZ_M_HEAD },
	{ "POST", LK_AUTHZ_M_POST },
	{ "PUT", LK_AUTHZ_M_PUT },
	{ "PATCH", LK_AUTHZ_M_PATCH },
	{ "DELETE", LK_AUTHZ_M_DELETE },
	{ "OPTIONS", LK_AUTHZ_M_OPTIONS },
};

/* The bit of a method name, n bytes of m; 0 if unknown. */
static unsigned int
method_bit(const char *m, size_t n)
{
	size_t i;

	for (i = 0; m != NULL && i < LK_NELEM(method_names); i++)
		if (strlen(method_names[i].name) == n && strncmp(m, method_names[i].name, n) == 0)
			return method_names[i].bit;
	return 0;
}

bool
lk_authz_action_parse(const char *text, enum lk_authz_action *action, char *scopes,
    char *why, size_t whysz)
{
	const char	*bad, *p;
	size_t		 n;

	scopes[0] = '\0';
	text += strspn(text, " ,");
	n = strlen(text);
	while (n > 0 && strchr(" ,\t", text[n - 1]) != NULL)
		n--;
	/* The two keywords (never scope names here). */
	if ((n == 4 && strncmp(text, "deny", 4) == 0) || (n == 7 && strncmp(text, "any-key", 7) == 0)) {
		*action = n == 4 ? LK_AUTHZ_DENY : LK_AUTHZ_ANY_KEY;
		return true;
	}
	if (*text == '\0') {
		snprintf(why, whysz, "expected deny, any-key or a list of scopes");
		return false;
	}
	if (!lk_scopes_add_text(scopes, LK_AUTHZ_SCOPES_BUF, text, &bad)) {
		snprintf(why, whysz, "'%.80s' %s (deny, any-key, or at most %d scopes)",
		    text, bad, LK_AUTHZ_SCOPES_MAX);
		return false;
	}
	for (p = scopes, n = 1; (p = strchr(p, ' ')) != NULL; p++)
		n++;
	if (n > LK_AUTHZ_SCOPES_MAX) {
		snprintf(why, whysz, "at most %d scopes per rule", LK_AUTHZ_SCOPES_MAX);
		return false;
	}
	*action = LK_AUTHZ_SCOPES;
	return true;
}

/* Parse "GET,POST" into bits (GET also covers HEAD); false for an unknown name. */
static bool
parse_methods(const char *text, unsigned int *bits, char *why, size_t whysz)
{
	unsigned int	 bit;
	size_t		 n;

	*bits = 0;
	while (*text != '\0') {
		n = strcspn(text, ",");
		if ((bit = method_bit(text, n)) == 0) {
			snprintf(why, whysz, "unknown method '%.*s' (GET HEAD POST PUT PATCH "
			    "DELETE OPTIONS)", (int)(n < 16 ? n : 16), text);
			return false;
		}
		*bits |= bit == LK_AUTHZ_M_GET ? LK_AUTHZ_M_GET | LK_AUTHZ_M_HEAD : bit;
		text += n + (text[n] == ',');
	}
	return true;
}

bool
lk_authz_rule_add(struct lk_authz *a, const char *text, char *why, size_t whysz)
{
	struct lk_authz_rule	*r;
	char			 buf[1024], norm[LK_AUTHZ_PREFIX_MAX], *p, *prefix, *methods = NULL;
	size_t			 n;

	if (a->nrules == LK_AUTHZ_RULES_MAX) {
		snprintf(why, whysz, "more than %d authz_rule lines", LK_AUTHZ_RULES_MAX);
		return false;
	}
	if (strlen(text) >= sizeof(buf)) {
		snprintf(why, whysz, "authz_rule is too long");
		return false;
	}
	for (n = 0; text[n] != '\0'; n++)
		buf[n] = text[n] == '\t' ? ' ' : text[n];
	buf[n] = '\0';
	prefix = buf + strspn(buf, " ");
	p = prefix + strcspn(prefix, " ");
	if (*p != '\0')
		*p++ = '\0';
	p += strspn(p, " ");
	/* An all-uppercase word after the prefix is the method list (scopes are lowercase). */
	if (*p >= 'A' && *p <= 'Z') {
		methods = p;
		p += strcspn(p, " ");
		if (*p != '\0')
			*p++ = '\0';
	}
	if (strchr(prefix, '%') != NULL || !lk_authz_path(prefix, norm, sizeof(norm)) ||
	    strcmp(prefix, norm) != 0) {
		snprintf(why, whysz, "authz_rule: the prefix '%.80s' must be a plain path "
		    "starting with '/' (no %%-escapes, '//', '.' or '..')", prefix);
		return false;
	}
	r = &a->rules[a->nrules];
	memset(r, 0, sizeof(*r));
	/* "/a/b/" and "/a/b" are one rule: the path and everything below it. */
	n = strlen(norm);
	if (n > 1 && norm[n - 1] == '/')
		norm[n - 1] = '\0';
	snprintf(r->prefix, sizeof(r->prefix), "%s", norm);
	if (methods != NULL && !parse_methods(methods, &r->methods, why, whysz))
		return false;
	if (!lk_authz_action_parse(p, &r->action, r->scopes, why, whysz))
		return false;
	a->nrules++;
	return true;
}

bool
lk_authz_default_set(struct lk_authz *a, const char *text, char *why, size_t whysz)
{
	if (strcmp(text, "deny") == 0)
		a->dflt = LK_AUTHZ_DENY;
	else if (strcmp(text, "any-key") == 0)
		a->dflt = LK_AUTHZ_ANY_KEY;
	else {
		snprintf(why, whysz, "authz_default must be deny or any-key");
		return false;
	}
	return true;
}

/* True if the rule's prefix is path or an ancestor of it (at a '/' boundary). */
static bool
covers(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	if (n == 1)
		return true;	/* "/" */
	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const struct lk_authz_rule *
lk_authz_match(const struct lk_authz *a, const char *method, const char *path)
{
	const struct lk_authz_rule	*best = NULL;
	unsigned int			 bit = method_bit(method, method != NULL ? strlen(method) : 0);
	size_t				 i, blen = 0, n;

	for (i = 0; i < a->nrules; i++) {
		const struct lk_authz_rule *r = &a->rules[i];

		if (!covers(r->prefix, path) ||
		    (r->methods != 0 && (r->methods & bit) == 0))
			continue;
		n = strlen(r->prefix);
		if (best == NULL || n > blen ||
		    (n == blen && best->methods == 0 && r->methods != 0)) {
			best = r;
			blen = n;
		}
	}
	return best;
}

bool
lk_authz_path(const char *uri, char *out, size_t size)
{
	char	*buf, *seg, *save = NULL;
	size_t	 len = 0, n;
	bool	 ok = uri[0] == '/' && size >= 2, trailing;

	if (!ok || (buf = strndup(uri, strcspn(uri, "?#"))) == NULL)
		return false;
	/* Refuse what unescaping would turn into a NUL or leave ambiguous. */
	for (seg = buf; (seg = strchr(seg, '%')) != NULL; seg++)
		if (!isxdigit((unsigned char)seg[1]) || !isxdigit((unsigned char)seg[2]) ||
		    (seg[1] == '0' && seg[2] == '0'))
			ok = false;
	if (ok)
		uriUnescapeInPlaceExA(buf, URI_FALSE, URI_BR_DONT_TOUCH);
	/* A last segment "", "." or ".." names a directory: the result keeps its '/'. */
	seg = strrchr(buf, '/');
	trailing = seg != NULL && (seg[1] == '\0' || strcmp(seg + 1, ".") == 0 ||
	    strcmp(seg + 1, "..") == 0);
	/* Rebuild segment by segment: empty and "." dropped, ".." pops. */
	out[0] = '\0';
	for (seg = strtok_r(buf, "/", &save); ok && seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0) {
			if (len == 0)
				ok = false;
			while (len > 0 && out[--len] != '/')
				;
			out[len] = '\0';
			continue;
		}
		n = strlen(seg);
		if (len + 1 + n + 1 > size) {
			ok = false;
			break;
		}
		out[len++] = '/';
		memcpy(out + len, seg, n + 1);
		len += n;
	}
	if (ok && (len == 0 || trailing)) {
		if (len + 2 > size)
			ok = false;
		else
			memcpy(out + len, "/", 2);
	}
	free(buf);
	if (!ok)
		out[0] = '\0';
	return ok;
}

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
	variable(head, sizeof(head), "LATCHKEY_ACCOUNT_ID", k->account_public);
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
	enum lk_err		 e;

	if ((e = rule_for(req, &rule)) != LK_OK)
		return e;
	if (rule.action == LK_AUTHZ_DENY)
		return lk_req_fail(req, LK_ERR_FORBIDDEN, NULL,
		    "No API key gives access to this location");
	if ((e = lk_auth_caller(req, &c)) != LK_OK)
		return e;
	if (rule.action == LK_AUTHZ_SCOPES &&
	    !lk_scopes_grantable(c.key.scopes, rule.scopes, &bad, &badlen)) {
		snprintf(scope, sizeof(scope), "%.*s", (int)badlen, bad);
		return lk_auth_require(req, &c, scope);
	}
	grant(req, &c);
	return LK_OK;
}
