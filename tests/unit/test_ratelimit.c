/* test_ratelimit.c — the limit that applies to a key: its own, else its plan's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/ratelimit.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_policy(void **state)
{
	static const struct {
		const char	*plan;
		int64_t		 rl_limit, rl_window, limit, window;
	} cases[] = {
		{ "free", 0, 0, 60, 60 },
		{ "pro", 0, 0, 600, 60 },
		{ "enterprise", 0, 0, 6000, 60 },
		{ "unknown", 0, 0, 60, 60 },
		{ "free", 1000, 3600, 1000, 3600 },	/* an override wins, above the plan too */
		{ "enterprise", 5, 2, 5, 2 },
	};
	static struct lk_key k;
	int64_t limit, window;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		snprintf(k.owner.plan, sizeof(k.owner.plan), "%s", cases[i].plan);
		k.rl_limit = cases[i].rl_limit;
		k.rl_window = cases[i].rl_window;
		lk_ratelimit_policy(&k, &limit, &window);
		assert_int_equal(limit, cases[i].limit);
		assert_int_equal(window, cases[i].window);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
