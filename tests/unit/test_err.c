/* test_err.c — the error table and the mapping of web servers' own statuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"

static void
test_from_status_table(void **state)
{
	static const struct { int status; enum lk_err e; } cases[] = {
		{ 400, LK_ERR_VALIDATION }, { 404, LK_ERR_NOT_FOUND }, { 405, LK_ERR_METHOD },
		{ 411, LK_ERR_LENGTH_REQUIRED }, { 413, LK_ERR_TOO_LARGE },
		{ 415, LK_ERR_MEDIA_TYPE }, { 414, LK_ERR_VALIDATION }, { 431, LK_ERR_VALIDATION },
		{ 401, LK_ERR_VALIDATION }, { 403, LK_ERR_VALIDATION },	/* never claim auth */
		{ 500, LK_ERR_INTERNAL }, { 501, LK_ERR_METHOD }, { 507, LK_ERR_INTERNAL }, { 502, LK_ERR_UNAVAILABLE },
		{ 503, LK_ERR_UNAVAILABLE }, { 504, LK_ERR_UNAVAILABLE },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lk_err_from_status(cases[i].status) != cases[i].e)
			fail_msg("status %d -> %d, want %d", cases[i].status,
			    lk_err_from_status(cases[i].status), cases[i].e);
	assert_int_equal(lk_err_status(LK_ERR_LENGTH_REQUIRED), 411);
	assert_string_equal(lk_err_code(LK_ERR_LENGTH_REQUIRED), "LENGTH_REQUIRED");
}

static void
test_every_error_has_a_row(void **state)
{
	int e;

	(void)state;
	for (e = LK_ERR_VALIDATION; e < LK_ERR__MAX; e++) {
		assert_true(lk_err_status((enum lk_err)e) >= 400);
		assert_non_null(lk_err_code((enum lk_err)e));
		assert_true(strlen(lk_err_message((enum lk_err)e)) > 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_status_table),
		cmocka_unit_test(test_every_error_has_a_row),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
