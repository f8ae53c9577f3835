/* resp.h — status line, the standard headers, JSON bodies and the error shape. */
#ifndef LK_RESP_H
#define LK_RESP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/out.h"
#include "http/req.h"

/* Send status with o's text as the JSON body (500 if it overflowed). */
void	lk_resp_out(struct lk_req *req, int status, const struct lk_out *o);

/* Send status with body (a reference is stolen; NULL sends no body, e.g. 204). */
void	lk_resp_json(struct lk_req *req, int status, json_t *body);

/*
 * Send status with a body of len bytes of content_type (body NULL: none), with
 * the standard headers and req->extra_headers (the admin console's pages).
 */
void	lk_resp_body(struct lk_req *req, int status, const char *content_type,
	    const char *body, size_t len);

/*
 * The error object of e ({"code", "message", "status", "details"}, without
 * request_id) from req->err_message / err_details, which are cleared: for
 * the result of one item of a request that answers per item.
 */
json_t	*lk_resp_error_object(struct lk_req *req, enum lk_err e);

/* Send the error shape of API.md for e, with req->err_message / err_details. */
void	lk_resp_error(struct lk_req *req, enum lk_err e);

#endif
