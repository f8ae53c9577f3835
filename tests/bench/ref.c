/*
 * ref — the reference a verify is measured against: read the key from the JSON
 * body, SHA-256 it, one prepared read of its row by digest (unique index), and
 * with -DCOUNTER the same exact counter upsert latchkey runs (lib/ratelimit.c).
 * No validation beyond that, no account join: the naive minimum.
 * Database from the environment: REF_DB_HOST REF_DB_PORT REF_DB_USER REF_DB_PASSWORD REF_DB_NAME,
 * REF_DB_SOCKET (the unix socket, used when set: as latchkey connects to a local database).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fcgiapp.h>
#include <mysql.h>
#include <openssl/sha.h>

static const char SQL_READ[] =
    "SELECT id, account_id, revoked_at, expires_at, scopes FROM api_keys WHERE digest = ?";
#ifdef COUNTER
static const char SQL_HIT[] =
    "INSERT INTO key_usage (key_id, day, account_id, win_start, win_len, n, valid,"
    " rate_limited, revoked, expired, insufficient_scope, last_valid_at)"
    " VALUES (?, ?, ?, ?, ?, LAST_INSERT_ID(1), ?, 0, ?, ?, ?, ?)"
    " ON DUPLICATE KEY UPDATE"
    " n = LAST_INSERT_ID(IF(win_len = VALUES(win_len) AND win_start >= VALUES(win_start),"
    "  n + 1, 1)),"
    " win_start = IF(win_len = VALUES(win_len), GREATEST(win_start, VALUES(win_start)),"
    "  VALUES(win_start)),"
    " win_len = VALUES(win_len),"
    " valid = valid + (VALUES(valid) AND n <= ?),"
    " rate_limited = rate_limited + (VALUES(valid) AND n > ?),"
    " revoked = revoked + VALUES(revoked),"
    " expired = expired + VALUES(expired),"
    " insufficient_scope = insufficient_scope + VALUES(insufficient_scope),"
    " last_valid_at = IF(VALUES(valid) AND n <= ?, VALUES(last_valid_at), last_valid_at)";
#endif

static MYSQL		*my;
static MYSQL_STMT	*rd;
#ifdef COUNTER
static MYSQL_STMT	*hit;
#endif

static const char *
env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL ? v : def;
}

static void
answer(FCGX_Request *r, const char *status, const char *body)
{
	FCGX_FPrintF(r->out, "Status: %s\r\nContent-Type: application/json\r\n\r\n%s\n",
	    status, body);
}

static void
handle(FCGX_Request *r)
{
	char		 body[2048], scopes[2300];
	const char	*cl = FCGX_GetParam("CONTENT_LENGTH", r->envp), *k, *e;
	unsigned char	 digest[SHA256_DIGEST_LENGTH];
	long long	 id = 0, acct = 0, revoked = 0, expires = 0;
	unsigned long	 dlen = sizeof(digest), slen = 0;
	my_bool		 nul[5];
	MYSQL_BIND	 p[1], out[5];
	int		 n = cl != NULL ? atoi(cl) : 0, got;

	if (n <= 0 || n >= (int)sizeof(body) ||
	    (got = FCGX_GetStr(body, n, r->in)) != n) {
		answer(r, "400 Bad Request", "{\"error\":\"body\"}");
		return;
	}
	body[n] = '\0';
	if ((k = strstr(body, "\"key\"")) == NULL || (k = strchr(k + 5, '"')) == NULL ||
	    (e = strchr(++k, '"')) == NULL) {
		answer(r, "400 Bad Request", "{\"error\":\"key\"}");
		return;
	}
	SHA256((const unsigned char *)k, (size_t)(e - k), digest);
	memset(p, 0, sizeof(p));
	p[0].buffer_type = MYSQL_TYPE_BLOB;
	p[0].buffer = digest;
	p[0].buffer_length = sizeof(digest);
	p[0].length = &dlen;
	memset(out, 0, sizeof(out));
	out[0].buffer_type = out[1].buffer_type = out[2].buffer_type =
	    out[3].buffer_type = MYSQL_TYPE_LONGLONG;
	out[0].buffer = &id;
	out[1].buffer = &acct;
	out[2].buffer = &revoked;
	out[3].buffer = &expires;
	out[4].buffer_type = MYSQL_TYPE_STRING;
	out[4].buffer = scopes;
	out[4].buffer_length = sizeof(scopes);
	out[4].length = &slen;
	for (int i = 0; i < 5; i++)
		out[i].is_null = &nul[i];
	if (mysql_stmt_bind_param(rd, p) || mysql_stmt_execute(rd) ||
	    mysql_stmt_bind_result(rd, out)) {
		answer(r, "503 Service Unavailable", "{\"error\":\"db\"}");
		return;
	}
	got = mysql_stmt_fetch(rd);
	mysql_stmt_free_result(rd);
	if (got != 0 && got != MYSQL_DATA_TRUNCATED) {
		answer(r, "200 OK", "{\"valid\":false}");
		return;
	}
#ifdef COUNTER
	{
		long long	 now = time(NULL), day = now / 86400, ws = now - now % 60,
				 win = 60, one = 1, zero = 0, limit = 6000;
		MYSQL_BIND	 h[13];
		long long	*v[13] = { &id, &day, &acct, &ws, &win, &one, &zero, &zero,
				    &zero, &now, &limit, &limit, &limit };

		memset(h, 0, sizeof(h));
		for (int i = 0; i < 13; i++) {
			h[i].buffer_type = MYSQL_TYPE_LONGLONG;
			h[i].buffer = v[i];
		}
		if (mysql_stmt_bind_param(hit, h) || mysql_stmt_execute(hit)) {
			answer(r, "503 Service Unavailable", "{\"error\":\"db\"}");
			return;
		}
		if ((long long)mysql_stmt_insert_id(hit) > limit) {
			answer(r, "200 OK", "{\"valid\":false,\"code\":\"RATE_LIMITED\"}");
			return;
		}
	}
#endif
	answer(r, "200 OK", "{\"valid\":true,\"code\":\"VALID\"}");
}

int
main(void)
{
	FCGX_Request r;

	my = mysql_init(NULL);
	if (mysql_real_connect(my, env("REF_DB_HOST", "127.0.0.1"), env("REF_DB_USER", "latchkey"),
	    env("REF_DB_PASSWORD", ""), env("REF_DB_NAME", "latchkey"),
	    (unsigned)atoi(env("REF_DB_PORT", "3306")),
	    *env("REF_DB_SOCKET", "") != '\0' ? env("REF_DB_SOCKET", "") : NULL, 0) == NULL) {
		fprintf(stderr, "ref: connect: %s\n", mysql_error(my));
		return 1;
	}
	rd = mysql_stmt_init(my);
	if (mysql_stmt_prepare(rd, SQL_READ, strlen(SQL_READ)) != 0)
		return 1;
#ifdef COUNTER
	hit = mysql_stmt_init(my);
	if (mysql_stmt_prepare(hit, SQL_HIT, strlen(SQL_HIT)) != 0) {
		fprintf(stderr, "ref: prepare: %s\n", mysql_stmt_error(hit));
		return 1;
	}
#endif
	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		handle(&r);
		FCGX_Finish_r(&r);
	}
	return 0;
}
