/* test_net.c — trusted_proxies: CIDR parsing, matching and the X-Forwarded-For rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/conf.h"
#include "base/net.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_parse_table(void **state)
{
	static const struct { const char *text; int n; } cases[] = {
		{ "", 0 },
		{ "127.0.0.1", 1 },
		{ "127.0.0.1 10.0.0.0/8, ::1,fd00::/8", 4 },
		{ "  0.0.0.0/0 ", 1 },
		{ "::/0", 1 },
		{ "192.168.1.0/24", 1 },
		{ "10.1.2.3/8", -1 },		/* host bits outside the prefix */
		{ "10.0.0.0/33", -1 },
		{ "10.0.0.0/", -1 },
		{ "10.0.0.0/-1", -1 },
		{ "10.0.0.0/8x", -1 },
		{ "10.0.0", -1 },
		{ "localhost", -1 },
		{ "fe80::1%eth0", -1 },
		{ "::1/129", -1 },
		{ "1.2.3.4;5.6.7.8", -1 },
	};
	struct lk_cidr	 list[LK_NET_CIDRS_MAX];
	size_t		 i, n;
	char		 why[128];

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		bool ok = lk_net_cidrs_parse(cases[i].text, list, NELEM(list), &n, why, sizeof(why));

		if (ok != (cases[i].n >= 0))
			fail_msg("parse(\"%s\") = %d", cases[i].text, ok);
		if (ok && (int)n != cases[i].n)
			fail_msg("parse(\"%s\"): %zu entries", cases[i].text, n);
		if (!ok && strstr(why, "trusted_proxies") == NULL)
			fail_msg("parse(\"%s\"): why \"%s\"", cases[i].text, why);
	}
	/* at most max entries */
	assert_false(lk_net_cidrs_parse("1.1.1.1 2.2.2.2 3.3.3.3", list, 2, &n, why, sizeof(why)));
}

static void
test_in_table(void **state)
{
	static const struct { const char *ip; bool in; } cases[] = {
		{ "127.0.0.1", true },
		{ "127.0.0.2", false },
		{ "10.255.3.4", true },
		{ "11.0.0.1", false },
		{ "172.16.0.1", true },
		{ "172.31.255.255", true },
		{ "172.32.0.0", false },
		{ "::ffff:10.1.1.1", true },	/* IPv4-mapped */
		{ "::1", true },
		{ "::2", false },
		{ "fd12:3456::1", true },
		{ "fe80::1", false },
		{ "", false },
		{ "garbage", false },
	};
	struct lk_cidr	 list[8];
	size_t		 i, n;
	char		 why[128];

	(void)state;
	assert_true(lk_net_cidrs_parse("127.0.0.1 10.0.0.0/8 172.16.0.0/12 ::1 fd00::/8",
	    list, NELEM(list), &n, why, sizeof(why)));
	for (i = 0; i < NELEM(cases); i++)
		if (lk_net_in(list, n, cases[i].ip) != cases[i].in)
			fail_msg("in(%s) != %d", cases[i].ip, cases[i].in);
	assert_false(lk_net_in(list, n, NULL));
	assert_false(lk_net_in(list, 0, "127.0.0.1"));
}

static void
test_client_ip_table(void **state)
{
	static const struct { const char *peer, *xff, *want; } cases[] = {
		/* peer not trusted: the header is ignored (anyone can send it) */
		{ "203.0.113.9", "198.51.100.1", "203.0.113.9" },
		{ "203.0.113.9", NULL, "203.0.113.9" },
		/* trusted peer: rightmost untrusted hop */
		{ "127.0.0.1", "198.51.100.1", "198.51.100.1" },
		{ "127.0.0.1", "198.51.100.1, 10.0.0.5", "198.51.100.1" },
		{ "127.0.0.1", "6.6.6.6, 198.51.100.1, 10.0.0.5", "198.51.100.1" },	/* spoofed left part */
		{ "127.0.0.1", " 198.51.100.1 ,10.0.0.5 ", "198.51.100.1" },
		{ "127.0.0.1", "198.51.100.1,,10.0.0.5", "198.51.100.1" },
		{ "127.0.0.1", "2001:db8::7, 10.0.0.5", "2001:db8::7" },
		{ "127.0.0.1", "2001:DB8:0::7", "2001:db8::7" },			/* canonical form */
		{ "127.0.0.1", "::ffff:198.51.100.1", "198.51.100.1" },
		/* all hops trusted: the leftmost */
		{ "127.0.0.1", "10.0.0.1, 10.0.0.5", "10.0.0.1" },
		/* malformed hop: stop at the last good one */
		{ "127.0.0.1", "198.51.100.1, unknown, 10.0.0.5", "10.0.0.5" },
		{ "127.0.0.1", "unknown", "127.0.0.1" },
		{ "127.0.0.1", "198.51.100.1:443", "127.0.0.1" },
		{ "127.0.0.1", "", "127.0.0.1" },
		{ "127.0.0.1", NULL, "127.0.0.1" },
		{ "::ffff:127.0.0.1", "198.51.100.1", "198.51.100.1" },
	};
	struct lk_cidr	 list[8];
	size_t		 i, n;
	char		 why[128], out[64];

	(void)state;
	assert_true(lk_net_cidrs_parse("127.0.0.1/32,10.0.0.0/8", list, NELEM(list), &n,
	    why, sizeof(why)));
	for (i = 0; i < NELEM(cases); i++) {
		lk_net_client_ip(list, n, cases[i].peer, cases[i].xff, out, sizeof(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("peer %s xff \"%s\": got %s, want %s", cases[i].peer,
			    cases[i].xff ? cases[i].xff : "(none)", out, cases[i].want);
	}
	/* no trusted proxies configured: always the peer */
	lk_net_client_ip(list, 0, "127.0.0.1", "198.51.100.1", out, sizeof(out));
	assert_string_equal(out, "127.0.0.1");
}

static void
test_conf_setting(void **state)
{
	struct lk_conf	 c;
	char		 err[256];

	(void)state;
	lk_conf_defaults(&c);
	assert_int_equal(c.ntrusted_proxies, 0);
	assert_int_equal(lk_conf_parse(&c, "trusted_proxies = 127.0.0.1, 10.0.0.0/8\n",
	    err, sizeof(err)), LK_OK);
	assert_int_equal(c.ntrusted_proxies, 2);
	lk_conf_defaults(&c);
	assert_int_equal(lk_conf_parse(&c, "\ntrusted_proxies = 10.0.0.0/33\n", err, sizeof(err)),
	    LK_ERR_VALIDATION);
	assert_non_null(strstr(err, "line 2"));
	assert_non_null(strstr(err, "10.0.0.0/33"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_in_table),
		cmocka_unit_test(test_client_ip_table),
		cmocka_unit_test(test_conf_setting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
