/* authz_rules.c — the authorizer's rules: parsing, longest-prefix matching, path normalisation (no request, no DB). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uriparser/Uri.h>

#include "base/authz_rules.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

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

	for (i = 0; m != NULL && i < NELEM(method_names); i++)
		if (strlen(method_names[i].name) == n && strncmp(m, method_names[i].name, n) == 0)
			return method_names[i].bit;
	return 0;
}

bool
lk_authz_action_parse(const char *text, enum lk_authz_action *action, char *scopes,
    char *why, size_t whysz)
{
	const char	*p;
	char		 bad[LK_SCOPES_WHY];
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
	if (!lk_scopes_add_text(scopes, LK_AUTHZ_SCOPES_BUF, text, bad)) {
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
