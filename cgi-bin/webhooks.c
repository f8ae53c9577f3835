/*
 * webhooks — /v1/webhooks…: an account's webhook endpoints, their secrets,
 * test events and deliveries (lib/api/webhooks.c).
 */
#include "api/webhooks.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_webhooks_http);
}
