/* resp.c — every response carries X-Request-Id, Cache-Control: no-store and nosniff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "base/timefmt.h"
#include "http/resp.h"

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 207: return "Multi-Status";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

#define JSON_TYPE "application/json; charset=utf-8"

/*
 * The status line and headers (content_type NULL: no body). Date is the
 * request's own clock (req->now), the one every time in the body comes from:
 * a web server that adds its Date only when none is given (lighttpd, proxies)
 * then never dates an answer before the times it carries.
 */
static void
send_head(struct lk_req *req, int status, const char *content_type)
{
	char	 head[2048], date[LK_HTTP_DATE_MAX];
	int	 n;

	lk_time_http(req->now, date);
	n = snprintf(head, sizeof(head),
	    "Status: %d %s\r\n"
	    "%s%s%s"
	    "Date: %s\r\n"
	    "X-Request-Id: %s\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "%s"
	    "\r\n",
	    status, reason(status), content_type != NULL ? "Content-Type: " : "",
	    content_type != NULL ? content_type : "", content_type != NULL ? "\r\n" : "",
	    date, req->request_id, req->extra_headers);
	lk_req_write(req, head, n < (int)sizeof(head) ? (size_t)n : sizeof(head) - 1);
}

void
lk_resp_json(struct lk_req *req, int status, json_t *body)
{
	char	*text = NULL;

	if (req->responded) {
		json_decref(body);
		return;
	}
	req->responded = true;
	if (req->capture) {	/* the admin console keeps the answer (req.h) */
		req->captured_status = status;
		req->captured = body;
		return;
	}
	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	send_head(req, status, text != NULL ? JSON_TYPE : NULL);
	if (text != NULL) {
		size_t len = strlen(text);

		lk_req_write(req, text, len);
		lk_req_write(req, "\n", 1);
		lk_crypto_wipe(text, len);	/* it may hold a new key's plaintext */
		free(text);
	}
}

/* The program's path (SCRIPT_NAME: no query string, no id below it) for log lines. */
static const char *
script_name(const struct lk_req *req)
{
	const char *s = lk_req_param(req, "SCRIPT_NAME");

	return s != NULL && *s != '\0' ? s : "-";
}

void
lk_resp_body(struct lk_req *req, int status, const char *content_type,
    const char *body, size_t len)
{
	if (req->responded)
		return;
	req->responded = true;
	send_head(req, status, content_type);
	if (body != NULL)
		lk_req_write(req, body, len);
}

/* The error object of e from req's recorded message and details. */
static json_t *
error_object(const struct lk_req *req, enum lk_err e)
{
	json_t *err;

	err = json_pack("{s:s,s:s,s:i}",
	    "code", lk_err_code(e),
	    "message", req->err_message[0] ? req->err_message : lk_err_message(e),
	    "status", lk_err_status(e));
	if (req->err_details != NULL)
		json_object_set(err, "details", req->err_details);
	return err;
}

json_t *
lk_resp_error_object(struct lk_req *req, enum lk_err e)
{
	json_t *err = error_object(req, e);

	req->err_message[0] = '\0';
	json_decref(req->err_details);
	req->err_details = NULL;
	return err;
}

void
lk_resp_error(struct lk_req *req, enum lk_err e)
{
	json_t *err;

	if (e == LK_ERR_MISSING_KEY || e == LK_ERR_INVALID_KEY ||
	    e == LK_ERR_EXPIRED_KEY || e == LK_ERR_REVOKED_KEY)
		lk_req_header(req, "WWW-Authenticate", "Bearer realm=\"latchkey\"");
	err = error_object(req, e);
	json_object_set_new(err, "request_id", json_string(req->request_id));
	/* Every 5xx has a log line under its request id (the cause is logged above it). */
	if (lk_err_status(e) >= 500)
		lk_log_err("answered %d %s to %s %s", lk_err_status(e), lk_err_code(e),
		    req->method_name[0] ? req->method_name : "-", script_name(req));
	lk_resp_json(req, lk_err_status(e), json_pack("{s:o}", "error", err));
}

void
lk_resp_out(struct lk_req *req, int status, const struct lk_out *o)
{
	if (o->full) {
		lk_resp_error(req, LK_ERR_INTERNAL);
		return;
	}
	if (req->responded)
		return;
	req->responded = true;
	send_head(req, status, JSON_TYPE);
	lk_req_write(req, o->buf, o->len);
	lk_req_write(req, "\n", 1);
}
