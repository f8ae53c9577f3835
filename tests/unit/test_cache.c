/*
 * test_cache.c — the verify cache's pure parts: the lease size and the packed
 * key row (model/cache)
 * and base/kcache's rules on a real LMDB environment in a temporary
 * directory: entries and negative entries, the generation that refuses a
 * fill racing a drop, drops by id, the header that wipes, a corrupt file
 * rebuilt, eviction that keeps the entries in use, the follower's seen rows
 * and the counter records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/kcache.h"
#include "model/cache.h"

static char		dir[64];
static unsigned char	d[LK_KCACHE_DIGEST];	/* the digest each test fills */

static void
digest(unsigned char *out, int n)
{
	memset(out, 0, LK_KCACHE_DIGEST);
	out[0] = (unsigned char)n;
	out[31] = (unsigned char)(n * 7);
}

/* Each test: a fresh directory and the environment opened in it for "db-a" (*state). */
static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lk-kcache-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	rmdir(dir);		/* lk_kcache_open makes it (0700) */
	digest(d, 1);
	*state = lk_kcache_open(dir, 100, 64, "db-a");
	return *state != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	lk_kcache_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The entry of digest dg at now_ms (negative entries live 1000 ms); its value in got. */
static char	got[64];

static enum lk_kc_found
look(struct lk_kcache *kc, const unsigned char *dg, int64_t now_ms)
{
	size_t len = 0;

	memset(got, 0, sizeof(got));
	return lk_kcache_get(kc, dg, got, sizeof(got), &len, now_ms, 1000);
}

/* Fill the entry of digest dg under the current generation. */
static void
put(struct lk_kcache *kc, const unsigned char *dg, const char *id, const char *value,
    int64_t now_ms)
{
	lk_kcache_put(kc, lk_kcache_gen(kc), dg, id, value, value != NULL ? strlen(value) + 1 : 0,
	    now_ms);
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
	struct lk_kcache	*kc = *state;
	char			 path[128];
	struct stat		 st;

	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(look(kc, d, 1000), LK_KC_MISS);
	put(kc, d, "key_a", "row-a", 1000);
	assert_int_equal(look(kc, d, 1000), LK_KC_HIT);
	assert_string_equal(got, "row-a");
	/* dropped by its public id */
	lk_kcache_drop_id(kc, "key_a");
	assert_int_equal(look(kc, d, 1000), LK_KC_MISS);
}

static void
test_negative_entries_end(void **state)
{
	struct lk_kcache	*kc = *state;

	put(kc, d, NULL, NULL, 1000);
	assert_int_equal(look(kc, d, 1500), LK_KC_NEGATIVE);
	/* older than the bound (cache_sync_interval) */
	assert_int_equal(look(kc, d, 2000), LK_KC_MISS);
	/* any drop (a key made on this host) ends every negative entry */
	put(kc, d, NULL, NULL, 3000);
	lk_kcache_drop_id(kc, "key_new");
	assert_int_equal(look(kc, d, 3001), LK_KC_MISS);
}

static void
test_fill_racing_a_drop_is_refused(void **state)
{
	struct lk_kcache	*kc = *state;
	uint64_t		 gen;

	gen = lk_kcache_gen(kc);		/* read before the database read */
	lk_kcache_drop_id(kc, "key_b");		/* a change commits meanwhile */
	lk_kcache_put(kc, gen, d, "key_b", "old", 4, 1000);
	assert_int_equal(look(kc, d, 1000), LK_KC_MISS);
}

static void
test_other_identity_wipes(void **state)
{
	struct lk_kcache	*kc = *state;

	put(kc, d, "key_c", "c", 1000);
	lk_kcache_close(kc);
	kc = lk_kcache_open(dir, 100, 64, "db-a");
	assert_int_equal(look(kc, d, 1000), LK_KC_HIT);
	lk_kcache_close(kc);
	kc = lk_kcache_open(dir, 100, 64, "db-b");
	*state = kc;		/* teardown closes it */
	assert_non_null(kc);
	assert_int_equal(look(kc, d, 1000), LK_KC_MISS);
}

static void
test_another_database_wipes(void **state)
{
	struct lk_kcache *kc = *state;

	assert_true(lk_kcache_check_source(kc, "acct_root1"));	/* new: taken */
	put(kc, d, "key_e", "e", 1000);
	assert_true(lk_kcache_check_source(kc, "acct_root1"));
	assert_int_equal(look(kc, d, 1000), LK_KC_HIT);
	assert_false(lk_kcache_check_source(kc, "acct_root2"));
	assert_int_equal(look(kc, d, 1000), LK_KC_MISS);
	assert_true(lk_kcache_check_source(kc, "acct_root2"));
}

static void
test_corrupt_file_is_rebuilt(void **state)
{
	struct lk_kcache	*kc = *state;
	unsigned char		 junk[8192];
	char			 path[128];
	FILE			*f;

	lk_kcache_close(kc);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	*state = kc = lk_kcache_open(dir, 100, 64, "db-a");
	assert_non_null(kc);
	put(kc, d, "key_d", "d", 1000);
	assert_int_equal(look(kc, d, 1000), LK_KC_HIT);
}

static void
test_eviction_bounds_entries(void **state)
{
	struct lk_kcache	*kc = *state;
	struct lk_kcache_state	 st;
	char			 id[16];
	int			 i;

	for (i = 0; i < 300; i++) {
		digest(d, i);
		d[1] = (unsigned char)(i >> 8);
		snprintf(id, sizeof(id), "key_%d", i);
		put(kc, d, id, "x", 1000);
	}
	assert_true(lk_kcache_state(kc, &st));
	assert_true(st.entries <= 100);
	assert_true(st.entries > 50);
}

/*
 * A full cache drops the entries not used lately: 16 keys (every 12th, spread
 * over the digests as real ones are) verified after every fill of 200 all
 * stay while the others make room (dropped at random, one of the 16 would
 * almost surely have gone).
 */
static void
test_eviction_keeps_the_used(void **state)
{
	struct lk_kcache	*kc = *state;
	struct lk_kcache_state	 st;
	unsigned char		 h[LK_KCACHE_DIGEST];
	char			 id[16], path[128];
	struct stat		 fs;
	int			 i, j, kept = 0, old = 0;

	for (i = 0; i < 200; i++) {
		digest(d, i);
		snprintf(id, sizeof(id), "key_%d", i);
		put(kc, d, id, "x", 1000);
		for (j = 0; j <= i && j < 192; j += 12) {
			digest(h, j);
			assert_int_equal(look(kc, h, 1000), LK_KC_HIT);
		}
	}
	for (j = 0; j < 192; j++) {
		digest(h, j);
		if (j % 12 == 0)
			kept += look(kc, h, 1000) == LK_KC_HIT;
		else if (j < 100)
			old += look(kc, h, 1000) == LK_KC_HIT;
	}
	assert_int_equal(kept, 16);
	assert_true(old < 40);
	assert_true(lk_kcache_state(kc, &st));
	assert_true(st.entries <= 100);
	/* the bits are the host's: a file of the cache's directory, 0600 */
	snprintf(path, sizeof(path), "%s/used", dir);
	assert_int_equal(stat(path, &fs), 0);
	assert_int_equal(fs.st_mode & 0777, 0600);
}

static enum lk_kc_each
add_one(void *rec, void *arg)
{
	(void)arg;
	(*(int64_t *)rec)++;
	return LK_KC_DIRTY;
}

static enum lk_kc_each
drop_big(void *rec, void *arg)
{
	(void)arg;
	if (rec == NULL)		/* a chunk committed */
		return LK_KC_KEEP;
	return *(int64_t *)rec > 1 ? LK_KC_DEL : LK_KC_KEEP;
}

static void
test_seen_rows_and_records(void **state)
{
	struct lk_kcache	*kc = *state;
	int64_t			 rec;
	const char		 a[] = "a", b[] = "b";

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
}

/* Count the records a take hands over; a record of 3 or more stays in the dirty set. */
static enum lk_kc_each
count_taken(void *rec, void *arg)
{
	if (rec == NULL)		/* a chunk committed */
		return LK_KC_KEEP;
	(*(int *)arg)++;
	return *(int64_t *)rec >= 3 ? LK_KC_DIRTY : LK_KC_PUT;
}

static void
test_dirty_set(void **state)
{
	struct lk_kcache	*kc = *state;
	int64_t			 rec;
	int			 n = 0, i;
	char			 k[8];

	/* More records than a transaction's chunk: the walk goes on across chunks. */
	for (i = 0; i < LK_KC_CHUNK + 10; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		assert_true(lk_kcache_update(kc, k, strlen(k), &rec, sizeof(rec), add_one, NULL));
	}
	assert_true(lk_kcache_take(kc, sizeof(rec), 100, count_taken, &n));
	assert_int_equal(n, 100);		/* at most max */
	n = 0;
	assert_true(lk_kcache_take(kc, sizeof(rec), SIZE_MAX, count_taken, &n));
	assert_int_equal(n, LK_KC_CHUNK + 10 - 100);
	n = 0;
	assert_true(lk_kcache_take(kc, sizeof(rec), SIZE_MAX, count_taken, &n));
	assert_int_equal(n, 0);			/* taken: nothing is dirty */
	for (i = 0; i < 3; i++)
		assert_true(lk_kcache_update(kc, "k7", 2, &rec, sizeof(rec), add_one, NULL));
	assert_int_equal(rec, 4);
	assert_true(lk_kcache_take(kc, sizeof(rec), SIZE_MAX, count_taken, &n));
	assert_true(lk_kcache_take(kc, sizeof(rec), SIZE_MAX, count_taken, &n));
	assert_int_equal(n, 2);			/* kept dirty by its fn: taken again */
}

/*
 * 200 processes that open the environment, read, and end without closing it
 * (a killed worker, a CGI process, a sync's child that crashed) leave their
 * reader slots taken; LMDB's table has 126. The next open frees them: the
 * environment opens and keeps its entries (it was wiped as "corrupt" before).
 */
static void
test_dead_readers_do_not_fill_the_table(void **state)
{
	struct lk_kcache	*kc = *state, *again;
	int			 i, st;

	put(kc, d, "key_1", "one", 1000);
	for (i = 0; i < 200; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			struct lk_kcache *c = lk_kcache_open(dir, 100, 64, "db-a");

			_exit(c != NULL && look(c, d, 1000) == LK_KC_HIT ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	again = lk_kcache_open(dir, 100, 64, "db-a");
	assert_non_null(again);
	assert_int_equal(look(again, d, 1000), LK_KC_HIT);
	assert_string_equal(got, "one");
	lk_kcache_close(again);
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
		cmocka_unit_test_setup_teardown(test_another_database_wipes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_is_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_bounds_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_keeps_the_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seen_rows_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_set, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dead_readers_do_not_fill_the_table, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
