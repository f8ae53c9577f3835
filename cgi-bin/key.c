/*
 * key — /v1/keys/{id}: GET, PATCH, DELETE; POST /v1/keys/{id}/revoke|reactivate|rotate;
 * GET /v1/keys/{id}/usage (lib/api/keys.c).
 */
#include "api/keys.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_keys_http_key);
}
