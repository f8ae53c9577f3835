/*
 * authz_rules.h — the authorizer's per-location rules from the config
 * ("authz_rule", "authz_default"): parsing, longest-prefix matching, path
 * normalisation. Pure: below conf, nothing here touches a request or the DB.
 */
#ifndef LK_AUTHZ_RULES_H
#define LK_AUTHZ_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "base/scopes.h"

#define LK_AUTHZ_RULES_MAX	64
#define LK_AUTHZ_PREFIX_MAX	256
#define LK_AUTHZ_SCOPES_MAX	8	/* required scopes per rule */
#define LK_AUTHZ_SCOPES_BUF	(LK_AUTHZ_SCOPES_MAX * (LK_SCOPE_MAX_LEN + 2) + 1)
#define LK_AUTHZ_PATH_MAX	2048

/* What a location asks for. LK_AUTHZ_DENY is 0: a zeroed rule set denies. */
enum lk_authz_action {
	LK_AUTHZ_DENY,		/* nobody gets in (403 without reading a key) */
	LK_AUTHZ_ANY_KEY,	/* any valid key */
	LK_AUTHZ_SCOPES		/* a valid key holding every scope of the rule */
};

struct lk_authz_rule {
	char			 prefix[LK_AUTHZ_PREFIX_MAX];	/* "/" or "/a/b" (no trailing '/') */
	unsigned int		 methods;	/* LK_AUTHZ_M_* bits; 0: every method */
	enum lk_authz_action	 action;
	char			 scopes[LK_AUTHZ_SCOPES_BUF];	/* space-separated, LK_AUTHZ_SCOPES */
};

/* The rules of a config file ("authz_rule" lines in file order, "authz_default"). */
struct lk_authz {
	struct lk_authz_rule	 rules[LK_AUTHZ_RULES_MAX];
	size_t			 nrules;
	enum lk_authz_action	 dflt;		/* LK_AUTHZ_DENY or LK_AUTHZ_ANY_KEY */
};

/*
 * Parse an action: "deny", "any-key", or a list of scopes (space or comma
 * separated, at most LK_AUTHZ_SCOPES_MAX) into *action and scopes (size
 * LK_AUTHZ_SCOPES_BUF). On false, why says what is wrong.
 */
bool	lk_authz_action_parse(const char *text, enum lk_authz_action *action,
	    char *scopes, char *why, size_t whysz);

/*
 * Add the rule "PREFIX [METHODS] ACTION" (e.g. "/api/admin/ GET,POST admin")
 * to a. PREFIX starts with '/' and names that path and everything below it
 * ("/api" and "/api/" are the same rule; "/apix" is not below it); METHODS is
 * a comma-separated list of GET HEAD POST PUT PATCH DELETE OPTIONS (GET also
 * covers HEAD). On false, why says what is wrong.
 */
bool	lk_authz_rule_add(struct lk_authz *a, const char *text, char *why, size_t whysz);

/* Set a->dflt from "deny" or "any-key". */
bool	lk_authz_default_set(struct lk_authz *a, const char *text, char *why, size_t whysz);

/*
 * The rule for method and path (a decoded, normalised path): among the rules
 * whose prefix covers path and whose methods include method (or that name no
 * method), the longest prefix wins; on equal prefixes a rule naming methods
 * wins over one that does not, then the first in the file. NULL: the default.
 */
const struct lk_authz_rule *lk_authz_match(const struct lk_authz *a, const char *method,
	    const char *path);

/*
 * Percent-decode the path part of a request URI (the query is cut off) and
 * normalise it as the web servers do: "//" merged, "." and ".." resolved.
 * False for an encoded NUL, a bad %-escape, ".." above the root, a path not
 * starting with '/' or longer than size - 1 bytes.
 */
bool	lk_authz_path(const char *uri, char *out, size_t size);

#endif
