/* test_outbound.c — the SSRF rule for webhook URLs, Standard Webhooks signatures, config lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/conf.h"
#include "base/outbound.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_forbidden_table(void **state)
{
	static const struct { const char *addr; bool forbidden; } cases[] = {
		{ "127.0.0.1", true }, { "127.255.0.9", true }, { "10.1.2.3", true },
		{ "172.16.0.1", true }, { "172.31.255.255", true }, { "172.32.0.1", false },
		{ "192.168.1.1", true }, { "169.254.169.254", true }, { "100.64.0.1", true },
		{ "0.0.0.0", true }, { "224.0.0.1", true }, { "255.255.255.255", true },
		{ "::1", true }, { "::", true }, { "fe80::1", true }, { "fd00:ec2::254", true },
		{ "::ffff:127.0.0.1", true }, { "::ffff:10.0.0.1", true }, { "64:ff9b::a00:1", true },
		{ "ff02::1", true },
		{ "93.184.216.34", false }, { "8.8.8.8", false }, { "2606:4700::1111", false },
		{ "::ffff:8.8.8.8", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_outbound_addr_forbidden(cases[i].addr) != cases[i].forbidden)
			fail_msg("%s: expected %s", cases[i].addr,
			    cases[i].forbidden ? "forbidden" : "allowed");
}

static void
test_resolve_table(void **state)
{
	static const struct { const char *url; bool allow_private; bool ok; } cases[] = {
		{ "https://127.0.0.1/x", false, false },
		{ "https://[::1]:8443/x", false, false },
		{ "https://localhost/x", false, false },		/* a name resolving to loopback */
		{ "http://127.0.0.1:9/x", true, true },
		{ "http://127.0.0.1:9/x", false, false },		/* https only */
		{ "https://localhost/x", true, true },
		{ "ftp://127.0.0.1/x", true, false },
		{ "https://u:p@127.0.0.1/x", true, false },
		{ "https://127.0.0.1/a b", true, false },
		{ "/relative", true, false },
		{ "https://93.184.216.34/x", false, true },
	};
	struct lk_outbound_target	t;
	char				why[256];
	size_t				i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if ((lk_outbound_resolve(cases[i].url, cases[i].allow_private, &t, why,
		    sizeof(why)) == LK_OK) != cases[i].ok)
			fail_msg("%s (allow_private %d): expected %s", cases[i].url,
			    cases[i].allow_private, cases[i].ok ? "accepted" : "refused");
	assert_int_equal(lk_outbound_resolve("https://[::1]:8443/x", true, &t, why, sizeof(why)),
	    LK_OK);
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 8443);
	assert_string_equal(t.addr, "::1");
}

/* The example of the Standard Webhooks specification's reference libraries. */
static void
test_sign_vector(void **state)
{
	char sig[LK_WEBHOOK_SIG_MAX], secret[LK_WEBHOOK_SECRET_MAX];

	(void)state;
	assert_true(lk_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, "{\"test\": 2432232314}", sig));
	assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	assert_false(lk_webhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "", sig));
	assert_false(lk_webhook_sign("whsec_abc", "m", 1, "", sig));
	assert_true(lk_webhook_secret_new(secret));
	assert_int_equal(strlen(secret), 50);
	assert_true(lk_webhook_sign(secret, "m", 1, "", sig));
}

static void
test_conf_lists(void **state)
{
	int64_t	v[LK_CONF_LIST_MAX];
	size_t	n;

	(void)state;
	assert_true(lk_conf_durations("5s,5m, 30m,2h", 1, v, LK_CONF_LIST_MAX, &n));
	assert_int_equal(n, 4);
	assert_int_equal(v[1], 300);
	assert_int_equal(v[3], 7200);
	assert_true(lk_conf_durations("30,7,1", 86400, v, LK_CONF_LIST_MAX, &n));
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 30 * 86400);
	assert_false(lk_conf_durations("", 1, v, LK_CONF_LIST_MAX, &n));
	assert_false(lk_conf_durations("7d", 86400, v, LK_CONF_LIST_MAX, &n));
	assert_false(lk_conf_durations("0", 86400, v, LK_CONF_LIST_MAX, &n));
	assert_false(lk_conf_durations("1,,2", 1, v, LK_CONF_LIST_MAX, &n));
	assert_false(lk_conf_durations("1,2,3", 1, v, 2, &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_table),
		cmocka_unit_test(test_resolve_table),
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_conf_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
