/* test_scopes.c — scope syntax, wildcard matching, "admin", and the grant rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/scopes.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* 64 and 65 characters. */
#define S64	"a123456789012345678901234567890123456789012345678901234567890123"
#define S65	S64 "4"

static void
test_scope_valid_table(void **state)
{
	static const struct { const char *s; bool ok; } cases[] = {
		{ "a", true }, { "0", true }, { "keys:read", true }, { "tasks:*", true },
		{ "tasks*", true }, { "a*", true }, { "a.b_c-d:e", true }, { "9lives", true },
		{ "admin", true }, { "x:", true }, { S64, true }, { S64 "*", true },
		{ "", false }, { "*", false }, { "**", false }, { "a**", false },
		{ "a*b", false }, { "*a", false }, { S65, false }, { S65 "*", false },
		{ "Keys:read", false }, { "keys:READ", false }, { ":keys", false },
		{ ".a", false }, { "_a", false }, { "-a", false }, { "a b", false },
		{ "a,b", false }, { "a/b", false }, { "a\tb", false }, { "caf\xc3\xa9", false },
		{ "a\n", false }, { "a:*:b", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_scope_valid(cases[i].s) != cases[i].ok)
			fail_msg("scope_valid(\"%s\") != %d", cases[i].s, cases[i].ok);
}

static void
test_scope_covers_table(void **state)
{
	static const struct { const char *held, *wanted; bool want; } cases[] = {
		{ "tasks:create", "tasks:create", true },	/* exact */
		{ "tasks:create", "tasks:read", false },
		{ "tasks:create", "tasks:creat", false },
		{ "tasks:create", "tasks:createx", false },
		{ "tasks:create", "tasks:*", false },		/* a literal never covers a wildcard */
		{ "tasks:*", "tasks:create", true },
		{ "tasks:*", "tasks:*", true },
		{ "tasks:*", "tasks:", true },
		{ "tasks:*", "tasks:a:b", true },
		{ "tasks:*", "tasks:c*", true },		/* narrower wildcard */
		{ "tasks:*", "task:x", false },
		{ "tasks:*", "tasks", false },
		{ "tasks:*", "tasksx", false },
		{ "tasks:*", "other:create", false },
		{ "tasks:c*", "tasks:*", false },		/* wider wildcard */
		{ "tasks:c*", "tasks:create", true },
		{ "tasks:c*", "tasks:delete", false },
		{ "tasks*", "tasks:create", true },
		{ "tasks*", "tasksfoo", true },
		{ "verify", "verify", true },
		{ "verify", "verif", false },
		{ "admin", "keys:read", false },		/* "admin" is special only in lists */
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_scope_covers(cases[i].held, cases[i].wanted) != cases[i].want)
			fail_msg("covers(\"%s\", \"%s\") != %d", cases[i].held,
			    cases[i].wanted, cases[i].want);
}

static void
test_scopes_allow_table(void **state)
{
	static const struct { const char *held, *wanted; bool want; } cases[] = {
		{ "admin", "keys:read", true },
		{ "admin", "anything:at-all", true },
		{ "admin", "admin", true },
		{ "verify admin", "accounts:write", true },
		{ "  admin  ", "x", true },
		{ "keys:read keys:write", "keys:write", true },
		{ "keys:read keys:write", "keys:read", true },
		{ "keys:read keys:write", "keys:delete", false },
		{ "keys:read tasks:*", "tasks:create", true },
		{ "keys:read tasks:*", "task:create", false },
		{ "keys:read  verify", "verify", true },	/* double space */
		{ "", "keys:read", false },
		{ "   ", "keys:read", false },
		{ "verify", "admin", false },
		{ "administrator", "keys:read", false },	/* only the exact word */
		{ "admins", "keys:read", false },
		{ "xadmin", "keys:read", false },
		{ "keys:read", "keys", false },
		/* Wildcards are for application scopes: never a built-in one. */
		{ "a*", "admin", false },
		{ "admin*", "admin", false },
		{ "k*", "keys:write", false },
		{ "keys:*", "keys:read", false },
		{ "v*", "verify", false },
		{ "au*", "audit:read", false },
		{ "acc*", "accounts:write", false },
		{ "a*", "app:x", true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_scopes_allow(cases[i].held, cases[i].wanted) != cases[i].want)
			fail_msg("allow(\"%s\", \"%s\") != %d", cases[i].held,
			    cases[i].wanted, cases[i].want);
}

static void
test_scopes_grantable_table(void **state)
{
	/* bad: the first refused word of wanted, NULL if grantable. */
	static const struct { const char *held, *wanted, *bad; } cases[] = {
		{ "admin", "admin keys:read tasks:*", NULL },
		{ "keys:read keys:write tasks:* verify", "tasks:create tasks:* keys:read verify", NULL },
		{ "keys:read", "", NULL },			/* nothing wanted */
		{ "", "", NULL },
		{ "keys:read", "   ", NULL },
		{ "keys:read", "keys:read keys:read", NULL },
		{ "tasks:*", "tasks:c*", NULL },
		{ "keys:read keys:write tasks:* verify", "admin", "admin" },
		{ "keys:read keys:write tasks:* verify", "verify accounts:write", "accounts:write" },
		{ "keys:read keys:write tasks:* verify", "tasks:create billing:read", "billing:read" },
		{ "keys:read keys:write tasks:* verify", "keys:*", "keys:*" },
		{ "keys:read keys:write tasks:* verify", "task:create", "task:create" },
		{ "keys:read keys:write tasks:* verify", "audit:read keys:*", "audit:read" },	/* first of two */
		{ "keys:read", "keys:read  keys:write verify", "keys:write" },
		{ "", "keys:read", "keys:read" },
		{ "tasks:c*", "tasks:*", "tasks:*" },
	};
	const char	*bad;
	size_t		 badlen, i;
	bool		 ok;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		bad = NULL;
		badlen = 999;
		ok = lk_scopes_grantable(cases[i].held, cases[i].wanted, &bad, &badlen);
		if (ok != (cases[i].bad == NULL))
			fail_msg("grantable(\"%s\", \"%s\") = %d", cases[i].held,
			    cases[i].wanted, ok);
		if (ok) {
			assert_null(bad);
			assert_int_equal(badlen, 999);
			continue;
		}
		/* *bad points into wanted, at the refused word, with its length. */
		assert_non_null(bad);
		assert_true(bad >= cases[i].wanted &&
		    bad < cases[i].wanted + strlen(cases[i].wanted));
		if (badlen != strlen(cases[i].bad) ||
		    memcmp(bad, cases[i].bad, badlen) != 0)
			fail_msg("grantable(\"%s\", \"%s\"): bad \"%.*s\", want \"%s\"",
			    cases[i].held, cases[i].wanted, (int)badlen, bad, cases[i].bad);
		assert_ptr_equal(bad, strstr(cases[i].wanted, cases[i].bad));
	}
}

static void
test_scopes_grantable_null_bad(void **state)
{
	(void)state;
	/* bad may be NULL when the caller does not want it. */
	assert_false(lk_scopes_grantable("verify", "admin", NULL, NULL));
	assert_true(lk_scopes_grantable("verify", "verify", NULL, NULL));
}

/* Normalising a list: split on spaces and commas, validate, dedupe, at most 32. */
static void
test_scopes_add_text(void **state)
{
	/* bad: the scope the refusal names */
	static const struct { const char *text, *want, *bad; } cases[] = {
		{ "", "", NULL },
		{ " , ,", "", NULL },
		{ "a", "a", NULL },
		{ "a b,c", "a b c", NULL },
		{ "a, a  b,a", "a b", NULL },
		{ "tasks:* verify", "tasks:* verify", NULL },
		{ "A", NULL, "'A'" },
		{ "a b!", NULL, "'b!'" },
		{ "*", NULL, "'*'" },
	};
	char		 out[LK_SCOPES_BUF], many[40 * 6], why[LK_SCOPES_WHY];
	size_t		 i, o = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok;

		out[0] = '\0';
		why[0] = '\0';
		ok = lk_scopes_add_text(out, sizeof(out), cases[i].text, why);
		if (ok != (cases[i].want != NULL))
			fail_msg("add_text(\"%s\") -> %d", cases[i].text, ok);
		if (ok)
			assert_string_equal(out, cases[i].want);
		else {
			/* the refusal names the scope and states the grammar */
			assert_non_null(strstr(why, cases[i].bad));
			assert_non_null(strstr(why, "[a-z0-9][a-z0-9:._-]{0,63}"));
		}
	}
	/* 32 distinct scopes fit, the 33rd does not; repeats do not count. */
	for (i = 0; i < 33; i++)
		o += (size_t)snprintf(many + o, sizeof(many) - o, "s%zu s0 ", i);
	out[0] = '\0';
	assert_false(lk_scopes_add_text(out, sizeof(out), many, why));
	assert_string_equal(why, "has too many scopes (at most 32)");
	many[strlen(many) - strlen("s32 s0 ")] = '\0';
	out[0] = '\0';
	assert_true(lk_scopes_add_text(out, sizeof(out), many, why));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_valid_table),
		cmocka_unit_test(test_scope_covers_table),
		cmocka_unit_test(test_scopes_allow_table),
		cmocka_unit_test(test_scopes_grantable_table),
		cmocka_unit_test(test_scopes_add_text),
		cmocka_unit_test(test_scopes_grantable_null_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
