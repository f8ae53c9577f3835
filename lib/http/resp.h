/* resp.h — status line, the standard headers, JSON bodies and the error shape. */
#ifndef LK_RESP_H
#define LK_RESP_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "http/req.h"

#define LK_OUT_MAX	16384

/*
 * A JSON body written directly (hot paths: no JSON library round trip).
 * Strings always go through lk_out_str, which escapes; lk_out_raw is for
 * literals and for text that is already JSON (a stored compact meta object).
 * Meant to live for the process (static) and be reset per response.
 */
struct lk_out {
	char	 buf[LK_OUT_MAX];
	size_t	 len;
	bool	 full;		/* something did not fit: never sent */
};

void	lk_out_reset(struct lk_out *o);
void	lk_out_raw(struct lk_out *o, const char *s, size_t n);
#define	lk_out_lit(o, s)	lk_out_raw((o), (s), sizeof(s) - 1)
/* s (n bytes of UTF-8) as a quoted JSON string. */
void	lk_out_str(struct lk_out *o, const char *s, size_t n);
void	lk_out_int(struct lk_out *o, int64_t v);

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

/* Send the error shape of API.md for e, with req->err_message / err_details. */
void	lk_resp_error(struct lk_req *req, enum lk_err e);

#endif
