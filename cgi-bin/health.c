/* health — GET /v1/health: whether this web node can serve (lib/api/health.c). */
#include "api/health.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_health_http);
}
