/* me — GET /v1/me (lib/api/me.c). */
#include "api/me.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_me_http);
}
