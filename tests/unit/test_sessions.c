/* test_sessions.c — the console's session cookie. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "console/sessions.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_session_cookie(void **state)
{
	struct lk_conf	c;
	char		out[200];

	(void)state;
	lk_conf_defaults(&c);
	lk_sessions_set_cookie(&c, "abc", out, sizeof(out));
	assert_string_equal(out,
	    "__Host-latchkey_session=abc; Secure; HttpOnly; SameSite=Strict; Path=/");
	lk_sessions_set_cookie(&c, NULL, out, sizeof(out));
	assert_string_equal(out, "__Host-latchkey_session=; Secure; HttpOnly; SameSite=Strict; "
	    "Path=/; Max-Age=0");
	c.admin_insecure_cookie = true;
	lk_sessions_set_cookie(&c, "abc", out, sizeof(out));
	assert_string_equal(out, "latchkey_session=abc; HttpOnly; SameSite=Strict; Path=/");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_cookie),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
