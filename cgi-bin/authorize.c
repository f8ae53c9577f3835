/*
 * authorize — the FastCGI authorizer (FCGI_ROLE=AUTHORIZER) for lighttpd
 * ("mode" => "authorizer") and Apache (mod_authnz_fcgi): lib/api/authorize.c.
 * No routes of its own: it guards any path.
 */
#include "api/authorize.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve_at(lk_authz_handle, NULL);
}
