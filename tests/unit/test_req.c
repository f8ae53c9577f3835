/* test_req.c — form decoding, and field tables run over a request (lib/http/req.c, lib/base/fields.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/conf.h"
#include "http/req.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define ID24		"abcdefghijABCDEFGHIJ0123"	/* 24 base62 characters */

static struct lk_conf	conf;

static const char *const kinds[] = { "service", "user", NULL };
static const char *const acct[] = { "acct_", NULL };

/* One field of each type; "note" and "grace" are nullable, "grace" may be 0. */
static const struct lk_field fields[] = {
	{ "label", LK_FT_TEXT, 0, 10, NULL },
	{ "word", LK_FT_WORD, 0, 8, NULL },
	{ "kind", LK_FT_ENUM, 0, 0, kinds },
	{ "account_id", LK_FT_ID, 0, 0, acct },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "ttl", LK_FT_DURATION, 0, 90 * 86400, NULL },
	{ "expires_at", LK_FT_TIME, 0, 0, NULL },
	{ "limit", LK_FT_INT, 0, 100, NULL },
	{ "metadata", LK_FT_OBJECT, 0, 32, NULL },
	{ "ratelimit", LK_FT_RATELIMIT, 0, 0, NULL },
	{ "note", LK_FT_TEXT, LK_FF_NULLABLE, 20, NULL },
	{ "grace", LK_FT_DURATION, LK_FF_NULLABLE | LK_FF_ZERO, 86400, NULL },
	{ "digest", LK_FT_HEX, 0, 8, NULL },
	{ NULL, 0, 0, 0, NULL }
};

static const struct lk_field required_fields[] = {
	{ "name", LK_FT_TEXT, LK_FF_REQUIRED, 50, NULL },
	{ "parent", LK_FT_ID, LK_FF_REQUIRED | LK_FF_NULLABLE, 0, acct },
	{ "opt", LK_FT_TEXT, 0, 50, NULL },
	{ NULL, 0, 0, 0, NULL }
};

static void
req_init(struct lk_req *req)
{
	memset(req, 0, sizeof(*req));
	req->conf = &conf;
}

static json_t *
load(const char *text)
{
	json_error_t	 jerr;
	json_t		*v = json_loads(text, JSON_DECODE_ANY, &jerr);

	if (v == NULL)
		fail_msg("bad test JSON %s: %s", text, jerr.text);
	return v;
}

/* details.field of the recorded error, or NULL. */
static const char *
err_field(const struct lk_req *req)
{
	return json_string_value(json_object_get(req->err_details, "field"));
}

/* Compare got with the JSON text want; fail with both shown. */
static void
assert_json(json_t *got, const char *want, const char *what)
{
	json_t	*w = load(want);
	char	*g = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);

	if (!json_equal(got, w))
		fail_msg("%s: got %s, want %s", what, g ? g : "NULL", want);
	free(g);
	json_decref(w);
}

/* ---- lk_req_decode_form ---- */

static void
test_decode_form_accepted(void **state)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "", "{}" },
		{ "a=1", "{\"a\":\"1\"}" },
		{ "a=1&b=2", "{\"a\":\"1\",\"b\":\"2\"}" },
		{ "a=1&a=2", "{\"a\":[\"1\",\"2\"]}" },
		{ "a=1&b=x&a=2&a=3", "{\"a\":[\"1\",\"2\",\"3\"],\"b\":\"x\"}" },
		{ "q=hello+world", "{\"q\":\"hello world\"}" },
		{ "q=a%2Bb", "{\"q\":\"a+b\"}" },
		{ "q=%41%42%20c", "{\"q\":\"AB c\"}" },
		{ "q=%c3%a9t%C3%A9", "{\"q\":\"\\u00e9t\\u00e9\"}" },
		{ "my+key=v", "{\"my key\":\"v\"}" },
		{ "k%26=v%3Dw", "{\"k&\":\"v=w\"}" },
		{ "q=%2500", "{\"q\":\"%00\"}" },	/* an escaped '%', not a NUL */
		{ "a", "{\"a\":\"\"}" },
		{ "a=", "{\"a\":\"\"}" },
		{ "a=&a=", "{\"a\":[\"\",\"\"]}" },
		{ "=x", "{}" },				/* empty names are dropped */
		{ "&&a=1&&", "{\"a\":\"1\"}" },
		{ "scopes=keys:read+verify,tasks:*", "{\"scopes\":\"keys:read verify,tasks:*\"}" },
	};
	char		 bad[64];
	json_t		*obj;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(bad, 'x', sizeof(bad));
		obj = lk_req_decode_form(cases[i].text, strlen(cases[i].text), bad, sizeof(bad));
		if (obj == NULL)
			fail_msg("form \"%s\" refused", cases[i].text);
		assert_true(json_is_object(obj));
		assert_json(obj, cases[i].want, cases[i].text);
		assert_string_equal(bad, "");
		json_decref(obj);
	}
}

static void
test_decode_form_length_bounded(void **state)
{
	char		 bad[64];
	json_t		*obj;
	char		*exact;

	(void)state;
	/* Only len bytes are read: the text need not be NUL-terminated. */
	exact = malloc(7);
	assert_non_null(exact);
	memcpy(exact, "a=1&b=2", 7);
	obj = lk_req_decode_form(exact, 7, bad, sizeof(bad));
	assert_non_null(obj);
	assert_json(obj, "{\"a\":\"1\",\"b\":\"2\"}", "exact");
	json_decref(obj);
	obj = lk_req_decode_form(exact, 3, bad, sizeof(bad));
	assert_non_null(obj);
	assert_json(obj, "{\"a\":\"1\"}", "prefix");
	json_decref(obj);
	free(exact);
}

static void
test_decode_form_refused(void **state)
{
	/* badname: the field to blame, "" when no valid name is known. */
	static const struct { const char *text; size_t len; const char *bad; } cases[] = {
		{ "q=%00", 5, "" },			/* encoded NUL: refused before decoding */
		{ "q=a%00b", 7, "" },
		{ "%00=x", 5, "" },
		{ "a=1&q=%00", 9, "" },
		{ "q=a\0b", 5, "" },			/* a raw NUL inside len */
		{ "%ff=v", 5, "" },			/* invalid UTF-8 name */
		{ "%C3=v", 5, "" },
		{ "q=%FF", 5, "q" },			/* invalid UTF-8 value: its name */
		{ "q=%C3", 5, "q" },
		{ "q=%C3%28", 8, "q" },
		{ "q=%ED%A0%80", 11, "q" },		/* UTF-16 surrogate */
		{ "q=%C0%80", 8, "q" },			/* overlong NUL */
		{ "q=%F4%90%80%80", 14, "q" },		/* above U+10FFFF */
		{ "a=1&name=%80", 12, "name" },
		{ "a=1&a=%80", 9, "a" },		/* the repeat that would make an array */
	};
	char	 bad[64];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(bad, 'x', sizeof(bad));
		if (lk_req_decode_form(cases[i].text, cases[i].len, bad, sizeof(bad)) != NULL)
			fail_msg("form case %zu accepted", i);
		if (strcmp(bad, cases[i].bad) != 0)
			fail_msg("form case %zu: badname \"%s\", want \"%s\"", i, bad, cases[i].bad);
	}
}

static void
test_decode_form_badname_truncated(void **state)
{
	char bad[4];

	(void)state;
	/* A long bad name is cut to fit, NUL-terminated. */
	assert_null(lk_req_decode_form("longname=%FF", 12, bad, sizeof(bad)));
	assert_string_equal(bad, "lon");
}

/* ---- lk_req_fields: one table of (field, raw JSON value, normalised JSON or NULL if refused) ---- */

struct field_case {
	const char	*field;
	const char	*in;
	const char	*want;
};

static void
run_field_cases(const struct field_case *cases, size_t n)
{
	struct lk_req	 req;
	json_t		*in, *out;
	enum lk_err	 e;
	size_t		 i;

	for (i = 0; i < n; i++) {
		req_init(&req);
		in = json_object();
		json_object_set_new(in, cases[i].field, load(cases[i].in));
		req.query = json_incref(in);	/* values as a query string gives them */
		out = (json_t *)&out;	/* poison: must be overwritten */
		e = lk_req_fields(&req, in, fields, &out);
		if (cases[i].want == NULL) {
			if (e != LK_ERR_VALIDATION)
				fail_msg("%s = %s: accepted (%d)", cases[i].field, cases[i].in, e);
			assert_null(out);
			if (err_field(&req) == NULL ||
			    strcmp(err_field(&req), cases[i].field) != 0)
				fail_msg("%s = %s: details.field %s", cases[i].field,
				    cases[i].in, err_field(&req) ? err_field(&req) : "NULL");
			assert_true(strstr(req.err_message, cases[i].field) != NULL);
		} else {
			char what[128];

			if (e != LK_OK)
				fail_msg("%s = %s: refused: %s", cases[i].field, cases[i].in,
				    req.err_message);
			assert_int_equal(json_object_size(out), 1);
			snprintf(what, sizeof(what), "%s = %s", cases[i].field, cases[i].in);
			assert_json(json_object_get(out, cases[i].field), cases[i].want, what);
			assert_null(req.err_details);
			json_decref(out);
		}
		json_decref(in);
		lk_req_free(&req);
	}
}

static void
test_fields_text(void **state)
{
	static const struct field_case cases[] = {
		{ "label", "\"hello\"", "\"hello\"" },
		{ "label", "\"a\"", "\"a\"" },
		{ "label", "\"0123456789\"", "\"0123456789\"" },	/* max 10 */
		{ "label", "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"",
		    "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"" },	/* 10 chars, 20 bytes */
		{ "label", "\"\\ud83d\\ude00 ok\"", "\"\\ud83d\\ude00 ok\"" },	/* 4-byte UTF-8 */
		{ "label", "\"a\\u00a0b\"", "\"a\\u00a0b\"" },		/* NBSP is not a control */
		{ "label", "\"\\u00ff\"", "\"\\u00ff\"" },
		{ "label", "\"01234567890\"", NULL },			/* 11 */
		{ "label", "\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"", NULL },
		{ "label", "\"\"", NULL },
		{ "label", "\"a\\tb\"", NULL },
		{ "label", "\"a\\nb\"", NULL },
		{ "label", "\"a\\rb\"", NULL },
		{ "label", "\"\\u0001\"", NULL },
		{ "label", "\"a\\u001f\"", NULL },
		{ "label", "\"a\\u007f\"", NULL },			/* DEL */
		{ "label", "\"a\\u0080\"", NULL },			/* C1 first */
		{ "label", "\"a\\u0085\"", NULL },			/* NEL */
		{ "label", "\"a\\u009f\"", NULL },			/* C1 last */
		{ "label", "123", NULL },
		{ "label", "true", NULL },
		{ "label", "null", NULL },
		{ "label", "{}", NULL },
		{ "label", "[\"a\"]", NULL },				/* given twice */
		{ "note", "\"x\"", "\"x\"" },
		{ "note", "\"a\\u0090\"", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_hex(void **state)
{
	static const struct field_case cases[] = {
		{ "digest", "\"0123abcd\"", "\"0123abcd\"" },
		{ "digest", "\"DEADbeef\"", "\"deadbeef\"" },		/* lower-cased */
		{ "digest", "\"0123abc\"", NULL },			/* 7 digits */
		{ "digest", "\"0123abcde\"", NULL },			/* 9 */
		{ "digest", "\"0123abcg\"", NULL },
		{ "digest", "\"0x23abcd\"", NULL },
		{ "digest", "\" 123abcd\"", NULL },
		{ "digest", "12345678", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_word(void **state)
{
	static const struct field_case cases[] = {
		{ "word", "\"key.make\"", "\"key.make\"" },		/* max 8 */
		{ "word", "\"!~\"", "\"!~\"" },				/* 0x21 and 0x7e */
		{ "word", "\"key.make1\"", NULL },			/* 9 */
		{ "word", "\"\"", NULL },
		{ "word", "\"a b\"", NULL },
		{ "word", "\"ab \"", NULL },
		{ "word", "\"a\\tb\"", NULL },
		{ "word", "\"a\\u007f\"", NULL },
		{ "word", "\"k\\u00e9y\"", NULL },
		{ "word", "\"a\\u00a0\"", NULL },
		{ "word", "1", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_enum_and_id(void **state)
{
	static const struct field_case cases[] = {
		{ "kind", "\"service\"", "\"service\"" },
		{ "kind", "\"user\"", "\"user\"" },
		{ "kind", "\"Service\"", NULL },
		{ "kind", "\"servic\"", NULL },
		{ "kind", "\"service \"", NULL },
		{ "kind", "\"\"", NULL },
		{ "kind", "1", NULL },
		{ "kind", "null", NULL },
		{ "account_id", "\"acct_" ID24 "\"", "\"acct_" ID24 "\"" },
		{ "account_id", "\"acct_000000000000000000000000\"", "\"acct_000000000000000000000000\"" },
		{ "account_id", "\"me\"", "\"me\"" },
		{ "account_id", "\"ME\"", NULL },
		{ "account_id", "\"acct_abcdefghijABCDEFGHIJ012\"", NULL },	/* 23 */
		{ "account_id", "\"acct_" ID24 "4\"", NULL },			/* 25 */
		{ "account_id", "\"key_" ID24 "x\"", NULL },			/* other prefix */
		{ "account_id", "\"ACCT_" ID24 "\"", NULL },
		{ "account_id", "\"acct_abcdefghijABCDEFGHIJ01_\"", NULL },
		{ "account_id", "\"acct_abcdefghijABCDEFGHIJ01-\"", NULL },
		{ "account_id", "\"acct_abcdefghijABCDEFGHIJ0\\u00e9\"", NULL },	/* 24 bytes, not alnum */
		{ "account_id", "\"acct_\"", NULL },
		{ "account_id", "\"\"", NULL },
		{ "account_id", "5", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_scopes(void **state)
{
	static const struct field_case cases[] = {
		{ "scopes", "[\"keys:read\",\"verify\"]", "\"keys:read verify\"" },
		{ "scopes", "[\"tasks:*\"]", "\"tasks:*\"" },
		{ "scopes", "[]", "\"\"" },
		{ "scopes", "[\"a\",\"b\",\"a\"]", "\"a b\"" },			/* dedup, order kept */
		{ "scopes", "[\"a\",\"a\",\"a\"]", "\"a\"" },
		{ "scopes", "\"a b,c\"", "\"a b c\"" },				/* form string */
		{ "scopes", "\"keys:read  verify,,tasks:*\"", "\"keys:read verify tasks:*\"" },
		{ "scopes", "\"a a,a b\"", "\"a b\"" },
		{ "scopes", "\" , \"", "\"\"" },
		{ "scopes", "[\"Keys:read\"]", NULL },
		{ "scopes", "[\"a\",\"b c\"]", NULL },				/* no splitting inside arrays */
		{ "scopes", "[\"a\",1]", NULL },
		{ "scopes", "[\"a\",null]", NULL },
		{ "scopes", "[\"*\"]", NULL },
		{ "scopes", "[\"\"]", NULL },
		{ "scopes", "\"a bad!\"", NULL },
		{ "scopes", "\"a B\"", NULL },
		{ "scopes", "5", NULL },
		{ "scopes", "{\"a\":1}", NULL },
		{ "scopes", "null", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

/* A JSON body must give a list as an array; one separated string is for forms and query strings. */
static void
test_fields_scopes_json_string(void **state)
{
	struct lk_req	 req;
	json_t		*out;

	(void)state;
	req_init(&req);
	req.body = load("{\"scopes\":\"a b\"}");
	assert_int_equal(lk_req_fields(&req, req.body, fields, &out), LK_ERR_VALIDATION);
	assert_null(out);
	assert_string_equal(err_field(&req), "scopes");
	assert_non_null(strstr(req.err_message, "JSON array"));
	lk_req_free(&req);

	req_init(&req);
	req.body = load("{\"scopes\":\"a b\"}");
	req.body_form = true;
	assert_int_equal(lk_req_fields(&req, req.body, fields, &out), LK_OK);
	assert_json(json_object_get(out, "scopes"), "\"a b\"", "form body");
	json_decref(out);
	lk_req_free(&req);

	req_init(&req);
	req.body = load("{\"scopes\":[\"a\",\"b\"]}");
	assert_int_equal(lk_req_fields(&req, req.body, fields, &out), LK_OK);
	assert_json(json_object_get(out, "scopes"), "\"a b\"", "JSON array");
	json_decref(out);
	lk_req_free(&req);

	/* an object inside a JSON body (an item of an import) is JSON too */
	req_init(&req);
	req.body = load("{\"keys\":[{\"scopes\":\"a b\"}]}");
	assert_int_equal(lk_req_fields(&req, json_array_get(json_object_get(req.body, "keys"), 0),
	    fields, &out), LK_ERR_VALIDATION);
	assert_null(out);
	assert_string_equal(err_field(&req), "scopes");
	lk_req_free(&req);
}

static void
test_fields_scopes_count(void **state)
{
	char		 arr[600], str[600], want[600];
	struct field_case c[4];
	size_t		 i, a = 0, s = 0, w = 0;

	(void)state;
	/* 32 distinct scopes are allowed; a 33rd is refused, as array and as string. */
	a += (size_t)snprintf(arr + a, sizeof(arr) - a, "[");
	for (i = 0; i < 32; i++) {
		a += (size_t)snprintf(arr + a, sizeof(arr) - a, "%s\"s%zu\"", i ? "," : "", i);
		s += (size_t)snprintf(str + s, sizeof(str) - s, "%ss%zu", i ? " " : "\"", i);
		w += (size_t)snprintf(want + w, sizeof(want) - w, "%ss%zu", i ? " " : "\"", i);
	}
	snprintf(want + w, sizeof(want) - w, "\"");
	{
		char arr32[600], str32[600], arr33[620], str33[620];

		snprintf(arr32, sizeof(arr32), "%s]", arr);
		snprintf(str32, sizeof(str32), "%s\"", str);
		snprintf(arr33, sizeof(arr33), "%s,\"s32\"]", arr);
		snprintf(str33, sizeof(str33), "%s,s32\"", str);
		c[0] = (struct field_case){ "scopes", arr32, want };
		c[1] = (struct field_case){ "scopes", str32, want };
		c[2] = (struct field_case){ "scopes", arr33, NULL };
		c[3] = (struct field_case){ "scopes", str33, NULL };
		run_field_cases(c, NELEM(c));
	}
	/* The limit counts distinct scopes: 40 copies of "x" then "y" are two. */
	{
		char	 many[400];
		size_t	 m = 0;

		m += (size_t)snprintf(many + m, sizeof(many) - m, "[");
		for (i = 0; i < 40; i++)
			m += (size_t)snprintf(many + m, sizeof(many) - m, "%s\"x\"", i ? "," : "");
		snprintf(many + m, sizeof(many) - m, ",\"y\"]");
		c[0] = (struct field_case){ "scopes", many, "\"x y\"" };
		run_field_cases(c, 1);
	}
}

static void
test_fields_duration_time(void **state)
{
	static const struct field_case cases[] = {
		{ "ttl", "3600", "3600" },
		{ "ttl", "\"3600\"", "3600" },
		{ "ttl", "\"30m\"", "1800" },
		{ "ttl", "\"12h\"", "43200" },
		{ "ttl", "\"90d\"", "7776000" },
		{ "ttl", "7776000", "7776000" },
		{ "ttl", "1", "1" },
		{ "ttl", "0", NULL },					/* 0 only with LK_FF_ZERO */
		{ "ttl", "\"0\"", NULL },
		{ "ttl", "\"00\"", NULL },
		{ "ttl", "\"0s\"", NULL },
		{ "ttl", "-1", NULL },
		{ "ttl", "\"-1\"", NULL },
		{ "ttl", "7776001", NULL },
		{ "ttl", "\"91d\"", NULL },
		{ "ttl", "1.5", NULL },
		{ "ttl", "\"1.5h\"", NULL },
		{ "ttl", "\"10x\"", NULL },
		{ "ttl", "\"\"", NULL },
		{ "ttl", "null", NULL },
		{ "ttl", "true", NULL },
		{ "expires_at", "\"2026-11-22T11:30:00Z\"", "1795347000" },
		{ "expires_at", "\"2026-11-22T12:30:00.5+01:00\"", "1795347000" },
		{ "expires_at", "\"2027-02-29T00:00:00Z\"", NULL },
		{ "expires_at", "\"2026-11-22\"", NULL },
		{ "expires_at", "1795347000", NULL },
		{ "expires_at", "\"\"", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_int(void **state)
{
	static const struct field_case cases[] = {
		{ "limit", "1", "1" },
		{ "limit", "100", "100" },
		{ "limit", "\"42\"", "42" },
		{ "limit", "\"007\"", "7" },
		{ "limit", "\"100\"", "100" },
		{ "limit", "0", NULL },
		{ "limit", "101", NULL },
		{ "limit", "-5", NULL },
		{ "limit", "\"0\"", NULL },
		{ "limit", "\"101\"", NULL },
		{ "limit", "\"-5\"", NULL },
		{ "limit", "\"+5\"", NULL },
		{ "limit", "\" 5\"", NULL },
		{ "limit", "\"5 \"", NULL },
		{ "limit", "\"1e2\"", NULL },
		{ "limit", "\"0x10\"", NULL },
		{ "limit", "\"\"", NULL },
		{ "limit", "\"99999999999999999999\"", NULL },
		{ "limit", "1.0", NULL },
		{ "limit", "true", NULL },
		{ "limit", "null", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_object(void **state)
{
	static const struct field_case cases[] = {
		{ "metadata", "{}", "{}" },
		{ "metadata", "{\"a\":1,\"b\":[true,null]}", "{\"a\":1,\"b\":[true,null]}" },
		{ "metadata", "\"{\\\"a\\\":1}\"", "{\"a\":1}" },		/* form value: JSON text */
		/* serialised compactly {"k":"…"} is 8 + n bytes: 32 fits, 33 does not */
		{ "metadata", "{\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}", "{\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}" },
		{ "metadata", "{\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxxx\"}", NULL },
		{ "metadata", "{  \"k\"  :  \"xxxxxxxxxxxxxxxxxxxxxxxx\"  }", "{\"k\":\"xxxxxxxxxxxxxxxxxxxxxxxx\"}" },
		{ "metadata", "[1]", NULL },
		{ "metadata", "\"[1]\"", NULL },
		{ "metadata", "\"not json\"", NULL },
		{ "metadata", "\"{\\\"a\\\":1,\\\"a\\\":2}\"", NULL },		/* duplicate keys */
		{ "metadata", "\"\"", NULL },
		{ "metadata", "5", NULL },
		{ "metadata", "null", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_ratelimit(void **state)
{
	static const struct field_case cases[] = {
		{ "ratelimit", "{\"limit\":10,\"window\":60}", "{\"limit\":10,\"window\":60}" },
		{ "ratelimit", "{\"window\":60,\"limit\":10}", "{\"limit\":10,\"window\":60}" },
		{ "ratelimit", "{\"limit\":\"10\",\"window\":\"60\"}", "{\"limit\":10,\"window\":60}" },
		{ "ratelimit", "\"{\\\"limit\\\":10,\\\"window\\\":60}\"", "{\"limit\":10,\"window\":60}" },
		{ "ratelimit", "{\"limit\":1,\"window\":1}", "{\"limit\":1,\"window\":1}" },
		{ "ratelimit", "{\"limit\":1000000000,\"window\":86400}", "{\"limit\":1000000000,\"window\":86400}" },
		{ "ratelimit", "{\"limit\":0,\"window\":60}", NULL },
		{ "ratelimit", "{\"limit\":1000000001,\"window\":60}", NULL },
		{ "ratelimit", "{\"limit\":10,\"window\":0}", NULL },
		{ "ratelimit", "{\"limit\":10,\"window\":86401}", NULL },
		{ "ratelimit", "{\"limit\":-1,\"window\":60}", NULL },
		{ "ratelimit", "{\"limit\":10}", NULL },
		{ "ratelimit", "{\"window\":60}", NULL },
		{ "ratelimit", "{\"limit\":10,\"window\":60,\"burst\":5}", NULL },
		{ "ratelimit", "{\"limit\":10,\"windows\":60}", NULL },
		{ "ratelimit", "{\"limit\":1.5,\"window\":60}", NULL },
		{ "ratelimit", "{\"limit\":null,\"window\":60}", NULL },
		{ "ratelimit", "{}", NULL },
		{ "ratelimit", "[10,60]", NULL },
		{ "ratelimit", "\"10/60\"", NULL },
		{ "ratelimit", "10", NULL },
		{ "ratelimit", "null", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_nullable(void **state)
{
	static const struct field_case cases[] = {
		{ "note", "null", "null" },
		{ "note", "\"\"", "null" },
		{ "note", "\"kept\"", "\"kept\"" },
		{ "note", "\"\\t\"", NULL },
		{ "note", "5", NULL },
		{ "grace", "null", "null" },
		{ "grace", "\"\"", "null" },
		{ "grace", "\"0\"", "0" },
		{ "grace", "0", "0" },
		{ "grace", "\"1d\"", "86400" },
		{ "grace", "86400", "86400" },
		{ "grace", "\"00\"", NULL },				/* only the exact string "0" */
		{ "grace", "-1", NULL },
		{ "grace", "86401", NULL },
		{ "grace", "\"2d\"", NULL },
		/* not nullable: null and "" are plain bad values */
		{ "label", "null", NULL },
		{ "label", "\"\"", NULL },
		{ "ttl", "null", NULL },
		{ "ttl", "\"\"", NULL },
	};

	(void)state;
	run_field_cases(cases, NELEM(cases));
}

static void
test_fields_unknown(void **state)
{
	static const char *const inputs[] = {
		"{\"bogus\":1}",
		"{\"label\":\"ok\",\"bogus\":\"x\"}",
		"{\"Label\":\"ok\"}",
		"{\"id\":\"key_x\"}",
		"{\"\":\"x\"}",
	};
	static const char *const names[] = { "bogus", "bogus", "Label", "id", "" };
	struct lk_req	 req;
	json_t		*in, *out;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(inputs); i++) {
		req_init(&req);
		in = load(inputs[i]);
		out = (json_t *)&out;
		assert_int_equal(lk_req_fields(&req, in, fields, &out), LK_ERR_VALIDATION);
		assert_null(out);
		assert_non_null(err_field(&req));
		assert_string_equal(err_field(&req), names[i]);
		assert_non_null(strstr(req.err_message, "Unknown"));
		json_decref(in);
		lk_req_free(&req);
	}
}

static void
test_fields_required(void **state)
{
	static const struct { const char *in, *field, *want; } cases[] = {
		{ "{}", "name", NULL },
		{ "{\"opt\":\"x\"}", "name", NULL },
		{ "{\"name\":\"n\"}", "parent", NULL },
		{ "{\"parent\":null}", "name", NULL },
		{ "{\"name\":\"n\",\"parent\":null}", NULL, "{\"name\":\"n\",\"parent\":null}" },
		{ "{\"name\":\"n\",\"parent\":\"\"}", NULL, "{\"name\":\"n\",\"parent\":null}" },
		{ "{\"name\":\"n\",\"parent\":\"me\",\"opt\":\"o\"}", NULL,
		    "{\"name\":\"n\",\"parent\":\"me\",\"opt\":\"o\"}" },
		{ "{\"name\":\"\",\"parent\":null}", "name", NULL },	/* bad value, not missing */
	};
	struct lk_req	 req;
	json_t		*in, *out;
	enum lk_err	 e;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		req_init(&req);
		in = load(cases[i].in);
		e = lk_req_fields(&req, in, required_fields, &out);
		if (cases[i].want != NULL) {
			assert_int_equal(e, LK_OK);
			assert_json(out, cases[i].want, cases[i].in);
			json_decref(out);
		} else {
			assert_int_equal(e, LK_ERR_VALIDATION);
			assert_null(out);
			assert_non_null(err_field(&req));
			assert_string_equal(err_field(&req), cases[i].field);
		}
		json_decref(in);
		lk_req_free(&req);
	}
	/* No body at all. */
	req_init(&req);
	assert_int_equal(lk_req_fields(&req, NULL, required_fields, &out), LK_ERR_VALIDATION);
	assert_string_equal(err_field(&req), "name");
	assert_non_null(strstr(req.err_message, "required"));
	lk_req_free(&req);
	req_init(&req);
	assert_int_equal(lk_req_fields(&req, NULL, fields, &out), LK_OK);
	assert_json(out, "{}", "no body, nothing required");
	json_decref(out);
	lk_req_free(&req);
}

/* Every invalid field at once: details.errors lists each, the first is the message and field. */
static void
test_fields_every_error(void **state)
{
	static const struct { const char *in, *fields; } cases[] = {
		{ "{\"label\":\"12345678901\",\"kind\":\"x\",\"bogus\":1,\"limit\":0}",
		    "label kind bogus limit" },
		{ "{\"opt\":\"\"}", "opt name parent" },
		{ "{\"name\":\"\",\"parent\":\"acct_\"}", "name parent" },	/* bad, not missing */
		{ "{\"name\":\"n\",\"parent\":null,\"opt\":5}", "opt" },
	};
	struct lk_req	 req;
	json_t		*in, *out, *errors, *x;
	char		 got[128];
	size_t		 i, j, n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		req_init(&req);
		in = load(cases[i].in);
		out = (json_t *)&out;
		assert_int_equal(lk_req_fields(&req, in, i == 0 ? fields : required_fields, &out),
		    LK_ERR_VALIDATION);
		assert_null(out);
		errors = json_object_get(req.err_details, "errors");
		got[0] = '\0';
		n = 0;
		json_array_foreach(errors, j, x) {
			const char *f = json_string_value(json_object_get(x, "field"));
			const char *m = json_string_value(json_object_get(x, "message"));

			assert_non_null(f);
			assert_non_null(m);
			assert_non_null(strstr(m, f));		/* each message names its field */
			n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s", j ? " " : "", f);
			if (j == 0) {
				assert_string_equal(err_field(&req), f);
				assert_string_equal(req.err_message, m);
			}
		}
		if (strcmp(got, cases[i].fields) != 0)
			fail_msg("%s: errors for '%s', wanted '%s'", cases[i].in, got, cases[i].fields);
		json_decref(in);
		lk_req_free(&req);
	}
	/* hand-written checks use the same record: two, then none */
	req_init(&req);
	assert_int_equal(lk_req_invalids(&req), LK_OK);
	lk_req_invalid(&req, "email", "Enter an email %s", "address");
	lk_req_invalid(&req, "role", "Choose a role");
	assert_int_equal(lk_req_invalids(&req), LK_ERR_VALIDATION);
	assert_string_equal(err_field(&req), "email");
	assert_string_equal(req.err_message, "Enter an email address");
	assert_int_equal(json_array_size(json_object_get(req.err_details, "errors")), 2);
	lk_req_free(&req);
}

static void
test_fields_all_together(void **state)
{
	static const char in_text[] =
	    "{\"label\":\"L\",\"kind\":\"user\",\"account_id\":\"me\","
	    "\"scopes\":[\"verify\"],\"ttl\":\"1h\",\"expires_at\":\"1970-01-01T00:00:10Z\","
	    "\"limit\":\"3\",\"metadata\":{\"a\":1},\"ratelimit\":{\"limit\":2,\"window\":3},"
	    "\"note\":null,\"grace\":\"\"}";
	static const char want[] =
	    "{\"label\":\"L\",\"kind\":\"user\",\"account_id\":\"me\","
	    "\"scopes\":\"verify\",\"ttl\":3600,\"expires_at\":10,"
	    "\"limit\":3,\"metadata\":{\"a\":1},\"ratelimit\":{\"limit\":2,\"window\":3},"
	    "\"note\":null,\"grace\":null}";
	struct lk_req	 req;
	json_t		*in, *out;

	(void)state;
	req_init(&req);
	in = load(in_text);
	assert_int_equal(lk_req_fields(&req, in, fields, &out), LK_OK);
	assert_json(out, want, "all fields");
	json_decref(out);
	json_decref(in);
	lk_req_free(&req);
}

static void
test_fields_from_form(void **state)
{
	static const struct { const char *form, *want, *badfield; } cases[] = {
		{ "label=hi+there&scopes=keys:read+verify,tasks:*&ttl=30m&limit=5&note=",
		    "{\"label\":\"hi there\",\"scopes\":\"keys:read verify tasks:*\","
		    "\"ttl\":1800,\"limit\":5,\"note\":null}", NULL },
		{ "scopes=a&scopes=b&scopes=a", "{\"scopes\":\"a b\"}", NULL },
		{ "metadata=%7B%22a%22%3A1%7D&ratelimit=%7B%22limit%22%3A1%2C%22window%22%3A2%7D",
		    "{\"metadata\":{\"a\":1},\"ratelimit\":{\"limit\":1,\"window\":2}}", NULL },
		{ "grace=0&ttl=1", "{\"grace\":0,\"ttl\":1}", NULL },
		{ "grace=&ttl=1h", "{\"grace\":null,\"ttl\":3600}", NULL },
		{ "ttl=0", NULL, "ttl" },
		{ "label=a&label=b", NULL, "label" },		/* given twice */
		{ "label=ok&extra=1", NULL, "extra" },
		{ "label=a%09b", NULL, "label" },
		{ "label=a%C2%85b", NULL, "label" },		/* C1 NEL */
		{ "label=", NULL, "label" },			/* "" is not null for a non-nullable field */
	};
	struct lk_req	 req;
	char		 bad[64];
	json_t		*in, *out;
	enum lk_err	 e;
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		req_init(&req);
		in = lk_req_decode_form(cases[i].form, strlen(cases[i].form), bad, sizeof(bad));
		assert_non_null(in);
		req.body = in;		/* owned by req: lk_req_free decrefs it */
		req.body_form = true;	/* as lk_req_read_body sets it for a form */
		e = lk_req_fields(&req, req.body, fields, &out);
		if (cases[i].want != NULL) {
			if (e != LK_OK)
				fail_msg("form \"%s\" refused: %s", cases[i].form, req.err_message);
			assert_json(out, cases[i].want, cases[i].form);
			json_decref(out);
		} else {
			assert_int_equal(e, LK_ERR_VALIDATION);
			assert_null(out);
			assert_non_null(err_field(&req));
			assert_string_equal(err_field(&req), cases[i].badfield);
		}
		lk_req_free(&req);
	}
}

static void
test_no_query(void **state)
{
	static const struct { const char *qs, *field; } cases[] = {
		{ "", NULL },
		{ "a=1", "a" },
		{ "limit=5", "limit" },
		{ "x", "x" },
	};
	struct lk_req	 req;
	char		 bad[64];
	size_t		 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		req_init(&req);
		req.query = lk_req_decode_form(cases[i].qs, strlen(cases[i].qs), bad, sizeof(bad));
		assert_non_null(req.query);
		if (cases[i].field == NULL) {
			assert_int_equal(lk_req_no_query(&req), LK_OK);
			assert_null(req.err_details);
		} else {
			assert_int_equal(lk_req_no_query(&req), LK_ERR_VALIDATION);
			assert_non_null(err_field(&req));
			assert_string_equal(err_field(&req), cases[i].field);
		}
		lk_req_free(&req);
	}
}

/* ---- error recording and lk_req_free ---- */

static void
test_fail_and_detail(void **state)
{
	struct lk_req req;

	(void)state;
	req_init(&req);
	assert_int_equal(lk_req_fail(&req, LK_ERR_FORBIDDEN, "scopes", "cannot grant '%s'", "admin"),
	    LK_ERR_FORBIDDEN);
	assert_string_equal(req.err_message, "cannot grant 'admin'");
	lk_req_detail(&req, "scope", json_string("admin"));
	lk_req_detail(&req, "ignored", NULL);
	assert_json(req.err_details, "{\"field\":\"scopes\",\"scope\":\"admin\"}", "details");
	lk_req_free(&req);

	req_init(&req);
	assert_int_equal(lk_req_fail(&req, LK_ERR_NOT_FOUND, NULL, "No such %s", "key"),
	    LK_ERR_NOT_FOUND);
	assert_string_equal(req.err_message, "No such key");
	assert_null(req.err_details);
	lk_req_free(&req);
}

static void
test_req_free_owns_everything(void **state)
{
	struct lk_req req;

	(void)state;
	req_init(&req);
	req.query = json_pack("{s:s}", "a", "b");
	req.body = json_pack("{s:[s,s]}", "c", "d", "e");
	req.segs[0] = strdup("keys");
	req.segs[1] = strdup("key_x");
	req.nsegs = 2;
	lk_req_fail(&req, LK_ERR_VALIDATION, "x", "bad");
	lk_req_free(&req);	/* LSan (SAN=1 build) reports anything left */
	assert_null(req.query);
	assert_null(req.body);
	assert_null(req.err_details);
	assert_int_equal(req.nsegs, 0);
	assert_null(req.segs[0]);
	assert_null(req.conf);
	/* Freeing a zeroed request is harmless. */
	lk_req_free(&req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_form_accepted),
		cmocka_unit_test(test_decode_form_length_bounded),
		cmocka_unit_test(test_decode_form_refused),
		cmocka_unit_test(test_decode_form_badname_truncated),
		cmocka_unit_test(test_fields_text),
		cmocka_unit_test(test_fields_word),
		cmocka_unit_test(test_fields_hex),
		cmocka_unit_test(test_fields_enum_and_id),
		cmocka_unit_test(test_fields_scopes),
		cmocka_unit_test(test_fields_scopes_json_string),
		cmocka_unit_test(test_fields_scopes_count),
		cmocka_unit_test(test_fields_duration_time),
		cmocka_unit_test(test_fields_int),
		cmocka_unit_test(test_fields_object),
		cmocka_unit_test(test_fields_ratelimit),
		cmocka_unit_test(test_fields_nullable),
		cmocka_unit_test(test_fields_unknown),
		cmocka_unit_test(test_fields_required),
		cmocka_unit_test(test_fields_every_error),
		cmocka_unit_test(test_fields_all_together),
		cmocka_unit_test(test_fields_from_form),
		cmocka_unit_test(test_no_query),
		cmocka_unit_test(test_fail_and_detail),
		cmocka_unit_test(test_req_free_owns_everything),
	};

	lk_conf_defaults(&conf);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
