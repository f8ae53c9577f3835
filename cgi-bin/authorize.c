/*
 * authorize — the FastCGI authorizer (FCGI_ROLE=AUTHORIZER) for lighttpd
 * ("mode" => "authorizer") and Apache (mod_authnz_fcgi): is the request's key
 * good for this location? 200 + Variable-LATCHKEY_* lets the app run; any
 * other answer goes to the client. Rules: lib/authz.c.
 */
#include <string.h>

#include "api/authorize.h"
#include "http/serve.h"

static enum lk_err
handle(struct lk_req *req)
{
	const char *role = lk_req_param(req, "FCGI_ROLE");

	if (role == NULL || strcmp(role, "AUTHORIZER") != 0)
		return lk_req_fail(req, LK_ERR_INTERNAL, NULL,
		    "Server misconfiguration: authorize was called in the %s role; it only "
		    "answers in the FastCGI AUTHORIZER role (lighttpd: \"mode\" => "
		    "\"authorizer\"; Apache: AuthnzFcgiDefineProvider + "
		    "AuthnzFcgiCheckAuthnProvider)", role != NULL ? role : "CGI");
	return lk_authz_handle(req);
}

int
main(void)
{
	return lk_serve_at(handle, NULL);
}
