/*
 * audit — GET /v1/audit: the audit rows of the caller's (or X-Account-Id's) subtree
 * (lib/api/audit.c).
 */
#include "api/audit.h"
#include "http/serve.h"

int
main(void)
{
	return lk_serve(lk_audit_http);
}
