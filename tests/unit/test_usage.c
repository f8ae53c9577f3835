/* test_usage.c — the outcomes of a use: names, and the outcome a key's status gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/usage.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_outcomes(void **state)
{
	static struct lk_key k;

	(void)state;
	assert_string_equal(lk_outcome_name(LK_OUTCOME_INSUFFICIENT_SCOPE), "insufficient_scope");
	assert_string_equal(lk_outcome_name(LK_OUTCOME_RATE_LIMITED), "rate_limited");
	assert_int_equal(lk_outcome_of(&k, 1000), LK_OUTCOME_VALID);
	k.expires_at = 1000;
	assert_int_equal(lk_outcome_of(&k, 1000), LK_OUTCOME_EXPIRED);
	assert_int_equal(lk_outcome_of(&k, 999), LK_OUTCOME_VALID);
	k.revoked_at = 500;
	assert_int_equal(lk_outcome_of(&k, 999), LK_OUTCOME_REVOKED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
