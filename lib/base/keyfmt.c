/* keyfmt.c — key generation and in-memory validation. */
#include <stdio.h>
#include <string.h>

#include <zlib.h>

#include "base/keyfmt.h"

static bool
isbase62(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

bool
lk_keyfmt_prefix_ok(const char *p)
{
	size_t i;

	for (i = 0; p[i] != '\0'; i++)
		if (p[i] < 'a' || p[i] > 'z')
			return false;
	return i >= 2 && i <= LK_KEY_PREFIX_MAX;
}

bool
lk_keyfmt_env_ok(const char *env)
{
	return strcmp(env, "live") == 0 || strcmp(env, "test") == 0;
}

void
lk_keyfmt_checksum(const char *data, size_t len, char out[LK_KEY_CHECK_LEN + 1])
{
	unsigned long	 v = crc32(0L, (const Bytef *)data, (uInt)len);
	int		 i;

	for (i = LK_KEY_CHECK_LEN - 1; i >= 0; i--) {
		out[i] = lk_base62[v % 62];
		v /= 62;
	}
	out[LK_KEY_CHECK_LEN] = '\0';
}

static void
fill_parts(const char *key, size_t len, size_t headlen, const char *env,
    struct lk_keyparts *parts)
{
	snprintf(parts->env, sizeof(parts->env), "%s", env);
	memcpy(parts->start, key, headlen + LK_KEY_START_BODY);
	parts->start[headlen + LK_KEY_START_BODY] = '\0';
	lk_crypto_sha256(key, len, parts->digest);
}

enum lk_err
lk_keyfmt_generate(const char *prefix, const char *env, char *out, size_t size,
    struct lk_keyparts *parts)
{
	size_t	 head;
	int	 n;

	if (!lk_keyfmt_prefix_ok(prefix) || !lk_keyfmt_env_ok(env) ||
	    size < LK_KEY_MAX + 1)
		return LK_ERR_VALIDATION;
	n = snprintf(out, size, "%s_%s_", prefix, env);
	head = (size_t)n;
	if (!lk_crypto_base62(out + head, LK_KEY_RANDOM_LEN))
		return LK_ERR_INTERNAL;
	lk_keyfmt_checksum(out, head + LK_KEY_RANDOM_LEN,
	    out + head + LK_KEY_RANDOM_LEN);
	fill_parts(out, head + LK_KEY_BODY_LEN, head, env, parts);
	return LK_OK;
}

/* Length of "prefix_env_" if s starts with a well-shaped head, else 0. */
static size_t
head_len(const char *s, size_t len, char env[5])
{
	size_t i = 0;

	while (i < len && s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > LK_KEY_PREFIX_MAX || i + 6 > len || s[i] != '_')
		return 0;
	memcpy(env, s + i + 1, 4);
	env[4] = '\0';
	if (!lk_keyfmt_env_ok(env) || s[i + 5] != '_')
		return 0;
	return i + 6;
}

bool
lk_keyfmt_start_ok(const char *s)
{
	char	 env[5];
	size_t	 head, i, len = strlen(s);

	if ((head = head_len(s, len, env)) == 0 || len <= head ||
	    len > head + LK_KEY_START_BODY)
		return false;
	for (i = head; i < len; i++)
		if (!isbase62((unsigned char)s[i]))
			return false;
	return true;
}

enum lk_err
lk_keyfmt_parse(const char *s, size_t len, const char *prefix,
    struct lk_keyparts *parts)
{
	char	 env[5], check[LK_KEY_CHECK_LEN + 1];
	size_t	 head, i, plen = strlen(prefix);

	if ((head = head_len(s, len, env)) == 0 || head != plen + 6 ||
	    memcmp(s, prefix, plen) != 0 || len != head + LK_KEY_BODY_LEN)
		return LK_ERR_INVALID_KEY;
	for (i = head; i < len; i++)
		if (!isbase62((unsigned char)s[i]))
			return LK_ERR_INVALID_KEY;
	lk_keyfmt_checksum(s, head + LK_KEY_RANDOM_LEN, check);
	if (memcmp(check, s + head + LK_KEY_RANDOM_LEN, LK_KEY_CHECK_LEN) != 0)
		return LK_ERR_INVALID_KEY;
	fill_parts(s, len, head, env, parts);
	return LK_OK;
}

enum lk_err
lk_keyfmt_presented(const char *s, size_t len, const char *prefix, struct lk_keyparts *parts)
{
	size_t plen = strlen(prefix), i;

	if (len > plen + 6 && memcmp(s, prefix, plen) == 0 &&
	    (memcmp(s + plen, "_live_", 6) == 0 || memcmp(s + plen, "_test_", 6) == 0))
		return lk_keyfmt_parse(s, len, prefix, parts);
	if (len < LK_KEY_FOREIGN_MIN || len > LK_KEY_FOREIGN_MAX)
		return LK_ERR_INVALID_KEY;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return LK_ERR_INVALID_KEY;
	parts->env[0] = parts->start[0] = '\0';
	lk_crypto_sha256(s, len, parts->digest);
	return LK_OK;
}

bool
lk_keyfmt_looks_like_key(const char *s)
{
	char	 env[5];
	size_t	 i, head, len = strlen(s);

	/* Scan every position: the key may be embedded in a longer value. */
	for (i = 0; i + 2 + 6 + LK_KEY_BODY_LEN <= len; i++) {
		size_t j;

		if (i > 0 && s[i - 1] >= 'a' && s[i - 1] <= 'z')
			continue;
		if ((head = head_len(s + i, len - i, env)) == 0 ||
		    len - i - head < LK_KEY_BODY_LEN)
			continue;
		for (j = 0; j < LK_KEY_BODY_LEN; j++)
			if (!isbase62((unsigned char)s[i + head + j]))
				break;
		if (j == LK_KEY_BODY_LEN)
			return true;
	}
	return false;
}
