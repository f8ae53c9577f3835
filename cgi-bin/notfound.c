/*
 * notfound — the catch-all under /v1 and the web servers' error handler, so
 * every answer below /v1 has the API's JSON error shape (lib/api/notfound.c).
 */
#include "api/notfound.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_notfound_http);
}
