/* test_users.c — console users: roles, the dominance rule, emails, passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/users.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_roles_and_dominance(void **state)
{
	(void)state;
	assert_string_equal(lk_role_scopes("owner"), "admin");
	assert_string_equal(lk_role_scopes("developer"),
	    "keys:read keys:write accounts:read verify audit:read webhooks:read");
	assert_string_equal(lk_role_scopes("viewer"), "keys:read accounts:read audit:read");
	assert_null(lk_role_scopes("root"));
	assert_null(lk_role_scopes(NULL));
	assert_true(lk_users_may_manage("admin", "owner"));
	assert_true(lk_users_may_manage(lk_role_scopes("developer"), "viewer"));
	assert_true(lk_users_may_manage(lk_role_scopes("developer"), "developer"));
	assert_false(lk_users_may_manage(lk_role_scopes("developer"), "owner"));
	assert_false(lk_users_may_manage(lk_role_scopes("viewer"), "developer"));
	assert_false(lk_users_may_manage("admin", "nobody"));
}

static void
test_email_and_password_rules(void **state)
{
	static const struct { const char *s; bool ok; } emails[] = {
		{ "a@b", true }, { "owner@localhost", true }, { "<b>x</b>@example.com", true },
		{ "", false }, { "ab", false }, { "@b", false }, { "a@", false }, { "a@b@c", false },
		{ "a b@c", false }, { "a\n@b", false },
	};
	static const struct { const char *s; bool ok; } passwords[] = {
		{ "0123456789", true }, { "correct horse", true }, { "012345678", false },
		{ "", false }, { "0123456789\t", false },
	};
	char	long_pw[200];
	char	gen[LK_PASSWORD_GEN + 1];
	size_t	i;

	(void)state;
	for (i = 0; i < NELEM(emails); i++)
		if (lk_email_ok(emails[i].s) != emails[i].ok)
			fail_msg("email_ok(\"%s\") != %d", emails[i].s, emails[i].ok);
	for (i = 0; i < NELEM(passwords); i++)
		if (lk_password_ok(passwords[i].s) != passwords[i].ok)
			fail_msg("password_ok(\"%s\") != %d", passwords[i].s, passwords[i].ok);
	memset(long_pw, 'x', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_false(lk_password_ok(long_pw));
	long_pw[LK_PASSWORD_MAX] = '\0';
	assert_true(lk_password_ok(long_pw));
	assert_true(lk_password_generate(gen, sizeof(gen)));
	assert_int_equal(strlen(gen), LK_PASSWORD_GEN);
	assert_true(lk_password_ok(gen));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles_and_dominance),
		cmocka_unit_test(test_email_and_password_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
