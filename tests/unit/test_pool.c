/* test_pool.c — latchkey-pool's --listen: addresses, unix sockets, the remote rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_pool_listen(void **state)
{
	static const struct { const char *spec; bool remote; const char *bind; bool is_unix; } ok[] = {
		{ "127.0.0.1:9000", false, "127.0.0.1:9000", false },
		{ "localhost:9000", false, "127.0.0.1:9000", false },
		{ "127.1.2.3:1", false, "127.1.2.3:1", false },
		{ "unix:/run/latchkey/verify.sock", false, "/run/latchkey/verify.sock", true },
		{ "10.0.0.5:9000", true, "10.0.0.5:9000", false },
		{ "0.0.0.0:9000", true, "0.0.0.0:9000", false },
	};
	static const struct { const char *spec; bool remote; } bad[] = {
		{ "10.0.0.5:9000", false }, { "0.0.0.0:9000", false }, { ":9000", false },
		{ "127.0.0.1", false }, { "127.0.0.1:0", false }, { "127.0.0.1:65536", false },
		{ "127.0.0.1:90x", false }, { "example.com:9000", true }, { "[::1]:9000", false },
		{ "unix:relative.sock", false },
		{ "unix:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", false },
	};
	struct lk_pool	 p;
	char		 why[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(ok); i++) {
		memset(&p, 0, sizeof(p));
		if (!lk_pool_listen(&p, ok[i].spec, ok[i].remote, why, sizeof(why)))
			fail_msg("refused %s: %s", ok[i].spec, why);
		assert_string_equal(p.bind, ok[i].bind);
		assert_int_equal(p.is_unix, ok[i].is_unix);
	}
	for (i = 0; i < NELEM(bad); i++) {
		memset(&p, 0, sizeof(p));
		why[0] = '\0';
		if (lk_pool_listen(&p, bad[i].spec, bad[i].remote, why, sizeof(why)))
			fail_msg("accepted %s", bad[i].spec);
		assert_true(why[0] != '\0');
	}
	/* the refusal of a public address says how to insist */
	lk_pool_listen(&p, "192.168.1.1:9000", false, why, sizeof(why));
	assert_non_null(strstr(why, "--allow-remote"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
