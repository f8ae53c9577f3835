/* keys — /v1/keys: GET lists the context account's keys, POST creates one (lib/api/keys.c). */
#include "api/keys.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_keys_http_keys);
}
