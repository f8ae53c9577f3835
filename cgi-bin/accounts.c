/*
 * accounts — /v1/accounts… (lib/api/accounts.c), with /v1/accounts/{id}/keys… as
 * /v1/keys… in that account.
 */
#include "api/accounts.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_accounts_http);
}
