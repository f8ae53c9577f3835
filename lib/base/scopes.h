/* scopes.h — scope syntax, matching and the grant rule. Scopes are held as one space-separated string. */
#ifndef LK_SCOPES_H
#define LK_SCOPES_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define LK_SCOPE_MAX_LEN	64
#define LK_SCOPES_MAX		32
#define LK_SCOPES_BUF		(LK_SCOPES_MAX * (LK_SCOPE_MAX_LEN + 2) + 1)

/* True if s is [a-z0-9][a-z0-9:._-]{0,63}, optionally ending in one '*'. */
bool	lk_scope_valid(const char *s);

/*
 * True if the held scope covers the wanted one (taken literally): equal, or
 * held is "x*" and wanted starts with "x". Wildcards are for application
 * scopes: they never cover a built-in scope (admin, keys:read, …, audit:read).
 */
bool	lk_scope_covers(const char *held, const char *wanted);

/*
 * True if the space-separated list held allows wanted: "admin" allows
 * everything, otherwise some held scope must cover wanted.
 */
bool	lk_scopes_allow(const char *held, const char *wanted);

/* Room for why a scope list was refused (names the scope and the grammar). */
#define LK_SCOPES_WHY	192

/*
 * Add scope to out, a normalised list (space-separated, no duplicates, at
 * most LK_SCOPES_MAX, size bytes): refused if invalid or if the list is full,
 * with why saying which (the invalid scope named, then the grammar). A scope
 * already in the list is skipped.
 */
bool	lk_scopes_add(char *out, size_t size, const char *scope, char why[LK_SCOPES_WHY]);

/* lk_scopes_add for each word of text, split on spaces and commas (forms, the CLI). */
bool	lk_scopes_add_text(char *out, size_t size, const char *text, char why[LK_SCOPES_WHY]);

/*
 * The words of a space-separated list: the next scope at or after *p (length
 * *len), *p advanced past it; NULL at the end.
 *	for (p = list; (w = lk_scopes_next(&p, &n)) != NULL;) …
 */
const char *lk_scopes_next(const char **p, size_t *len);

/*
 * The grant rule: true if every scope of the space-separated list wanted is
 * allowed by held. On false, *bad (if not NULL) points at the first refused
 * scope inside wanted and *badlen is its length.
 */
bool	lk_scopes_grantable(const char *held, const char *wanted,
	    const char **bad, size_t *badlen);

/*
 * The ceiling rule of a sub-account (grantable_scopes): true if every scope
 * in wanted is under ceiling. An application scope must be covered by one of
 * the ceiling's patterns. A built-in scope (admin, keys:*, accounts:*, verify,
 * audit:read) passes when the ceiling names no built-in scope, else it must
 * be named (admin in the ceiling names them all). On false, *bad / *badlen
 * (may be NULL) point at the first scope outside.
 */
bool	lk_scopes_within_ceiling(const char *ceiling, const char *wanted, const char **bad,
	    size_t *badlen);

/* The scopes string as a JSON array of its scopes. */
json_t	*lk_scopes_json(const char *scopes);

#endif
