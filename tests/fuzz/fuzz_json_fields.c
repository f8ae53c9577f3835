/*
 * fuzz_json_fields.c — libFuzzer: a JSON body through Jansson and the key
 * create field table, as POST /v1/keys validates it (and an import item's hash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/req.h"

static const char *const envs[] = { "live", "test", NULL };
static const char *const acct[] = { "acct_", NULL };

static const struct lk_field table[] = {
	{ "label", LK_FT_TEXT, LK_FF_REQUIRED, 100, NULL },
	{ "scopes", LK_FT_SCOPES, 0, 0, NULL },
	{ "env", LK_FT_ENUM, 0, 0, envs },
	{ "expires_at", LK_FT_TIME, LK_FF_NULLABLE, 0, NULL },
	{ "expires_in", LK_FT_DURATION, 0, 100LL * 366 * 86400, NULL },
	{ "grace_period", LK_FT_DURATION, LK_FF_ZERO, 30 * 86400, NULL },
	{ "account_id", LK_FT_ID, 0, 0, acct },
	{ "ratelimit", LK_FT_RATELIMIT, LK_FF_NULLABLE, 0, NULL },
	{ "meta", LK_FT_OBJECT, 0, 4096, NULL },
	{ "limit", LK_FT_INT, 0, 100, NULL },
	{ "hash", LK_FT_HEX, 0, 64, NULL },
	{ NULL, 0, 0, 0, NULL }
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lk_conf	 conf;
	struct lk_req		 req;
	json_t			*in, *out = NULL;

	lk_conf_defaults(&conf);
	in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		return 0;
	}
	memset(&req, 0, sizeof(req));
	req.conf = &conf;
	if (lk_req_fields(&req, in, table, &out) == LK_OK && out == NULL)
		abort();
	json_decref(out);
	json_decref(in);
	lk_req_free(&req);
	return 0;
}
