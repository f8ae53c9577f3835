/* test_timefmt.c — durations, RFC 3339 parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/timefmt.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define DAY		86400LL
#define MAX_90D		(90 * DAY)

/* 2026-11-22T11:30:00Z, computed with Python calendar.timegm. */
#define T0		1795347000LL

static void
test_duration_accepted(void **state)
{
	static const struct { const char *s; int64_t max, want; } cases[] = {
		{ "3600", MAX_90D, 3600 },
		{ "1", MAX_90D, 1 },
		{ "1s", MAX_90D, 1 },
		{ "45s", MAX_90D, 45 },
		{ "30m", MAX_90D, 1800 },
		{ "12h", MAX_90D, 43200 },
		{ "90d", MAX_90D, MAX_90D },		/* exactly max */
		{ "7776000", MAX_90D, MAX_90D },	/* exactly max in seconds */
		{ "007", MAX_90D, 7 },			/* leading zeros are digits */
		{ "1m", 60, 60 },
		{ "99999999999", INT64_MAX, 99999999999LL },	/* 11 digits + no unit */
		{ "99999999999d", INT64_MAX, 99999999999LL * DAY },	/* 12 chars: the longest */
	};
	int64_t	 out;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		out = -42;
		if (!lk_duration_parse(cases[i].s, cases[i].max, &out))
			fail_msg("duration \"%s\" refused", cases[i].s);
		if (out != cases[i].want)
			fail_msg("duration \"%s\" = %lld, want %lld", cases[i].s,
			    (long long)out, (long long)cases[i].want);
	}
}

static void
test_duration_refused(void **state)
{
	static const struct { const char *s; int64_t max; } cases[] = {
		{ "0", MAX_90D }, { "0s", MAX_90D }, { "0d", MAX_90D }, { "00", MAX_90D },
		{ "-1", MAX_90D }, { "-1h", MAX_90D }, { "+1", MAX_90D },
		{ "", MAX_90D }, { "h", MAX_90D }, { "s", MAX_90D }, { "d", MAX_90D },
		{ "10x", MAX_90D }, { "10H", MAX_90D }, { "10ms", MAX_90D }, { "10w", MAX_90D },
		{ "1.5h", MAX_90D }, { "1e3", MAX_90D }, { " 1", MAX_90D }, { "1 ", MAX_90D },
		{ "1 h", MAX_90D }, { "0x10", MAX_90D }, { "1hh", MAX_90D }, { "h1", MAX_90D },
		{ "91d", MAX_90D }, { "7776001", MAX_90D }, { "2161h", MAX_90D },
		{ "61", 60 }, { "2m", 60 }, { "1m", 59 },
		{ "99999999999999d", INT64_MAX },	/* would overflow: refused by length */
		{ "9999999999999", INT64_MAX },		/* 13 chars */
		{ "99999999999999999999", INT64_MAX },
	};
	int64_t	 out;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		out = -42;
		if (lk_duration_parse(cases[i].s, cases[i].max, &out))
			fail_msg("duration \"%s\" (max %lld) accepted as %lld", cases[i].s,
			    (long long)cases[i].max, (long long)out);
		assert_int_equal(out, -42);	/* untouched on refusal */
	}
}

static void
test_time_parse_accepted(void **state)
{
	static const struct { const char *s; int64_t want; } cases[] = {
		{ "2026-11-22T11:30:00Z", T0 },
		{ "2026-11-22t11:30:00z", T0 },
		{ "2026-11-22T11:30:00.5Z", T0 },
		{ "2026-11-22T11:30:00.123456789Z", T0 },
		{ "2026-11-22T11:30:00+00:00", T0 },
		{ "2026-11-22T11:30:00-00:00", T0 },
		{ "2026-11-22T12:30:00+01:00", T0 },		/* east of UTC: subtract */
		{ "2026-11-22T10:00:00-01:30", T0 },		/* west of UTC: add */
		{ "2026-11-23T01:00:00+13:30", T0 },		/* crosses the date */
		{ "2026-11-22T12:30:00.25+01:00", T0 },
		{ "2026-11-22T11:30:59Z", T0 + 59 },
		{ "1970-01-01T00:00:00Z", 0 },
		{ "1970-01-01T00:00:00-01:00", 3600 },
		{ "1970-01-01T01:00:00+01:00", 0 },
		{ "2028-02-29T00:00:00Z", 1835395200LL },	/* leap year */
		{ "2000-02-29T00:00:00Z", 951782400LL },	/* divisible by 400 */
		{ "2038-01-19T03:14:08Z", 2147483648LL },	/* past 32-bit time_t */
		{ "2024-12-31T23:59:59Z", 1735689599LL },
		{ "9999-12-31T23:59:59Z", 253402300799LL },
	};
	int64_t	 out;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		out = -42;
		if (!lk_time_parse(cases[i].s, &out))
			fail_msg("time \"%s\" refused", cases[i].s);
		if (out != cases[i].want)
			fail_msg("time \"%s\" = %lld, want %lld", cases[i].s,
			    (long long)out, (long long)cases[i].want);
	}
}

static void
test_time_parse_refused(void **state)
{
	static const char *const cases[] = {
		"",
		"2027-02-29T00:00:00Z",		/* not a leap year */
		"2100-02-29T00:00:00Z",		/* divisible by 100, not 400 */
		"2026-02-30T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-13-01T00:00:00Z",		/* month 13 */
		"2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z",
		"2026-01-32T00:00:00Z",
		"2026-01-01T24:00:00Z",
		"2026-01-01T00:60:00Z",
		"2026-01-01T00:00:61Z",
		"2026-11-22T11:30:60Z",		/* a leap second: Unix time has none */
		"2030-01-01T23:59:60Z",
		"2016-12-31T23:59:60Z",		/* even a real one */
		"2016-12-31T23:59:60.5Z",
		"2017-01-01T00:59:60+01:00",
		"2026-11-22 11:30:00Z",		/* missing T */
		"2026-11-2211:30:00Z",
		"2026-11-22",
		"2026-11-22T11:30Z",
		"2026-11-22T11:30:00",		/* no zone */
		"2026-11-22T11:30:00Zjunk",	/* trailing junk */
		"2026-11-22T11:30:00Z ",
		"2026-11-22T11:30:00+01:00Z",
		"2026-11-22T11:30:00.Z",	/* '.' without digits */
		"2026-11-22T11:30:00,5Z",
		"2026-11-22T11:30:00+1:00",
		"2026-11-22T11:30:00+0100",
		"2026-11-22T11:30:00+24:00",
		"2026-11-22T11:30:00+01:60",
		"2026-11-22T11:30:00UTC",
		"26-11-22T11:30:00Z",
		"2026-1-22T11:30:00Z",
		"2026/11/22T11:30:00Z",
		"+2026-11-22T11:30:00Z",
		" 2026-11-22T11:30:00Z",
		"1969-12-31T23:59:59Z",		/* before 1970 */
		"1900-01-01T00:00:00Z",
		"0000-01-01T00:00:00Z",
		"1970-01-01T00:30:00+01:00",	/* 1969 in UTC */
		"1970-01-01T00:00:00+00:01",
	};
	int64_t	 out;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_time_parse(cases[i], &out))
			fail_msg("time \"%s\" accepted as %lld", cases[i], (long long)out);
}

static void
test_duration_format(void **state)
{
	static const struct { int64_t s; const char *want; } cases[] = {
		{ 36500 * DAY, "36500d" }, { 30 * DAY, "30d" }, { DAY, "1d" },
		{ DAY + 3600, "25h" }, { 3600, "1h" }, { 1800, "30m" }, { 60, "1m" },
		{ 61, "61s" }, { 1, "1s" }, { 0, "0s" },
	};
	char	 out[24];
	int64_t	 back;
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		lk_duration_format(cases[i].s, out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		/* what it writes reads back as the same duration */
		if (cases[i].s > 0 && (!lk_duration_parse(out, cases[i].s, &back) || back != cases[i].s))
			fail_msg("\"%s\" does not read back as %lld", out, (long long)cases[i].s);
	}
}

static void
test_time_format_table(void **state)
{
	static const struct { int64_t t; const char *want; } cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ 1, "1970-01-01T00:00:01Z" },
		{ T0, "2026-11-22T11:30:00Z" },
		{ 951782400LL, "2000-02-29T00:00:00Z" },
		{ 1835395200LL, "2028-02-29T00:00:00Z" },
		{ 1735689599LL, "2024-12-31T23:59:59Z" },
		{ 2147483648LL, "2038-01-19T03:14:08Z" },
		{ 253402300799LL, "9999-12-31T23:59:59Z" },
	};
	char	 out[LK_TIME_MAX];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(out, '#', sizeof(out));
		lk_time_format(cases[i].t, out);
		assert_string_equal(out, cases[i].want);
		assert_int_equal(strlen(out), LK_TIME_MAX - 1);
	}
}

static void
test_time_round_trip(void **state)
{
	char	 out[LK_TIME_MAX];
	int64_t	 t, back;

	(void)state;
	/* Steps of 3 days + 7919 s over ~85 years: every field and month varies. */
	for (t = 0; t < 2700000000LL; t += DAY * 3 + 7919) {
		lk_time_format(t, out);
		if (!lk_time_parse(out, &back) || back != t)
			fail_msg("%lld -> \"%s\" -> %lld", (long long)t, out, (long long)back);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_accepted),
		cmocka_unit_test(test_duration_refused),
		cmocka_unit_test(test_time_parse_accepted),
		cmocka_unit_test(test_time_parse_refused),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_time_format_table),
		cmocka_unit_test(test_time_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
