/* leaks.h — leaked-key reports: POST /v1/leaks (scanners, people) and /v1/leaks/github. */
#ifndef LK_API_LEAKS_H
#define LK_API_LEAKS_H

#include "http/req.h"

/*
 * POST /v1/leaks: {"key", "url", "source"} or an array of up to
 * LK_LEAKS_BATCH_MAX of them, by the key itself (X-API-Key is the reported
 * key) or a caller with keys:write over each key's account.
 * POST /v1/leaks/github: GitHub's secret scanning partner format, signed.
 */
enum lk_err	lk_leaks_http(struct lk_req *req);

#define LK_LEAKS_BATCH_MAX	100	/* reports per POST /v1/leaks */

#endif
