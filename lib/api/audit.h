/* audit.h — the audit endpoint (the query is model/audit_list's). */
#ifndef LK_API_AUDIT_H
#define LK_API_AUDIT_H

#include "http/req.h"
#include "model/audit_list.h"

/* The route /audit (cgi-bin/audit): lk_audit_http_list. */
enum lk_err	lk_audit_http(struct lk_req *req);

/*
 * GET /v1/audit: caller with audit:read; the rows of the context account's
 * subtree (X-Account-Id or the caller's own) that pass the query's filters;
 * for a test key only the rows about test keys.
 */
enum lk_err	lk_audit_http_list(struct lk_req *req);

#endif
