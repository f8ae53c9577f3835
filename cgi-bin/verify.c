/* verify — POST /v1/verify (lib/api/verify.c). */
#include "api/verify.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_verify_http);
}
