/* resp.h — status line, the standard headers, JSON bodies and the error shape. */
#ifndef LK_RESP_H
#define LK_RESP_H

#include <jansson.h>

#include "req.h"

/* Send status with body (a reference is stolen; NULL sends no body, e.g. 204). */
void	lk_resp_json(struct lk_req *req, int status, json_t *body);

/* Send the error shape of API.md for e, with req->err_message / err_details. */
void	lk_resp_error(struct lk_req *req, enum lk_err e);

#endif
