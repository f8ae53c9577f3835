/* test_out.c — the direct JSON writer (struct lk_out): escaping, integers, overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "base/out.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static struct lk_out out;

/* Every string is written as JSON that decodes back to itself. */
static void
test_str_escapes(void **state)
{
	static const struct { const char *in; size_t len; const char *want; } cases[] = {
		{ "plain", 5, "\"plain\"" },
		{ "", 0, "\"\"" },
		{ "a\"b", 3, "\"a\\\"b\"" },
		{ "back\\slash", 10, "\"back\\\\slash\"" },
		{ "nl\n", 3, "\"nl\\u000a\"" },
		{ "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
		{ "</script>", 9, "\"</script>\"" },
		{ "\xc3\xa9\xe6\xbc\xa2", 5, "\"\xc3\xa9\xe6\xbc\xa2\"" },
		{ "nul\0in", 6, "\"nul\\u0000in\"" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		json_t		*back;
		json_error_t	 err;

		lk_out_reset(&out);
		lk_out_str(&out, cases[i].in, cases[i].len);
		assert_false(out.full);
		assert_int_equal(out.len, strlen(cases[i].want));
		assert_memory_equal(out.buf, cases[i].want, out.len);
		back = json_loadb(out.buf, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		assert_non_null(back);
		assert_int_equal(json_string_length(back), cases[i].len);
		assert_memory_equal(json_string_value(back), cases[i].in, cases[i].len);
		json_decref(back);
	}
}

static void
test_int_and_overflow(void **state)
{
	static char big[LK_OUT_MAX];

	(void)state;
	lk_out_reset(&out);
	lk_out_int(&out, -42);
	lk_out_lit(&out, ",");
	lk_out_int(&out, INT64_MAX);
	assert_int_equal(out.len, strlen("-42,9223372036854775807"));
	assert_memory_equal(out.buf, "-42,9223372036854775807", out.len);
	memset(big, 'x', sizeof(big));
	lk_out_raw(&out, big, sizeof(big));
	assert_true(out.full);		/* never sent truncated */
	lk_out_reset(&out);
	assert_false(out.full);
	lk_out_raw(&out, big, sizeof(big));
	assert_false(out.full);
	lk_out_lit(&out, "y");
	assert_true(out.full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_escapes),
		cmocka_unit_test(test_int_and_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
