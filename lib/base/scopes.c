/* scopes.c — scopes are space-separated words; "admin" holds all, "x*" covers every "x…". */
#include <stdio.h>
#include <string.h>

#include "base/scopes.h"

bool
lk_scope_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > 0 && s[n - 1] == '*')
		n--;
	if (n == 0 || n > LK_SCOPE_MAX_LEN)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || strchr(":._-", c) == NULL))
			return false;
	}
	return s[n] == '\0' || s[n + 1] == '\0';
}

/* The scopes latchkey itself interprets: only held exactly (or through admin). */
static const char *const builtin[] = {
	"admin", "keys:read", "keys:write", "keys:import", "accounts:read",
	"accounts:write", "verify", "audit:read", "webhooks:read", "webhooks:write", NULL
};

static bool
is_builtin(const char *w, size_t wn)
{
	int i;

	for (i = 0; builtin[i] != NULL; i++)
		if (strlen(builtin[i]) == wn && memcmp(builtin[i], w, wn) == 0)
			return true;
	return false;
}

/* Same as lk_scope_covers, on (pointer, length) words. */
static bool
covers(const char *h, size_t hn, const char *w, size_t wn)
{
	if (hn > 0 && h[hn - 1] == '*')
		return !is_builtin(w, wn) && wn >= hn - 1 &&
		    memcmp(h, w, hn - 1) == 0;
	return hn == wn && memcmp(h, w, hn) == 0;
}

bool
lk_scope_covers(const char *held, const char *wanted)
{
	return covers(held, strlen(held), wanted, strlen(wanted));
}

const char *
lk_scopes_next(const char **p, size_t *len)
{
	const char *w = *p;

	while (*w == ' ')
		w++;
	if (*w == '\0')
		return NULL;
	*len = strcspn(w, " ");
	*p = w + *len;
	return w;
}

static bool
allow(const char *held, const char *w, size_t wn)
{
	const char	*p = held, *h;
	size_t		 hn;

	while ((h = lk_scopes_next(&p, &hn)) != NULL)
		if ((hn == 5 && memcmp(h, "admin", 5) == 0) || covers(h, hn, w, wn))
			return true;
	return false;
}

bool
lk_scopes_allow(const char *held, const char *wanted)
{
	return allow(held, wanted, strlen(wanted));
}

/* The scope grammar, as every refusal states it. */
#define GRAMMAR "a scope is [a-z0-9][a-z0-9:._-]{0,63} with an optional trailing *"

/*
 * Names the invalid scope by its first 16 characters at most: enough to find it,
 * never a whole secret pasted by mistake (a key's first 16 are its public start).
 */
static bool
invalid(char why[LK_SCOPES_WHY], const char *scope, size_t n)
{
	snprintf(why, LK_SCOPES_WHY, "contains an invalid scope '%.*s%s' (%s)",
	    (int)(n > 16 ? 16 : n), scope, n > 16 ? "..." : "", GRAMMAR);
	return false;
}

bool
lk_scopes_add(char *out, size_t size, const char *scope, char why[LK_SCOPES_WHY])
{
	const char	*p = out, *w;
	size_t		 wn, n = strlen(scope), used = strlen(out), count = 0;

	if (!lk_scope_valid(scope))
		return invalid(why, scope, n);
	while ((w = lk_scopes_next(&p, &wn)) != NULL) {
		if (wn == n && memcmp(w, scope, n) == 0)
			return true;
		count++;
	}
	if (count == LK_SCOPES_MAX || used + n + 2 > size) {
		snprintf(why, LK_SCOPES_WHY, "has too many scopes (at most %d)", LK_SCOPES_MAX);
		return false;
	}
	if (used > 0)
		out[used++] = ' ';
	memcpy(out + used, scope, n + 1);
	return true;
}

bool
lk_scopes_add_text(char *out, size_t size, const char *text, char why[LK_SCOPES_WHY])
{
	char	 word[LK_SCOPE_MAX_LEN + 2];
	size_t	 n;

	for (;;) {
		text += strspn(text, " ,");
		if (*text == '\0')
			return true;
		n = strcspn(text, " ,");
		if (n >= sizeof(word))
			return invalid(why, text, n);
		memcpy(word, text, n);
		word[n] = '\0';
		if (!lk_scopes_add(out, size, word, why))
			return false;
		text += n;
	}
}

bool
lk_scopes_grantable(const char *held, const char *wanted, const char **bad,
    size_t *badlen)
{
	const char	*p = wanted, *w;
	size_t		 wn;

	while ((w = lk_scopes_next(&p, &wn)) != NULL)
		if (!allow(held, w, wn)) {
			if (bad != NULL) {
				*bad = w;
				*badlen = wn;
			}
			return false;
		}
	return true;
}

bool
lk_scopes_within_ceiling(const char *ceiling, const char *wanted, const char **bad,
    size_t *badlen)
{
	const char	*p = ceiling, *w, *c;
	size_t		 wn, cn;
	bool		 names_builtin = false, ok;

	while ((c = lk_scopes_next(&p, &cn)) != NULL)
		names_builtin |= is_builtin(c, cn);
	for (p = wanted; (w = lk_scopes_next(&p, &wn)) != NULL;) {
		const char *q = ceiling;

		ok = is_builtin(w, wn) && !names_builtin;
		while (!ok && (c = lk_scopes_next(&q, &cn)) != NULL)
			ok = covers(c, cn, w, wn) ||
			    (is_builtin(w, wn) && cn == 5 && memcmp(c, "admin", 5) == 0);
		if (!ok) {
			if (bad != NULL) {
				*bad = w;
				*badlen = wn;
			}
			return false;
		}
	}
	return true;
}

json_t *
lk_scopes_json(const char *scopes)
{
	json_t		*a = json_array();
	const char	*p = scopes, *w;
	size_t		 n;

	while ((w = lk_scopes_next(&p, &n)) != NULL)
		json_array_append_new(a, json_stringn(w, n));
	return a;
}
