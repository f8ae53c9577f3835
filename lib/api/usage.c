/* usage.c — GET …/keys/{id}/usage and GET /v1/accounts/{id}/usage. */
#include "api/usage.h"
#include "http/resp.h"

static const struct lk_field days_fields[] = {
	{ "days", LK_FT_INT, 0, LK_USAGE_DAYS_MAX, NULL },
	{ NULL, 0, 0, 0, NULL }
};

/* ?days= (default LK_USAGE_DAYS_DEFAULT) into *days. */
static enum lk_err
days_param(struct lk_req *req, int *days)
{
	json_t		*f;
	enum lk_err	 e;

	if ((e = lk_req_fields(req, req->query, days_fields, &f)) != LK_OK)
		return e;
	*days = json_object_get(f, "days") != NULL ?
	    (int)json_integer_value(json_object_get(f, "days")) : LK_USAGE_DAYS_DEFAULT;
	json_decref(f);
	return LK_OK;
}

enum lk_err
lk_usage_http_key(struct lk_req *req, const struct lk_key *k, const char *only_env)
{
	json_t		*o;
	int		 days;
	enum lk_err	 e;

	if ((e = days_param(req, &days)) == LK_OK &&
	    (e = lk_usage_key(req->db, k, only_env, days, req->now, &o)) == LK_OK)
		lk_resp_json(req, 200, o);
	return e;
}

enum lk_err
lk_usage_http_account(struct lk_req *req, const struct lk_account *a,
    const char *only_env)
{
	json_t		*o;
	int		 days;
	enum lk_err	 e;

	if ((e = days_param(req, &days)) == LK_OK &&
	    (e = lk_usage_account(req->db, a, only_env, days, req->now, &o)) == LK_OK)
		lk_resp_json(req, 200, o);
	return e;
}
