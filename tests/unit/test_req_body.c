/*
 * test_req_body.c — request body decoding through lk_req_read_body as a CGI
 * program sees it: CONTENT_TYPE and CONTENT_LENGTH in the environment, the
 * body on stdin. JSON via Jansson, forms via uriparser, size and type limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/req.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct body_case {
	const char	*type;		/* CONTENT_TYPE, NULL: unset */
	const char	*body;
	size_t		 len;		/* bytes of body on stdin */
	long		 claimed;	/* CONTENT_LENGTH, -1: len */
	enum lk_err	 want;
	const char	*want_json;	/* decoded body, compared with json_equal; NULL: none */
};

static struct lk_conf conf;

/* Feed body to stdin, set the CGI variables, decode; returns the result, fills *body. */
static enum lk_err
decode(const struct body_case *c, json_t **body)
{
	struct lk_req	 req;
	char		 path[] = "/tmp/lk-test-body-XXXXXX", cl[32];
	int		 fd;
	enum lk_err	 e;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, c->body, c->len), (ssize_t)c->len);
	close(fd);
	assert_non_null(freopen(path, "rb", stdin));
	unlink(path);
	if (c->type != NULL)
		setenv("CONTENT_TYPE", c->type, 1);
	else
		unsetenv("CONTENT_TYPE");
	snprintf(cl, sizeof(cl), "%ld", c->claimed < 0 ? (long)c->len : c->claimed);
	setenv("CONTENT_LENGTH", cl, 1);

	memset(&req, 0, sizeof(req));
	req.conf = &conf;
	e = lk_req_read_body(&req);
	*body = req.body != NULL ? json_incref(req.body) : NULL;
	lk_req_free(&req);
	return e;
}

static void
run_cases(const struct body_case *cases, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_t		*body, *want;
		enum lk_err	 e = decode(&cases[i], &body);

		if (e != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i,
			    cases[i].type ? cases[i].type : "-", e, cases[i].want);
		if (cases[i].want_json == NULL) {
			if (e == LK_OK && body != NULL)
				fail_msg("case %zu: unexpected body", i);
		} else {
			want = json_loads(cases[i].want_json, 0, NULL);
			assert_non_null(want);
			if (body == NULL || !json_equal(body, want))
				fail_msg("case %zu: body differs from %s", i, cases[i].want_json);
			json_decref(want);
		}
		json_decref(body);
	}
}

#define B(s) s, sizeof(s) - 1

static void
test_json_bodies(void **state)
{
	static const struct body_case cases[] = {
		{ "application/json", B("{\"label\":\"a\",\"n\":1}"), -1, LK_OK, "{\"label\":\"a\",\"n\":1}" },
		{ "application/json; charset=utf-8", B("{}"), -1, LK_OK, "{}" },
		{ "Application/JSON;charset=\"UTF-8\"", B("{\"x\":[1]}"), -1, LK_OK, "{\"x\":[1]}" },
		{ "application/json", B("{\"label\":\"\xc3\xa9\"}"), -1, LK_OK, "{\"label\":\"\xc3\xa9\"}" },
		/* refused: 400 */
		{ "application/json", B("{\"a\":1,\"a\":2}"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("[1,2]"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("\"text\""), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{\"a\":"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{\"a\":\"x\\u0000y\"}"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{\"a\":\"\xff\xfe\"}"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{\"a\":\"\xc0\xaf\"}"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{} {}"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/json", B("{\"a\":1}"), 20, LK_ERR_VALIDATION, NULL },	/* short body */
		/* refused: 415 */
		{ "text/plain", B("{}"), -1, LK_ERR_MEDIA_TYPE, NULL },
		{ "application/json; charset=latin1", B("{}"), -1, LK_ERR_MEDIA_TYPE, NULL },
		{ "multipart/form-data; boundary=x", B("--x--"), -1, LK_ERR_MEDIA_TYPE, NULL },
		{ NULL, B("{}"), -1, LK_ERR_MEDIA_TYPE, NULL },
		/* no body and no type: nothing to decode */
		{ NULL, B(""), -1, LK_OK, NULL },
	};

	(void)state;
	run_cases(cases, NELEM(cases));
}

static void
test_deep_nesting_refused(void **state)
{
	struct body_case	 c = { "application/json", NULL, 0, -1, LK_ERR_VALIDATION, NULL };
	char			*deep;
	size_t			 i, depth = 30000;

	(void)state;
	deep = malloc(2 * depth + 1);
	assert_non_null(deep);
	for (i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[2 * depth - 1 - i] = ']';
	}
	deep[2 * depth] = '\0';
	c.body = deep;
	c.len = 2 * depth;
	run_cases(&c, 1);
	free(deep);
}

static void
test_form_bodies(void **state)
{
	static const struct body_case cases[] = {
		{ "application/x-www-form-urlencoded", B("label=My+key&scopes=a&scopes=b"), -1, LK_OK,
		  "{\"label\":\"My key\",\"scopes\":[\"a\",\"b\"]}" },
		{ "application/x-www-form-urlencoded; charset=UTF-8", B("meta=%7B%22a%22%3A1%7D"), -1, LK_OK,
		  "{\"meta\":\"{\\\"a\\\":1}\"}" },
		{ "application/x-www-form-urlencoded", B("label=a%00b"), -1, LK_ERR_VALIDATION, NULL },
		{ "application/x-www-form-urlencoded", B("label=%ff%fe"), -1, LK_ERR_VALIDATION, NULL },
	};

	(void)state;
	run_cases(cases, NELEM(cases));
}

static void
test_size_limit(void **state)
{
	struct body_case	 c = { "application/json", "{}", 2, -1, LK_OK, "{}" };
	json_t			*body;

	(void)state;
	/* Over max_body by Content-Length alone: 413 before anything is read. */
	c.claimed = (long)conf.max_body + 1;
	assert_int_equal(decode(&c, &body), LK_ERR_TOO_LARGE);
	assert_null(body);
	c.claimed = -1;
	assert_int_equal(decode(&c, &body), LK_OK);
	json_decref(body);
}

static void
test_bad_content_length(void **state)
{
	struct lk_req	 req;

	(void)state;
	setenv("CONTENT_TYPE", "application/json", 1);
	setenv("CONTENT_LENGTH", "12abc", 1);
	memset(&req, 0, sizeof(req));
	req.conf = &conf;
	assert_int_equal(lk_req_read_body(&req), LK_ERR_VALIDATION);
	assert_null(req.body);
	lk_req_free(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_bodies),
		cmocka_unit_test(test_deep_nesting_refused),
		cmocka_unit_test(test_form_bodies),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_bad_content_length),
	};

	lk_conf_defaults(&conf);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
