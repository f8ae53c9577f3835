/* test_conf.c — the "key = value" config parser: defaults, syntax, bounds, password file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/conf.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Parse text over the defaults; err gets the message. */
static enum lk_err
parse(struct lk_conf *c, const char *text, char *err, size_t errsz)
{
	lk_conf_defaults(c);
	err[0] = '\0';
	return lk_conf_parse(c, text, err, errsz);
}

/* Write content to a new temporary file; path receives its name. */
static void
temp_file(char path[64], const char *content, size_t len)
{
	int fd;

	snprintf(path, 64, "/tmp/latchkey-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
}

static void
test_defaults(void **state)
{
	struct lk_conf c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	lk_conf_defaults(&c);
	assert_string_equal(c.db_host, "127.0.0.1");
	assert_int_equal(c.db_port, 3306);
	assert_string_equal(c.db_socket, "");
	assert_string_equal(c.db_name, "latchkey");
	assert_string_equal(c.db_user, "latchkey");
	assert_string_equal(c.db_password, "");
	assert_int_equal(c.db_connect_timeout, 2);
	assert_int_equal(c.db_read_timeout, 3);
	assert_int_equal(c.db_write_timeout, 3);
	assert_string_equal(c.key_prefix, "lk");
	assert_string_equal(c.base_path, "/v1");
	assert_int_equal(c.max_body, 65536);
	assert_int_equal(c.max_keys_per_account, 10000);
	assert_int_equal(c.max_children_per_account, 1000);
}

static void
test_empty_and_comments_keep_defaults(void **state)
{
	static const char *const texts[] = {
		"", "\n", "\n\n\n", "# a comment\n", "   # indented comment\n",
		"\t\n  \n", "#db_port = 1\n", "# key_prefix = BAD\n", "\r\n", "# no newline at end",
	};
	struct lk_conf	 c, d;
	char		 err[256];
	size_t		 i;

	(void)state;
	lk_conf_defaults(&d);
	for (i = 0; i < NELEM(texts); i++) {
		if (parse(&c, texts[i], err, sizeof(err)) != LK_OK)
			fail_msg("\"%s\" refused: %s", texts[i], err);
		assert_memory_equal(&c, &d, sizeof(c));
	}
}

static void
test_values_and_spacing(void **state)
{
	static const char text[] =
	    "# latchkey.conf\n"
	    "\n"
	    "db_host=db.internal\n"
	    "db_port   =   3307\n"
	    "  db_socket = /run/mysqld/mysqld.sock  \n"
	    "\tdb_name\t=\tlk_prod\t\n"
	    "db_user = svc\r\n"
	    "db_password = p@ss = word #not-a-comment\n"
	    "db_connect_timeout = 1\n"
	    "db_read_timeout = 300\n"
	    "db_write_timeout = 42\n"
	    "key_prefix = acme\n"
	    "base_path = /api/v2\n"
	    "max_body = 1024";		/* no final newline */
	struct lk_conf	 c;
	char		 err[256];

	(void)state;
	assert_int_equal(parse(&c, text, err, sizeof(err)), LK_OK);
	assert_string_equal(c.db_host, "db.internal");
	assert_int_equal(c.db_port, 3307);
	assert_string_equal(c.db_socket, "/run/mysqld/mysqld.sock");
	assert_string_equal(c.db_name, "lk_prod");
	assert_string_equal(c.db_user, "svc");
	assert_string_equal(c.db_password, "p@ss = word #not-a-comment");
	assert_int_equal(c.db_connect_timeout, 1);
	assert_int_equal(c.db_read_timeout, 300);
	assert_int_equal(c.db_write_timeout, 42);
	assert_string_equal(c.key_prefix, "acme");
	assert_string_equal(c.base_path, "/api/v2");
	assert_int_equal(c.max_body, 1024);
}

static void
test_later_line_wins(void **state)
{
	struct lk_conf	 c;
	char		 err[256];

	(void)state;
	assert_int_equal(parse(&c, "db_port = 1\ndb_port = 2\n", err, sizeof(err)), LK_OK);
	assert_int_equal(c.db_port, 2);
}

static void
test_number_bounds(void **state)
{
	static const struct { const char *line; bool ok; } cases[] = {
		{ "db_port = 1", true }, { "db_port = 65535", true },
		{ "db_port = 0", false }, { "db_port = 65536", false },
		{ "db_port = -1", false }, { "db_port = +1", false }, { "db_port = ", false },
		{ "db_port = abc", false }, { "db_port = 12x", false }, { "db_port = 1 2", false },
		{ "db_port = 0x10", false }, { "db_port = 99999999999999999999999", false },
		{ "db_connect_timeout = 1", true }, { "db_connect_timeout = 300", true },
		{ "db_connect_timeout = 0", false }, { "db_connect_timeout = 301", false },
		{ "db_read_timeout = 0", false }, { "db_read_timeout = 301", false },
		{ "db_write_timeout = 0", false }, { "db_write_timeout = 301", false },
		{ "max_body = 1024", true }, { "max_body = 16777216", true },
		{ "max_body = 1023", false }, { "max_body = 16777217", false },
		{ "max_body = 4294967296", false },
		{ "max_keys_per_account = 1", true }, { "max_keys_per_account = 10000000", true },
		{ "max_keys_per_account = 0", false }, { "max_keys_per_account = 10000001", false },
		{ "max_keys_per_account = -5", false }, { "max_keys_per_account = 1e4", false },
		{ "max_children_per_account = 1", true }, { "max_children_per_account = 1000000", true },
		{ "max_children_per_account = 0", false }, { "max_children_per_account = 1000001", false },
		{ "max_children_per_account = ten", false },
	};
	struct lk_conf	 c;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		enum lk_err e = parse(&c, cases[i].line, err, sizeof(err));

		if ((e == LK_OK) != cases[i].ok)
			fail_msg("\"%s\": got %d (%s)", cases[i].line, e, err);
		if (!cases[i].ok) {
			assert_int_equal(e, LK_ERR_VALIDATION);
			if (strncmp(err, "line 1: ", 8) != 0 || strstr(err, "must be a number") == NULL)
				fail_msg("\"%s\": message \"%s\"", cases[i].line, err);
		}
	}
	assert_int_equal(parse(&c, "max_body = 16777216", err, sizeof(err)), LK_OK);
	assert_int_equal(c.max_body, 16777216);
	assert_int_equal(parse(&c, "max_keys_per_account = 25\nmax_children_per_account = 7",
	    err, sizeof(err)), LK_OK);
	assert_int_equal(c.max_keys_per_account, 25);
	assert_int_equal(c.max_children_per_account, 7);
}

static void
test_errors_name_the_line(void **state)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "nope = 1\n", "line 1: unknown setting 'nope'" },
		{ "# c\n\ndb_host = x\nDB_PORT = 1\n", "line 4: unknown setting 'DB_PORT'" },
		{ "db_hostname = x", "line 1: unknown setting 'db_hostname'" },
		{ "= x", "line 1: unknown setting ''" },
		{ "db_host\n", "line 1: expected key = value" },
		{ "\n\ndb_port 3306\n", "line 3: expected key = value" },
		{ "db_port = 1\ndb_port = 0\n", "line 2: db_port must be a number from 1 to 65535" },
		{ "db_name = 12345678901234567890123456789012345678901234567890123456789012345\n",
		    "line 1: db_name is too long" },
		{ "db_port = 3306  # the default\n",
		    "line 1: inline comments are not allowed (put '# ...' on a line of its own)" },
		{ "\ndb_host = localhost\t# socket\n",
		    "line 2: inline comments are not allowed (put '# ...' on a line of its own)" },
		{ "key_prefix = #lk\n",
		    "line 1: inline comments are not allowed (put '# ...' on a line of its own)" },
	};
	struct lk_conf	 c;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		assert_int_equal(parse(&c, cases[i].text, err, sizeof(err)), LK_ERR_VALIDATION);
		assert_string_equal(err, cases[i].err);
	}
}

static void
test_string_lengths(void **state)
{
	char		 text[400], err[256];
	struct lk_conf	 c;

	(void)state;
	/* db_name holds 64 characters, not 65. */
	snprintf(text, sizeof(text), "db_name = %.64s", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(parse(&c, text, err, sizeof(err)), LK_OK);
	assert_int_equal(strlen(c.db_name), 64);
}

static void
test_line_length(void **state)
{
	char		 line[1100], err[256];
	struct lk_conf	 c;

	(void)state;
	/* A line of 1024 characters or more is refused; 1023 is fine. */
	memset(line, ' ', sizeof(line));
	memcpy(line, "db_host = x", 11);
	line[1024] = '\0';
	assert_int_equal(parse(&c, line, err, sizeof(err)), LK_ERR_VALIDATION);
	assert_string_equal(err, "line 1: too long");
	line[1023] = '\0';
	assert_int_equal(parse(&c, line, err, sizeof(err)), LK_OK);
	assert_string_equal(c.db_host, "x");
}

static void
test_key_prefix(void **state)
{
	static const struct { const char *v; bool ok; } cases[] = {
		{ "lk", true }, { "ab", true }, { "abcdefghij", true },
		{ "", false }, { "l", false }, { "LK", false }, { "l1", false },
		{ "l_k", false }, { "abcdefghijk", false }, { "l k", false },
	};
	struct lk_conf	 c;
	char		 text[128], err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		enum lk_err e;

		snprintf(text, sizeof(text), "key_prefix = %s\n", cases[i].v);
		e = parse(&c, text, err, sizeof(err));
		if ((e == LK_OK) != cases[i].ok)
			fail_msg("key_prefix \"%s\": got %d (%s)", cases[i].v, e, err);
		if (cases[i].ok)
			assert_string_equal(c.key_prefix, cases[i].v);
		else {
			assert_int_equal(e, LK_ERR_VALIDATION);
			assert_non_null(strstr(err, "key_prefix"));
		}
	}
}

static void
test_base_path(void **state)
{
	static const struct { const char *v; bool ok; } cases[] = {
		{ "/v1", true }, { "/api/v2", true }, { "/x", true },
		{ "", false }, { "/", false }, { "v1", false }, { "/v1/", false },
		{ "api/v1", false },
	};
	struct lk_conf	 c;
	char		 text[128], err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		enum lk_err e;

		snprintf(text, sizeof(text), "base_path = %s\n", cases[i].v);
		e = parse(&c, text, err, sizeof(err));
		if ((e == LK_OK) != cases[i].ok)
			fail_msg("base_path \"%s\": got %d (%s)", cases[i].v, e, err);
		if (cases[i].ok)
			assert_string_equal(c.base_path, cases[i].v);
		else {
			assert_int_equal(e, LK_ERR_VALIDATION);
			assert_non_null(strstr(err, "base_path"));
		}
	}
}

static void
test_password_file(void **state)
{
	static const struct { const char *content; size_t len; const char *want; } cases[] = {
		{ "s3cret\n", 7, "s3cret" },
		{ "s3cret", 6, "s3cret" },
		{ "s3cret\r\n", 8, "s3cret" },
		{ "s3cret\nsecond line\n", 19, "s3cret" },
		{ " spaced pass \n", 14, " spaced pass " },	/* only the line end is stripped */
		{ "\n", 1, "" },
		{ "", 0, "" },
	};
	struct lk_conf	 c;
	char		 path[64], text[128], err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		temp_file(path, cases[i].content, cases[i].len);
		snprintf(text, sizeof(text), "db_password = inline\ndb_password_file = %s\n", path);
		if (parse(&c, text, err, sizeof(err)) != LK_OK)
			fail_msg("case %zu refused: %s", i, err);
		assert_string_equal(c.db_password, cases[i].want);
		/* The file wins over db_password wherever the lines stand. */
		snprintf(text, sizeof(text), "db_password_file = %s\ndb_password = inline\n", path);
		if (parse(&c, text, err, sizeof(err)) != LK_OK)
			fail_msg("case %zu refused: %s", i, err);
		unlink(path);
		assert_string_equal(c.db_password, cases[i].want);
	}
}

static void
test_password_file_refusals(void **state)
{
	struct lk_conf	 c;
	char		 path[64], text[128], err[256], big[600];

	(void)state;
	/* Missing file. */
	assert_int_equal(parse(&c, "\ndb_password_file = /nonexistent/latchkey-pass\n",
	    err, sizeof(err)), LK_ERR_VALIDATION);
	assert_string_equal(err, "line 2: cannot read db_password_file /nonexistent/latchkey-pass");
	/* A directory is not a password file. */
	assert_int_equal(parse(&c, "db_password_file = /tmp\n", err, sizeof(err)),
	    LK_ERR_VALIDATION);
	assert_non_null(strstr(err, "line 1: "));
	/* 256 characters do not fit db_password[256]; 255 do. */
	memset(big, 'p', sizeof(big));
	temp_file(path, big, 256);
	snprintf(text, sizeof(text), "db_password_file = %s", path);
	assert_int_equal(parse(&c, text, err, sizeof(err)), LK_ERR_VALIDATION);
	assert_non_null(strstr(err, "too long"));
	unlink(path);
	temp_file(path, big, 255);
	snprintf(text, sizeof(text), "db_password_file = %s", path);
	assert_int_equal(parse(&c, text, err, sizeof(err)), LK_OK);
	assert_int_equal(strlen(c.db_password), 255);
	unlink(path);
	/* A file too large to be a password is refused, not truncated. */
	temp_file(path, big, sizeof(big));
	snprintf(text, sizeof(text), "db_password_file = %s", path);
	assert_int_equal(parse(&c, text, err, sizeof(err)), LK_ERR_VALIDATION);
	unlink(path);
}

static void
test_load_file(void **state)
{
	static const char content[] = "key_prefix = acme\nmax_body = 2048\n";
	struct lk_conf	 c;
	char		 path[64], err[256];

	(void)state;
	temp_file(path, content, strlen(content));
	assert_int_equal(lk_conf_load(&c, path, err, sizeof(err)), LK_OK);
	unlink(path);
	assert_string_equal(c.key_prefix, "acme");
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(c.db_port, 3306);	/* defaults under the file */
	assert_int_equal(lk_conf_load(&c, "/nonexistent/latchkey.conf", err, sizeof(err)),
	    LK_ERR_VALIDATION);
	assert_string_equal(err, "cannot read config file /nonexistent/latchkey.conf");
	/* an error in the file names the file and the line */
	temp_file(path, "# x\nmax_body = 1\n", 17);
	assert_int_equal(lk_conf_load(&c, path, err, sizeof(err)), LK_ERR_VALIDATION);
	{
		char want[256];

		snprintf(want, sizeof(want), "%s: line 2: max_body must be a number from 1024 to 16777216",
		    path);
		assert_string_equal(err, want);
	}
	unlink(path);
}

/* The sample config that make install ships parses as it stands (run from the repo root). */
static void
test_sample_config_parses(void **state)
{
	struct lk_conf	 c;
	char		 err[256];

	(void)state;
	if (lk_conf_load(&c, "etc/latchkey.conf.sample", err, sizeof(err)) != LK_OK)
		fail_msg("etc/latchkey.conf.sample: %s", err);
	assert_string_equal(c.db_host, "localhost");
	assert_int_equal(c.db_read_timeout, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_and_comments_keep_defaults),
		cmocka_unit_test(test_sample_config_parses),
		cmocka_unit_test(test_values_and_spacing),
		cmocka_unit_test(test_later_line_wins),
		cmocka_unit_test(test_number_bounds),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_string_lengths),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_key_prefix),
		cmocka_unit_test(test_base_path),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_password_file_refusals),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
