/* test_keyfmt.c — base62, key generation, CRC32 checksum, parse refusals, key-shape detection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <zlib.h>

#include "base/crypto.h"
#include "base/keyfmt.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A fixed 32-character random part used to build keys with known bytes. */
static const char body32[] = "0123456789abcdefghijABCDEFGHIJxy";

static bool
in_alphabet(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/* The test's own base62 of a CRC32, computed independently of keyfmt.c. */
static void
crc_base62(uint32_t v, char out[7])
{
	static const char a[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	int i;

	for (i = 5; i >= 0; i--) {
		out[i] = a[v % 62];
		v /= 62;
	}
	out[6] = '\0';
}

/* out = head + random + checksum(head + random), whatever head and random hold. */
static size_t
make_key(const char *head, const char *random, char *out, size_t size)
{
	size_t	 n;
	char	 check[7];

	n = (size_t)snprintf(out, size, "%s%s", head, random);
	assert_true(n + 6 < size);
	crc_base62((uint32_t)crc32(0L, (const Bytef *)out, (uInt)n), check);
	memcpy(out + n, check, 7);
	return n + 6;
}

static void
test_base62_alphabet_table(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(strlen(lk_base62), 62);
	for (i = 0; i < 62; i++) {
		assert_true(in_alphabet(lk_base62[i]));
		if (i > 0)	/* strictly ascending: sorted and no repeats */
			assert_true(lk_base62[i - 1] < lk_base62[i]);
	}
}

static void
test_base62_output_alphabet_and_length(void **state)
{
	static const size_t lens[] = { 0, 1, 2, 31, 32, 63, 64, 65, 200, 1000 };
	char	 buf[1002];
	size_t	 i, j;

	(void)state;
	for (i = 0; i < NELEM(lens); i++) {
		memset(buf, '#', sizeof(buf));
		assert_true(lk_crypto_base62(buf, lens[i]));
		assert_int_equal(strlen(buf), lens[i]);
		for (j = 0; j < lens[i]; j++)
			assert_true(in_alphabet((unsigned char)buf[j]));
		assert_int_equal(buf[lens[i] + 1], '#');	/* nothing past the NUL */
	}
}

static void
test_base62_uniformity(void **state)
{
	enum { PER = 2000, N = 62 * PER };
	char	*buf = malloc(N + 1);
	size_t	 count[256] = { 0 }, i;

	(void)state;
	assert_non_null(buf);
	assert_true(lk_crypto_base62(buf, N));
	for (i = 0; i < N; i++)
		count[(unsigned char)buf[i]]++;
	/* Expected 2000 each, sd ~44: 1600..2400 is ~9 sd, so a real bias fails and noise does not. */
	for (i = 0; i < 62; i++) {
		size_t c = count[(unsigned char)lk_base62[i]];

		if (c < 1600 || c > 2400)
			fail_msg("'%c' appeared %zu times in %d", lk_base62[i], c, N);
	}
	free(buf);
}

static void
test_public_id_shape(void **state)
{
	static const char *const prefixes[] = { "key_", "acct_", "evt_", "req_" };
	char	 id[LK_PUBLIC_ID_MAX];
	size_t	 i, j, pl;

	(void)state;
	for (i = 0; i < NELEM(prefixes); i++) {
		pl = strlen(prefixes[i]);
		assert_true(lk_crypto_public_id(prefixes[i], id, sizeof(id)));
		assert_int_equal(strlen(id), pl + LK_PUBLIC_ID_RANDOM);
		assert_memory_equal(id, prefixes[i], pl);
		for (j = pl; id[j] != '\0'; j++)
			assert_true(in_alphabet((unsigned char)id[j]));
	}
	/* Too small a buffer is refused rather than overrun. */
	assert_false(lk_crypto_public_id("acct_", id, 5 + LK_PUBLIC_ID_RANDOM));
}

static void
test_prefix_ok_table(void **state)
{
	static const struct { const char *p; bool ok; } cases[] = {
		{ "lk", true }, { "ab", true }, { "abcdefghij", true }, { "zz", true },
		{ "", false }, { "l", false }, { "abcdefghijk", false },
		{ "LK", false }, { "Lk", false }, { "l1", false }, { "l_", false },
		{ "lk ", false }, { " lk", false }, { "l-k", false }, { "\xc3\xa9t", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_keyfmt_prefix_ok(cases[i].p) != cases[i].ok)
			fail_msg("prefix_ok(\"%s\") != %d", cases[i].p, cases[i].ok);
}

static void
test_env_ok_table(void **state)
{
	static const struct { const char *e; bool ok; } cases[] = {
		{ "live", true }, { "test", true }, { "prod", false }, { "LIVE", false },
		{ "", false }, { "liv", false }, { "lives", false }, { "tes", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_keyfmt_env_ok(cases[i].e) != cases[i].ok)
			fail_msg("env_ok(\"%s\") != %d", cases[i].e, cases[i].ok);
}

static void
test_checksum_known_values(void **state)
{
	/* Hard-coded from zlib.crc32 + base62 outside this program. */
	static const struct { const char *in; const char *out; } cases[] = {
		{ "", "000000" },		/* crc 0: all padding */
		{ "62", "005Arq" },		/* crc 1233418 < 62^4: two pad digits */
		{ "a", "4GEHKN" },
		{ "123456789", "3jZRME" },	/* the CRC-32 check value 0xCBF43926 */
		{ "lk_live_0123456789abcdefghijABCDEFGHIJ", "3dLPFf" },
		{ "The quick brown fox jumps over the lazy dog", "1C9bYH" },
	};
	char	 out[LK_KEY_CHECK_LEN + 1];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(out, '#', sizeof(out));
		lk_keyfmt_checksum(cases[i].in, strlen(cases[i].in), out);
		assert_string_equal(out, cases[i].out);
	}
}

static void
test_checksum_matches_zlib(void **state)
{
	static const char *const inputs[] = {
		"x", "lk_test_", "lk_live_ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ",
		"abcdefghij_live_00000000000000000000000000000000",
		"\xff\xfe\x00\x01", "zz_test_9zY8xW7vU6tS5rQ4pO3nM2lK1jI0hG",
	};
	char	 got[LK_KEY_CHECK_LEN + 1], want[7];
	size_t	 i, len;

	(void)state;
	for (i = 0; i < NELEM(inputs); i++) {
		len = i == 4 ? 4 : strlen(inputs[i]);	/* one input holds a NUL byte */
		crc_base62((uint32_t)crc32(0L, (const Bytef *)inputs[i], (uInt)len), want);
		lk_keyfmt_checksum(inputs[i], len, got);
		assert_int_equal(strlen(got), LK_KEY_CHECK_LEN);
		assert_string_equal(got, want);
	}
	/* Only len bytes count. */
	lk_keyfmt_checksum("123456789trailing", 9, got);
	assert_string_equal(got, "3jZRME");
}

static void
test_generate_parse_round_trip(void **state)
{
	static const struct { const char *prefix, *env; } cases[] = {
		{ "lk", "live" }, { "lk", "test" }, { "ab", "live" },
		{ "abcdefghij", "test" }, { "latchkey", "live" },
	};
	char			 key[LK_KEY_MAX + 1], check[7];
	struct lk_keyparts	 gen, got;
	unsigned char		 digest[SHA256_DIGEST_LENGTH];
	size_t			 i, j, head, len;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&gen, 0, sizeof(gen));
		memset(&got, 0, sizeof(got));
		assert_int_equal(lk_keyfmt_generate(cases[i].prefix, cases[i].env,
		    key, sizeof(key), &gen), LK_OK);
		head = strlen(cases[i].prefix) + 6;
		len = strlen(key);
		assert_int_equal(len, head + LK_KEY_BODY_LEN);
		assert_true(len <= LK_KEY_MAX);
		assert_memory_equal(key, cases[i].prefix, head - 6);
		assert_int_equal(key[head - 6], '_');
		assert_memory_equal(key + head - 5, cases[i].env, 4);
		assert_int_equal(key[head - 1], '_');
		for (j = head; j < len; j++)
			assert_true(in_alphabet((unsigned char)key[j]));
		/* the last 6 are the CRC32 of everything before them */
		crc_base62((uint32_t)crc32(0L, (const Bytef *)key,
		    (uInt)(len - 6)), check);
		assert_string_equal(key + len - 6, check);

		assert_string_equal(gen.env, cases[i].env);
		assert_int_equal(strlen(gen.start), head + LK_KEY_START_BODY);
		assert_memory_equal(gen.start, key, head + LK_KEY_START_BODY);
		SHA256((const unsigned char *)key, len, digest);
		assert_memory_equal(gen.digest, digest, sizeof(digest));

		assert_int_equal(lk_keyfmt_parse(key, len, cases[i].prefix, &got), LK_OK);
		assert_string_equal(got.env, gen.env);
		assert_string_equal(got.start, gen.start);
		assert_memory_equal(got.digest, gen.digest, sizeof(digest));
		assert_true(lk_keyfmt_looks_like_key(key));
	}
}

static void
test_generate_keys_differ(void **state)
{
	char			 a[LK_KEY_MAX + 1], b[LK_KEY_MAX + 1];
	struct lk_keyparts	 pa, pb;

	(void)state;
	assert_int_equal(lk_keyfmt_generate("lk", "live", a, sizeof(a), &pa), LK_OK);
	assert_int_equal(lk_keyfmt_generate("lk", "live", b, sizeof(b), &pb), LK_OK);
	assert_string_not_equal(a, b);
	assert_false(memcmp(pa.digest, pb.digest, sizeof(pa.digest)) == 0);
}

static void
test_generate_refusals(void **state)
{
	static const struct { const char *prefix, *env; size_t size; } cases[] = {
		{ "LK", "live", LK_KEY_MAX + 1 }, { "l", "live", LK_KEY_MAX + 1 },
		{ "abcdefghijk", "live", LK_KEY_MAX + 1 }, { "l1", "live", LK_KEY_MAX + 1 },
		{ "", "live", LK_KEY_MAX + 1 }, { "lk", "prod", LK_KEY_MAX + 1 },
		{ "lk", "LIVE", LK_KEY_MAX + 1 }, { "lk", "", LK_KEY_MAX + 1 },
		{ "lk", "live", LK_KEY_MAX },	/* buffer one byte short of the maximum */
	};
	char			 key[LK_KEY_MAX + 1];
	struct lk_keyparts	 parts;
	size_t			 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_keyfmt_generate(cases[i].prefix, cases[i].env, key,
		    cases[i].size, &parts) != LK_ERR_VALIDATION)
			fail_msg("generate(\"%s\", \"%s\", %zu) was not refused",
			    cases[i].prefix, cases[i].env, cases[i].size);
}

static void
test_parse_start_is_head_plus_8(void **state)
{
	char			 key[80];
	struct lk_keyparts	 p;
	size_t			 len;

	(void)state;
	len = make_key("lk_live_", body32, key, sizeof(key));
	assert_int_equal(lk_keyfmt_parse(key, len, "lk", &p), LK_OK);
	assert_string_equal(p.start, "lk_live_01234567");
	assert_string_equal(p.env, "live");
	len = make_key("abcdefghij_test_", body32, key, sizeof(key));
	assert_int_equal(lk_keyfmt_parse(key, len, "abcdefghij", &p), LK_OK);
	assert_string_equal(p.start, "abcdefghij_test_01234567");
	assert_string_equal(p.env, "test");
}

static void
test_parse_not_nul_terminated(void **state)
{
	char			 key[80], *exact;
	struct lk_keyparts	 p;
	size_t			 len;

	(void)state;
	len = make_key("lk_live_", body32, key, sizeof(key));
	/* A heap copy with no NUL: ASan catches any read past len. */
	exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, key, len);
	assert_int_equal(lk_keyfmt_parse(exact, len, "lk", &p), LK_OK);
	assert_int_equal(lk_keyfmt_parse(exact, len - 1, "lk", &p), LK_ERR_INVALID_KEY);
	free(exact);
	/* Bytes after len are ignored. */
	memcpy(key + len, "XYZ", 4);
	assert_int_equal(lk_keyfmt_parse(key, len, "lk", &p), LK_OK);
}

static void
test_parse_flip_each_body_char(void **state)
{
	char			 key[80], orig;
	struct lk_keyparts	 p;
	size_t			 len, i, k;

	(void)state;
	len = make_key("lk_live_", body32, key, sizeof(key));
	assert_int_equal(lk_keyfmt_parse(key, len, "lk", &p), LK_OK);
	for (i = 8; i < len; i++) {
		orig = key[i];
		/* Several replacements per position, all still base62. */
		for (k = 1; k < 62; k += 7) {
			key[i] = lk_base62[(strchr(lk_base62, orig) - lk_base62 + k) % 62];
			if (lk_keyfmt_parse(key, len, "lk", &p) != LK_ERR_INVALID_KEY)
				fail_msg("body char %zu changed to '%c' still parsed", i - 8, key[i]);
		}
		key[i] = orig;
	}
	assert_int_equal(lk_keyfmt_parse(key, len, "lk", &p), LK_OK);
}

static void
test_parse_refusals(void **state)
{
	/* Each key has a correct checksum over its own bytes unless stated: one fault per case. */
	static const struct { const char *head, *random, *prefix; int lendelta; const char *why; } cases[] = {
		{ "lk_prod_", body32, "lk", 0, "env prod" },
		{ "lk_LIVE_", body32, "lk", 0, "env upper case" },
		{ "lk_liv_", "0123456789abcdefghijABCDEFGHIJxyz", "lk", 0, "env 3 letters" },
		{ "lk_live_", body32, "ab", 0, "other configured prefix" },
		{ "lk_live_", body32, "lkx", 0, "configured prefix longer" },
		{ "lkx_live_", body32, "lk", 0, "key prefix longer than configured" },
		{ "ab_live_", body32, "abc", 0, "key prefix shorter than configured" },
		{ "l_live_", body32, "l", 0, "prefix too short" },
		{ "abcdefghijk_live_", body32, "abcdefghijk", 0, "prefix too long" },
		{ "LK_live_", body32, "LK", 0, "prefix upper case" },
		{ "lk-live_", body32, "lk", 0, "'-' for '_'" },
		{ "lk_live-", body32, "lk", 0, "'-' for second '_'" },
		{ "lklive_", body32, "lk", 0, "missing first '_'" },
		{ "lk_live_", "0123456789abcdefghijABCDEFGHIJx", "lk", 0, "random 31" },
		{ "lk_live_", "0123456789abcdefghijABCDEFGHIJxyz", "lk", 0, "random 33" },
		{ "lk_live_", "0123456789abcdef_hijABCDEFGHIJxy", "lk", 0, "'_' inside body" },
		{ "lk_live_", "0123456789abcdef-hijABCDEFGHIJxy", "lk", 0, "'-' inside body" },
		{ "lk_live_", "0123456789abcdef hijABCDEFGHIJxy", "lk", 0, "space inside body" },
		{ "lk_live_", "0123456789abcdef\xc3\xa9ijABCDEFGHIJxy", "lk", 0, "UTF-8 e-acute inside body" },
		{ "lk_live_", "0123456789abcdef\x80hijABCDEFGHIJxy", "lk", 0, "high byte inside body" },
		{ "lk_live_", body32, "lk", -1, "short by one" },
		{ "lk_live_", body32, "lk", +1, "long by one" },
		{ "lk_live_", body32, "", 0, "empty configured prefix" },
	};
	char			 key[96];
	struct lk_keyparts	 p;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		len = make_key(cases[i].head, cases[i].random, key, sizeof(key));
		if (cases[i].lendelta > 0) {
			key[len] = 'A';		/* a base62 char after a valid key */
			key[len + 1] = '\0';
		}
		len = (size_t)((long)len + cases[i].lendelta);
		if (lk_keyfmt_parse(key, len, cases[i].prefix, &p) != LK_ERR_INVALID_KEY)
			fail_msg("case %zu (%s): \"%.*s\" parsed", i, cases[i].why, (int)len, key);
	}
}

static void
test_parse_refusals_literal(void **state)
{
	static const struct { const char *s; const char *why; } cases[] = {
		{ "", "empty" },
		{ "lk", "prefix only" },
		{ "lk_live_", "head only" },
		{ "lk_live", "head without '_'" },
		{ "hello", "word" },
		{ "lk_live_short", "short body" },
	};
	char			 key[80], s[96], up[80];
	struct lk_keyparts	 p;
	size_t			 i, len;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_keyfmt_parse(cases[i].s, strlen(cases[i].s), "lk", &p) != LK_ERR_INVALID_KEY)
			fail_msg("\"%s\" (%s) parsed", cases[i].s, cases[i].why);
	/* A valid key with a space before or after it, or upper-cased, is refused. */
	len = make_key("lk_live_", body32, key, sizeof(key));
	snprintf(s, sizeof(s), " %s", key);
	assert_int_equal(lk_keyfmt_parse(s, len + 1, "lk", &p), LK_ERR_INVALID_KEY);
	snprintf(s, sizeof(s), "%s ", key);
	assert_int_equal(lk_keyfmt_parse(s, len + 1, "lk", &p), LK_ERR_INVALID_KEY);
	for (i = 0; i <= len; i++)
		up[i] = (key[i] >= 'a' && key[i] <= 'z') ? (char)(key[i] - 32) : key[i];
	assert_int_equal(lk_keyfmt_parse(up, len, "LK", &p), LK_ERR_INVALID_KEY);
	assert_int_equal(lk_keyfmt_parse(up, len, "lk", &p), LK_ERR_INVALID_KEY);
	assert_int_equal(lk_keyfmt_parse(key, len, "lk", &p), LK_OK);
}

static void
test_start_ok_table(void **state)
{
	static const struct { const char *s; bool ok; } cases[] = {
		{ "lk_live_a1B2c3D4", true },
		{ "lk_live_a", true },
		{ "lk_test_aYqO", true },
		{ "acme_live_00000000", true },
		{ "lk_live_", false },			/* no body char */
		{ "lk_live_a1B2c3D4e", false },		/* 9 body chars: more than a start */
		{ "lk_prod_a1B2", false },
		{ "LK_live_a1B2", false },
		{ "lk_live_a1B2-", false },
		{ "lk_live_a1B2%", false },
		{ "lk_live_a_B2", false },
		{ "l_live_a1B2", false },
		{ "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (lk_keyfmt_start_ok(cases[i].s) != cases[i].ok)
			fail_msg("start_ok(\"%s\") != %d", cases[i].s, cases[i].ok);
}

static void
test_looks_like_key_table(void **state)
{
	static const struct { const char *pre, *post; bool random_ok; bool want; const char *why; } cases[] = {
		{ "", "", true, true, "bare key" },
		{ "abc ", " def", true, true, "embedded between spaces" },
		{ "x=", "", true, true, "after '='" },
		{ "Bearer ", "", true, true, "after a word and space" },
		{ "X", "", true, true, "after an upper-case letter" },
		{ "9", "", true, true, "after a digit" },
		{ "", "MORE", true, true, "followed by more base62" },
		{ "abcdefgh", "", true, true, "8 letters before: prefix abcdefghlk still <= 10" },
		{ "abcdefghi", "", true, false, "9 letters before: prefix of 11 letters" },
		{ "zzzzzzzzzzzzzzzz", "", true, false, "preceded by many letters" },
		{ "", "", false, false, "body has '_'" },
	};
	char	 key[80], s[200];
	size_t	 i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		make_key("lk_live_", cases[i].random_ok ? body32 :
		    "0123456789abcdef_hijABCDEFGHIJxy", key, sizeof(key));
		snprintf(s, sizeof(s), "%s%s%s", cases[i].pre, key, cases[i].post);
		if (lk_keyfmt_looks_like_key(s) != cases[i].want)
			fail_msg("case %zu (%s): \"%s\" != %d", i, cases[i].why, s, cases[i].want);
	}
}

static void
test_looks_like_key_literal_table(void **state)
{
	static const struct { const char *s; bool want; } cases[] = {
		{ "", false },
		{ "hello world", false },
		{ "lk_live_", false },
		{ "lk_live_0123456789abcdefghijABCDEFGHIJxyzzzzz", false },	/* 37 body chars */
		{ "lk_live_0123456789abcdefghijABCDEFGHIJxyzzzzzz", true },	/* 38: any checksum */
		{ "lk_test_0123456789abcdefghijABCDEFGHIJxyzzzzzz", true },
		{ "lk_prod_0123456789abcdefghijABCDEFGHIJxyzzzzzz", false },
		{ "zz_test_0123456789abcdefghijABCDEFGHIJxyzzzzzz", true },	/* any prefix */
		{ "l_test_0123456789abcdefghijABCDEFGHIJxyzzzzzzz", false },	/* prefix of 1 */
		{ "lk_live_0123456789abcdefghij-BCDEFGHIJxyzzzzzz", false },
		{ "lk_live_0123456789abcdefghij\xc3\xa9" "CDEFGHIJxyzzzzzz", false },
		{ "key=lk_live_0123456789abcdefghijABCDEFGHIJxyzzzzzz&x=1", true },
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (lk_keyfmt_looks_like_key(cases[i].s) != cases[i].want)
			fail_msg("looks_like_key(\"%s\") != %d", cases[i].s, cases[i].want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base62_alphabet_table),
		cmocka_unit_test(test_start_ok_table),
		cmocka_unit_test(test_base62_output_alphabet_and_length),
		cmocka_unit_test(test_base62_uniformity),
		cmocka_unit_test(test_public_id_shape),
		cmocka_unit_test(test_prefix_ok_table),
		cmocka_unit_test(test_env_ok_table),
		cmocka_unit_test(test_checksum_known_values),
		cmocka_unit_test(test_checksum_matches_zlib),
		cmocka_unit_test(test_generate_parse_round_trip),
		cmocka_unit_test(test_generate_keys_differ),
		cmocka_unit_test(test_generate_refusals),
		cmocka_unit_test(test_parse_start_is_head_plus_8),
		cmocka_unit_test(test_parse_not_nul_terminated),
		cmocka_unit_test(test_parse_flip_each_body_char),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_parse_refusals_literal),
		cmocka_unit_test(test_looks_like_key_table),
		cmocka_unit_test(test_looks_like_key_literal_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
