/*
 * test_cache.c — the verify cache's pure parts: the lease size and the packed
 * key row (model/cache)
 * and base/kcache's rules on a real LMDB environment in a temporary
 * directory: entries and negative entries, the generation that refuses a
 * fill racing a drop, drops by id, the header that wipes, a corrupt file
 * rebuilt, the follower's seen rows and the counter records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/kcache.h"
#include "model/cache.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/lk-kcache-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	rmdir(dir);		/* lk_kcache_open makes it (0700) */
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
digest(unsigned char *d, int n)
{
	memset(d, 0, LK_KCACHE_DIGEST);
	d[0] = (unsigned char)n;
	d[31] = (unsigned char)(n * 7);
}

static void
test_lease_size(void **state)
{
	static const struct { int64_t limit, last, db_n, want; } cases[] = {
		{ 6400, 0, 0, 100 },		/* the first: limit / 64 */
		{ 6400, 100, 100, 200 },	/* doubles */
		{ 6400, 1000, 5600, 200 },	/* at most a quarter of what is left */
		{ 50, 0, 0, 1 },		/* at least 1 */
		{ 50, 8, 49, 1 },
		{ 50, 8, 60, 1 },		/* the window over its limit: still 1 (the DB refuses it) */
		{ 1000000, 0, 0, 15625 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lk_cache_lease_size(cases[i].limit, cases[i].last, cases[i].db_n) != cases[i].want)
			fail_msg("lease_size(%lld, %lld, %lld) = %lld, want %lld",
			    (long long)cases[i].limit, (long long)cases[i].last,
			    (long long)cases[i].db_n, (long long)lk_cache_lease_size(cases[i].limit,
			    cases[i].last, cases[i].db_n), (long long)cases[i].want);
}

/* Every byte of every field set: what comes back is the same row, byte for byte. */
static void
test_pack_round_trip(void **state)
{
	static struct lk_key	 k, back;
	static unsigned char	 buf[sizeof(struct lk_key) + 64];
	size_t			 n;

	(void)state;
	memset(&k, 0, sizeof(k));
	k.id = 7;
	k.owner.id = 3;
	snprintf(k.public_id, sizeof(k.public_id), "key_abc");
	snprintf(k.owner.public_id, sizeof(k.owner.public_id), "acct_x");
	snprintf(k.owner.path, sizeof(k.owner.path), "/1/3/");
	snprintf(k.owner.plan, sizeof(k.owner.plan), "pro");
	snprintf(k.env, sizeof(k.env), "live");
	memset(k.label, 'l', sizeof(k.label) - 1);		/* a text at its longest */
	snprintf(k.scopes, sizeof(k.scopes), "verify tasks:*");
	snprintf(k.meta, sizeof(k.meta), "{\"a\":1}");
	snprintf(k.policy.allowed_ips, sizeof(k.policy.allowed_ips), "10.0.0.0/8");
	snprintf(k.policy.suspended_by, sizeof(k.policy.suspended_by), "acct_y");
	k.expires_at = 1900000000;
	k.revoked_at = -1;
	k.rl_limit = 50;
	k.rl_window = 60;
	k.policy.refill_day = 31;
	n = lk_cache_pack(&k, buf, sizeof(buf));
	assert_true(n > 0 && n < 2000);
	assert_true(lk_cache_unpack(buf, n, &back));
	assert_memory_equal(&k, &back, sizeof(k));
	/* a short or a long value is not a row */
	assert_false(lk_cache_unpack(buf, n - 1, &back));
	assert_false(lk_cache_unpack(buf, n + 1, &back));
	assert_int_equal(lk_cache_pack(&k, buf, 100), 0);
}

static void
test_entries_and_private_files(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	unsigned char		 d[LK_KCACHE_DIGEST];
	char			 buf[64], path[128];
	struct stat		 st;
	size_t			 len;

	(void)state;
	assert_non_null(kc);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	digest(d, 1);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_MISS);
	lk_kcache_put(kc, lk_kcache_gen(kc), d, "key_a", "row-a", 6, 1000);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_HIT);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "row-a");
	/* dropped by its public id */
	lk_kcache_drop_id(kc, "key_a");
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_MISS);
	lk_kcache_close(kc);
}

static void
test_negative_entries_end(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	unsigned char		 d[LK_KCACHE_DIGEST];
	char			 buf[64];
	size_t			 len;

	(void)state;
	assert_non_null(kc);
	digest(d, 2);
	lk_kcache_put(kc, lk_kcache_gen(kc), d, NULL, NULL, 0, 1000);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1500, 1000), LK_KC_NEGATIVE);
	/* older than the bound (cache_sync_interval) */
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 2000, 1000), LK_KC_MISS);
	/* any drop (a key made on this host) ends every negative entry */
	lk_kcache_put(kc, lk_kcache_gen(kc), d, NULL, NULL, 0, 3000);
	lk_kcache_drop_id(kc, "key_new");
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 3001, 1000), LK_KC_MISS);
	lk_kcache_close(kc);
}

static void
test_fill_racing_a_drop_is_refused(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	unsigned char		 d[LK_KCACHE_DIGEST];
	char			 buf[64];
	size_t			 len;
	uint64_t		 gen;

	(void)state;
	assert_non_null(kc);
	digest(d, 3);
	gen = lk_kcache_gen(kc);		/* read before the database read */
	lk_kcache_drop_id(kc, "key_b");		/* a change commits meanwhile */
	lk_kcache_put(kc, gen, d, "key_b", "old", 4, 1000);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_MISS);
	lk_kcache_close(kc);
}

static void
test_other_identity_wipes(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	unsigned char		 d[LK_KCACHE_DIGEST];
	char			 buf[64];
	size_t			 len;

	(void)state;
	digest(d, 4);
	lk_kcache_put(kc, lk_kcache_gen(kc), d, "key_c", "c", 2, 1000);
	lk_kcache_close(kc);
	kc = lk_kcache_open(dir, 100, 64, "db-a");
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_HIT);
	lk_kcache_close(kc);
	kc = lk_kcache_open(dir, 100, 64, "db-b");
	assert_non_null(kc);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_MISS);
	lk_kcache_close(kc);
}

static void
test_corrupt_file_is_rebuilt(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	unsigned char		 d[LK_KCACHE_DIGEST], junk[8192];
	char			 buf[64], path[128];
	size_t			 len;
	FILE			*f;

	(void)state;
	lk_kcache_close(kc);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	kc = lk_kcache_open(dir, 100, 64, "db-a");
	assert_non_null(kc);
	digest(d, 5);
	lk_kcache_put(kc, lk_kcache_gen(kc), d, "key_d", "d", 2, 1000);
	assert_int_equal(lk_kcache_get(kc, d, buf, sizeof(buf), &len, 1000, 1000), LK_KC_HIT);
	lk_kcache_close(kc);
}

static void
test_eviction_bounds_entries(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	struct lk_kcache_state	 st;
	unsigned char		 d[LK_KCACHE_DIGEST];
	char			 id[16];
	int			 i;

	(void)state;
	for (i = 0; i < 300; i++) {
		digest(d, i);
		d[1] = (unsigned char)(i >> 8);
		snprintf(id, sizeof(id), "key_%d", i);
		lk_kcache_put(kc, lk_kcache_gen(kc), d, id, "x", 2, 1000);
	}
	assert_true(lk_kcache_state(kc, &st));
	assert_true(st.entries <= 100);
	assert_true(st.entries > 50);
	lk_kcache_close(kc);
}

static bool
add_one(void *rec, void *arg)
{
	(void)arg;
	(*(int64_t *)rec)++;
	return true;
}

static enum lk_kc_each
drop_big(void *rec, void *arg)
{
	(void)arg;
	return *(int64_t *)rec > 1 ? LK_KC_DEL : LK_KC_KEEP;
}

static void
test_seen_rows_and_records(void **state)
{
	struct lk_kcache	*kc = lk_kcache_open(dir, 100, 64, "db-a");
	int64_t			 rec;
	const char		 a[] = "a", b[] = "b";

	(void)state;
	assert_false(lk_kcache_seen(kc, 42));
	lk_kcache_mark_seen(kc, 42, 1000, 0);
	assert_true(lk_kcache_seen(kc, 42));
	lk_kcache_mark_seen(kc, 43, 2000, 1500);	/* forgets those before 1500 */
	assert_false(lk_kcache_seen(kc, 42));
	assert_true(lk_kcache_seen(kc, 43));
	assert_true(lk_kcache_update(kc, a, 1, &rec, sizeof(rec), add_one, NULL));
	assert_int_equal(rec, 1);
	assert_true(lk_kcache_update(kc, a, 1, &rec, sizeof(rec), add_one, NULL));
	assert_int_equal(rec, 2);
	assert_true(lk_kcache_update(kc, b, 1, &rec, sizeof(rec), add_one, NULL));
	assert_true(lk_kcache_each(kc, sizeof(rec), drop_big, NULL));
	assert_true(lk_kcache_update(kc, a, 1, &rec, sizeof(rec), add_one, NULL));
	assert_int_equal(rec, 1);	/* a was dropped, b kept */
	assert_true(lk_kcache_update(kc, b, 1, &rec, sizeof(rec), add_one, NULL));
	assert_int_equal(rec, 2);
	lk_kcache_close(kc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lease_size),
		cmocka_unit_test(test_pack_round_trip),
		cmocka_unit_test_setup_teardown(test_entries_and_private_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_entries_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_racing_a_drop_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_identity_wipes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_is_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_bounds_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_rows_and_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
