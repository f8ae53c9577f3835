/*
 * test_kcount.c — base/kcount's rules on a real counters file in a temporary
 * directory: a day's table is ready only once rolled, slots by key, uses
 * spent exactly once across processes (fork), a window's uses dropped by the
 * next window, the moves of what grew, yesterday's table moved then emptied
 * two days on, the epoch reset, a file of another layout made anew (and noticed), 0600.
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

#include "base/kcount.h"

#define DAY	20000

static char	dir[64];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/lk-kcount-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = lk_kcount_open(dir, 100);
	return *state == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	lk_kcount_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* What the follower moved: a copy of the last seen, by key. */
struct moves {
	size_t			 n;
	struct lk_kcount_seen	 seen[16];
	bool			 accept;
};

static bool
record(const struct lk_kcount_seen *s, void *arg)
{
	struct moves *m = arg;

	if (m->n < 16)
		m->seen[m->n++] = *s;
	return m->accept;
}

static void
test_table_ready_only_once_rolled(void **state)
{
	struct lk_kcount	*kn = *state;
	struct moves		 m = { .accept = true };
	struct stat		 st;
	char			 path[128];

	assert_null(lk_kcount_slot(kn, 7, DAY, true));
	lk_kcount_roll(kn, DAY, record, &m);
	assert_int_equal(m.n, 0);
	assert_non_null(lk_kcount_slot(kn, 7, DAY, true));
	assert_null(lk_kcount_slot(kn, 7, DAY + 1, true));	/* tomorrow's: not yet */
	assert_null(lk_kcount_slot(kn, 8, DAY, false));		/* not taken */
	assert_ptr_equal(lk_kcount_slot(kn, 7, DAY, false), lk_kcount_slot(kn, 7, DAY, true));
	assert_ptr_not_equal(lk_kcount_slot(kn, 7, DAY, true), lk_kcount_slot(kn, 8, DAY, true));
	snprintf(path, sizeof(path), "%s/counts", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void
test_spend_give_and_windows(void **state)
{
	struct lk_kcount	*kn = *state;
	struct lk_kcount_slot	*s;
	const uint32_t		 w1 = lk_kcount_win(1000, 60), w2 = lk_kcount_win(1060, 60);
	int64_t			 left, db_n;
	bool			 full;
	int			 i;

	lk_kcount_roll(kn, DAY, record, &(struct moves){ .accept = true });
	s = lk_kcount_slot(kn, 1, DAY, true);
	assert_false(lk_kcount_spend(s, w1, &left, &db_n, &full));
	assert_false(full);
	lk_kcount_give(s, w1, 3, 10, false);
	lk_kcount_give(s, w1, 2, 12, false);
	for (i = 4; i >= 0; i--) {
		assert_true(lk_kcount_spend(s, w1, &left, &db_n, &full));
		assert_int_equal(left, i);
		assert_int_equal(db_n, 12);
	}
	assert_false(lk_kcount_spend(s, w1, &left, &db_n, &full));
	/* The window spent: the database said so. */
	lk_kcount_give(s, w1, 0, 50, true);
	assert_false(lk_kcount_spend(s, w1, &left, &db_n, &full));
	assert_true(full);
	/* The next window: what the last left is not this one's. */
	lk_kcount_give(s, w1, 4, 50, false);
	assert_false(lk_kcount_spend(s, w2, &left, &db_n, &full));
	assert_false(full);
	lk_kcount_give(s, w2, 1, 1, false);
	assert_true(lk_kcount_spend(s, w2, &left, &db_n, &full));
	assert_int_equal(left, 0);
	assert_false(lk_kcount_spend(s, w1, &left, &db_n, &full));
}

/* Four processes spend one slot's 2,000 uses, 1,000 tries each: exactly 2,000 succeed. */
static void
test_spent_once_across_processes(void **state)
{
	struct lk_kcount	*kn = *state;
	struct lk_kcount_slot	*s;
	const uint32_t		 w = lk_kcount_win(0, 86400);
	struct moves		 m = { .accept = true };
	int64_t			 left, db_n, total = 0;
	int			 p, st, fds[2];
	bool			 full;

	lk_kcount_roll(kn, DAY, record, &m);
	s = lk_kcount_slot(kn, 42, DAY, true);
	lk_kcount_give(s, w, 2000, 2000, true);
	assert_int_equal(pipe(fds), 0);
	for (p = 0; p < 4; p++)
		if (fork() == 0) {
			struct lk_kcount *own = lk_kcount_open(dir, 100);
			struct lk_kcount_slot *mine = lk_kcount_slot(own, 42, DAY, false);
			int64_t n = 0;
			int i;

			for (i = 0; i < 1000; i++)
				if (lk_kcount_spend(mine, w, &left, &db_n, &full)) {
					lk_kcount_add(mine, 0, 1);
					n++;
				} else
					lk_kcount_add(mine, 1, 0);
			if (write(fds[1], &n, sizeof(n)) != (ssize_t)sizeof(n))
				_exit(1);
			_exit(0);
		}
	for (p = 0; p < 4; p++) {
		int64_t n;

		assert_int_equal(read(fds[0], &n, sizeof(n)), (ssize_t)sizeof(n));
		total += n;
		wait(&st);
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(total, 2000);
	lk_kcount_roll(kn, DAY, record, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.seen[0].key_id, 42);
	assert_int_equal(m.seen[0].day, DAY);
	assert_int_equal(m.seen[0].n[0], 2000);
	assert_int_equal(m.seen[0].n[1], 2000);
	assert_int_equal(m.seen[0].last_valid_at, 1);
	close(fds[0]);
	close(fds[1]);
}

static void
test_moves_what_grew_until_accepted(void **state)
{
	struct lk_kcount	*kn = *state;
	struct lk_kcount_slot	*a, *b;
	struct moves		 m = { .accept = false };

	lk_kcount_roll(kn, DAY, record, &m);
	a = lk_kcount_slot(kn, 1, DAY, true);
	b = lk_kcount_slot(kn, 2, DAY, true);
	lk_kcount_add(a, 2, 0);
	lk_kcount_roll(kn, DAY, record, &m);
	assert_int_equal(m.n, 1);			/* b counted nothing */
	m.n = 0;
	m.accept = true;
	lk_kcount_roll(kn, DAY, record, &m);	/* not accepted last time: seen again */
	assert_int_equal(m.n, 1);
	m.n = 0;
	lk_kcount_roll(kn, DAY, record, &m);	/* accepted: nothing grew since */
	assert_int_equal(m.n, 0);
	lk_kcount_add(b, 0, 5);
	lk_kcount_add(a, 2, 0);
	lk_kcount_roll(kn, DAY, record, &m);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.seen[0].key_id, 1);
	assert_int_equal(m.seen[0].n[2], 2);		/* cumulative */
	assert_int_equal(m.seen[1].key_id, 2);
	assert_int_equal(m.seen[1].last_valid_at, 5);
}

static void
test_days_roll(void **state)
{
	struct lk_kcount	*kn = *state;
	struct moves		 m = { .accept = true };

	lk_kcount_roll(kn, DAY, record, &m);
	lk_kcount_add(lk_kcount_slot(kn, 9, DAY, true), 0, 1);
	/* The next day: yesterday's table is still moved. */
	lk_kcount_roll(kn, DAY + 1, record, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.seen[0].day, DAY);
	assert_non_null(lk_kcount_slot(kn, 9, DAY + 1, true));
	lk_kcount_add(lk_kcount_slot(kn, 9, DAY, false), 0, 2);	/* a late use of yesterday */
	m.n = 0;
	lk_kcount_roll(kn, DAY + 1, record, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.seen[0].n[0], 2);
	/* Two days on: the table of DAY is moved once more and emptied for DAY + 2. */
	lk_kcount_add(lk_kcount_slot(kn, 9, DAY, false), 0, 3);
	m.n = 0;
	lk_kcount_roll(kn, DAY + 2, record, &m);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.seen[0].day, DAY);
	assert_int_equal(m.seen[0].n[0], 3);
	assert_null(lk_kcount_slot(kn, 9, DAY, false));
	assert_null(lk_kcount_slot(kn, 9, DAY + 2, false));
}

static void
test_reset_and_layout(void **state)
{
	struct lk_kcount	*kn = *state, *other;
	uint64_t		 e = lk_kcount_epoch(kn);
	struct moves		 m = { .accept = true };

	assert_int_not_equal(e, 0);
	lk_kcount_roll(kn, DAY, record, &m);
	lk_kcount_add(lk_kcount_slot(kn, 3, DAY, true), 0, 1);
	assert_int_not_equal(lk_kcount_reset(kn), e);
	assert_null(lk_kcount_slot(kn, 3, DAY, true));		/* not ready until rolled */
	lk_kcount_roll(kn, DAY, record, &m);
	assert_int_equal(m.n, 0);				/* emptied: nothing to move */
	/* Opened for another size: a new file, whose epoch differs. */
	other = lk_kcount_open(dir, 100000);
	assert_non_null(other);
	assert_int_not_equal(lk_kcount_epoch(other), lk_kcount_epoch(kn));
	assert_true(lk_kcount_current(other));
	assert_false(lk_kcount_current(kn));		/* replaced: its users reopen */
	lk_kcount_close(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_ready_only_once_rolled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spend_give_and_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spent_once_across_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moves_what_grew_until_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_days_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_layout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
