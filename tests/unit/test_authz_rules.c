/* test_authz_rules.c — the authorizer's rules: syntax, longest prefix, methods, default, path normalisation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/authz_rules.h"
#include "base/conf.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct lk_conf	conf;	/* large: keep it off the stack */

static struct lk_authz *
rules(const char *text)
{
	char err[256];

	lk_conf_defaults(&conf);
	err[0] = '\0';
	if (lk_conf_parse(&conf, text, err, sizeof(err)) != LK_OK)
		fail_msg("config refused: %s\n%s", err, text);
	return &conf.authz;
}

static const char example[] =
	"authz_rule = /api/ tasks:read\n"
	"authz_rule = /api/admin/ GET,POST admin\n"
	"authz_rule = /api/admin/ DELETE admin, audit:read\n"
	"authz_rule = /api/tasks   POST,PUT,PATCH tasks:write\n"
	"authz_rule = /api/tasks/public any-key\n"
	"authz_rule = /api/internal deny\n"
	"authz_rule = /api/admin/reports audit:read\n"
	"authz_default = any-key\n";

/* What the rules ask of method + path: "deny", "any-key", or the scopes ("(default)" appended when no rule matched). */
static void
expect_rule(const struct lk_authz *a, const char *method, const char *path, const char *want)
{
	const struct lk_authz_rule	*r = lk_authz_match(a, method, path);
	enum lk_authz_action		 act = r != NULL ? r->action : a->dflt;
	char				 got[LK_AUTHZ_SCOPES_BUF + 32];

	snprintf(got, sizeof(got), "%s%s",
	    act == LK_AUTHZ_DENY ? "deny" : act == LK_AUTHZ_ANY_KEY ? "any-key" : r->scopes,
	    r == NULL ? " (default)" : "");
	if (strcmp(got, want) != 0)
		fail_msg("%s %s: got '%s', want '%s'", method, path, got, want);
}

static void
test_longest_prefix_wins(void **state)
{
	static const struct { const char *method, *path, *want; } cases[] = {
		{ "GET", "/api/x", "tasks:read" },
		{ "GET", "/api", "tasks:read" },
		{ "GET", "/api/", "tasks:read" },
		{ "GET", "/api/admin", "admin" },
		{ "GET", "/api/admin/", "admin" },
		{ "POST", "/api/admin/users/7", "admin" },
		{ "GET", "/api/admin/reports/2026", "audit:read" },
		{ "GET", "/api/adminx", "tasks:read" },		/* a '/' boundary, unlike lighttpd's prefixes */
		{ "GET", "/api/internal/secret", "deny" },
		{ "GET", "/api/internals", "tasks:read" },
		{ "GET", "/api/tasks/public/list", "any-key" },
		{ "POST", "/api/tasks/public/list", "any-key" },
		{ "GET", "/other", "any-key (default)" },
		{ "GET", "/", "any-key (default)" },
		{ "GET", "/apix", "any-key (default)" },
	};
	const struct lk_authz	*a = rules(example);
	size_t			 i;

	(void)state;
	assert_int_equal(a->nrules, 7);
	for (i = 0; i < NELEM(cases); i++)
		expect_rule(a, cases[i].method, cases[i].path, cases[i].want);
}

static void
test_methods(void **state)
{
	const struct lk_authz *a = rules(example);

	(void)state;
	/* a rule naming methods applies to those only; others fall to shorter prefixes */
	expect_rule(a, "POST", "/api/tasks/9", "tasks:write");
	expect_rule(a, "PATCH", "/api/tasks", "tasks:write");
	expect_rule(a, "GET", "/api/tasks/9", "tasks:read");
	expect_rule(a, "DELETE", "/api/tasks/9", "tasks:read");
	/* two rules with one prefix: each for its methods; GET covers HEAD */
	expect_rule(a, "DELETE", "/api/admin/x", "admin audit:read");
	expect_rule(a, "HEAD", "/api/admin/x", "admin");
	expect_rule(a, "PUT", "/api/admin/x", "tasks:read");
	/* unknown or missing methods only match rules that name none */
	expect_rule(a, "BREW", "/api/admin/x", "tasks:read");
	expect_rule(a, NULL, "/api/admin/x", "tasks:read");
	/* equal prefix: the rule naming the method wins over the general one, whatever the order */
	a = rules("authz_rule = /a/ POST b\nauthz_rule = /a/ c\n");
	expect_rule(a, "POST", "/a/1", "b");
	expect_rule(a, "GET", "/a/1", "c");
	a = rules("authz_rule = /a/ c\nauthz_rule = /a/ POST b\n");
	expect_rule(a, "POST", "/a/1", "b");
}

static void
test_default(void **state)
{
	(void)state;
	/* nothing configured: deny */
	expect_rule(rules(""), "GET", "/x", "deny (default)");
	expect_rule(rules("authz_default = deny\n"), "GET", "/x", "deny (default)");
	expect_rule(rules("authz_default = any-key\n"), "GET", "/x", "any-key (default)");
	/* "/" is a rule like any other */
	expect_rule(rules("authz_rule = / x:y\n"), "GET", "/anything/at/all", "x:y");
}

static void
test_rule_syntax_errors(void **state)
{
	static const char *const bad[] = {
		"authz_rule = api/ x\n",		/* not a path */
		"authz_rule = /api/\n",			/* no action */
		"authz_rule = /api/ GET\n",		/* methods but no action */
		"authz_rule = /api/ GET,BREW x\n",	/* unknown method */
		"authz_rule = /api/ GET,,POST x\n",
		"authz_rule = /api/ Bad!scope\n",	/* invalid scope */
		"authz_rule = /api/ a b c d e f g h i\n",	/* more than 8 scopes */
		"authz_rule = /a/../b/ x\n",		/* not normalised */
		"authz_rule = /a//b/ x\n",
		"authz_rule = /a/%41/ x\n",		/* escapes */
		"authz_rule = /a/./b x\n",
		"authz_default = maybe\n",
		"authz_default = admin\n",
	};
	struct lk_conf	*c = &conf;
	char		 err[256];
	size_t		 i;
	int		 n;

	(void)state;
	for (i = 0; i < NELEM(bad); i++) {
		lk_conf_defaults(c);
		err[0] = '\0';
		if (lk_conf_parse(c, bad[i], err, sizeof(err)) == LK_OK)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "line 1"));
	}
	/* at most LK_AUTHZ_RULES_MAX rules */
	{
		static char text[LK_AUTHZ_RULES_MAX * 40 + 64];
		size_t len = 0;

		for (n = 0; n <= LK_AUTHZ_RULES_MAX; n++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "authz_rule = /p%d x\n", n);
		lk_conf_defaults(c);
		assert_int_equal(lk_conf_parse(c, text, err, sizeof(err)), LK_ERR_VALIDATION);
		assert_non_null(strstr(err, "more than"));
	}
}

static void
test_action_parse(void **state)
{
	enum lk_authz_action	 act;
	char			 scopes[LK_AUTHZ_SCOPES_BUF], why[256];

	(void)state;
	assert_true(lk_authz_action_parse("deny", &act, scopes, why, sizeof(why)));
	assert_int_equal(act, LK_AUTHZ_DENY);
	assert_true(lk_authz_action_parse("any-key", &act, scopes, why, sizeof(why)));
	assert_int_equal(act, LK_AUTHZ_ANY_KEY);
	/* blanks around a keyword (an environment value) keep it a keyword, never a scope */
	assert_true(lk_authz_action_parse(" deny \t", &act, scopes, why, sizeof(why)));
	assert_int_equal(act, LK_AUTHZ_DENY);
	assert_true(lk_authz_action_parse("any-key ", &act, scopes, why, sizeof(why)));
	assert_int_equal(act, LK_AUTHZ_ANY_KEY);
	assert_string_equal(scopes, "");
	/* spaces or commas, duplicates dropped, wildcards kept */
	assert_true(lk_authz_action_parse("tasks:read, tasks:read,reports:*", &act, scopes,
	    why, sizeof(why)));
	assert_int_equal(act, LK_AUTHZ_SCOPES);
	assert_string_equal(scopes, "tasks:read reports:*");
	assert_false(lk_authz_action_parse("", &act, scopes, why, sizeof(why)));
	assert_false(lk_authz_action_parse("UPPER", &act, scopes, why, sizeof(why)));
}

static void
test_path_normalisation(void **state)
{
	static const struct { const char *uri, *want; } ok[] = {
		{ "/", "/" },
		{ "/a/b", "/a/b" },
		{ "/a/b/", "/a/b/" },
		{ "/a//b///c", "/a/b/c" },
		{ "/a/./b", "/a/b" },
		{ "/a/x/../b", "/a/b" },
		{ "/a/b/..", "/a/" },
		{ "/a/b/.", "/a/b/" },
		{ "/a/%62", "/a/b" },
		{ "/a/x/%2e%2e/b", "/a/b" },
		{ "/a/%2E%2e/b", "/b" },
		{ "/a%2fb", "/a/b" },
		{ "/a/b?x=/../../c", "/a/b" },
		{ "/a/b#frag", "/a/b" },
		{ "/caf%C3%A9", "/caf\xc3\xa9" },
		{ "/a+b", "/a+b" },
	};
	static const char *const bad[] = {
		"", "a/b", "/..", "/a/../..", "/%2e%2e/x", "/a/%00b", "/a/%zz", "/a/%4", "/a/%",
		"http://host/a",
	};
	char	 out[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		if (!lk_authz_path(ok[i].uri, out, sizeof(out)))
			fail_msg("refused: %s", ok[i].uri);
		if (strcmp(out, ok[i].want) != 0)
			fail_msg("%s: got %s, want %s", ok[i].uri, out, ok[i].want);
	}
	for (i = 0; i < NELEM(bad); i++)
		if (lk_authz_path(bad[i], out, sizeof(out)))
			fail_msg("accepted: '%s' -> %s", bad[i], out);
	/* too long for the buffer */
	assert_false(lk_authz_path("/aaaaaaaaaa/bbbbbbbbbb", out, 12));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_prefix_wins),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_rule_syntax_errors),
		cmocka_unit_test(test_action_parse),
		cmocka_unit_test(test_path_normalisation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
