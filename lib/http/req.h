/*
 * req.h — one struct lk_req owns everything of one request and is freed at
 * the end of every accept-loop pass. Works the same under FastCGI and CGI.
 */
#ifndef LK_REQ_H
#define LK_REQ_H

#include <stdbool.h>
#include <stdint.h>

#include <fcgiapp.h>
#include <jansson.h>

#include "base/conf.h"
#include "base/db.h"
#include "base/err.h"
#include "base/fields.h"
#include "base/page.h"

#define LK_SEGS_MAX	6
#define LK_REQUEST_ID_MAX 80

struct lk_caller;

enum lk_method { LK_GET, LK_POST, LK_PATCH, LK_DELETE, LK_OTHER };

struct lk_req {
	FCGX_Request		*fcgx;		/* NULL under CGI */
	const struct lk_conf	*conf;
	struct lk_db		*db;
	enum lk_method		 method;
	char			 method_name[16];	/* as sent, for messages */
	char			*segs[LK_SEGS_MAX];	/* path below base_path, split on '/' */
	int			 nsegs;
	char			 request_id[LK_REQUEST_ID_MAX];
	char			 ip[64];
	int64_t			 now;
	json_t			*query;		/* raw query fields (strings / arrays of strings) */
	json_t			*body;		/* raw body fields, NULL if none */
	bool			 body_form;	/* body was urlencoded (not JSON) */
	/* What the response carries: set by lk_req_fail and friends. */
	char			 err_message[256];
	json_t			*err_details;	/* object or NULL */
	char			 extra_headers[1024];
	bool			 responded;
	/*
	 * The admin console runs the API's handlers for a signed-in user:
	 * caller (when set) is who lk_auth_caller returns instead of reading a
	 * key, and with capture set lk_resp_json keeps the response in
	 * captured / captured_status instead of sending it.
	 */
	const struct lk_caller	*caller;
	bool			 capture;
	int			 captured_status;
	json_t			*captured;
};

/* Fill req from the CGI environment / FastCGI params. Returns LK_OK or the error to answer with. */
enum lk_err	 lk_req_init(struct lk_req *req, FCGX_Request *fcgx,
		    const struct lk_conf *conf, struct lk_db *db);
/*
 * lk_req_init with the routes below base instead of the config's base_path
 * ("/admin": the admin console);
 * NULL: no routing (the authorizer guards any path and reads the query
 * itself, lk_req_read_query).
 */
enum lk_err	lk_req_init_at(struct lk_req *req, FCGX_Request *fcgx,
		    const struct lk_conf *conf, struct lk_db *db, const char *base);
/* Free everything req owns. */
void		 lk_req_free(struct lk_req *req);

/*
 * Decode the query string qs (len bytes, still %-encoded) into req->query and
 * refuse a credential in it: 400 for any parameter name or value containing
 * something shaped like a key (lk_keyfmt_looks_like_key), and with by_name
 * for a parameter named like one (key, api_key, apikey, access_token, token,
 * x-api-key; any case). 400 too when it is not UTF-8 form encoding.
 */
enum lk_err	 lk_req_read_query(struct lk_req *req, const char *qs, size_t len,
		    bool by_name);

/* A CGI variable or FastCGI param ("HTTP_X_API_KEY", "REMOTE_ADDR"), NULL if absent. */
const char	*lk_req_param(const struct lk_req *req, const char *name);

/* Raw output to the client. */
void		 lk_req_write(struct lk_req *req, const char *buf, size_t len);

/*
 * Decode application/x-www-form-urlencoded text (len bytes) into a new object:
 * a repeated name becomes an array of strings. NULL on malformed input
 * (invalid UTF-8, an encoded NUL); badname then names the field if known
 * (else "").
 */
json_t		*lk_req_decode_form(const char *text, size_t len, char *badname,
		    size_t badsz);

/*
 * Read and decode the body (JSON or urlencoded) into req->body. 413/415/400 on
 * bad input. A body already decoded (req->body set) is kept.
 */
enum lk_err	 lk_req_read_body(struct lk_req *req);

/* lk_req_read_body with a limit of max bytes instead of max_body (a route that takes more). */
enum lk_err	 lk_req_read_body_max(struct lk_req *req, size_t max);

/*
 * Read a JSON body as sent, for a route that needs its bytes (a signature
 * over them) or takes more than an object: *buf (NUL-terminated, *len bytes)
 * for the caller to free, NULL without a body. 413 over max bytes, 415
 * unless application/json, 400 if shorter than its Content-Length.
 */
enum lk_err	 lk_req_read_raw(struct lk_req *req, size_t max, char **buf, size_t *len);

/*
 * Validate the raw fields in (req->body, req->query, or an object inside a
 * JSON body) against table (lk_fields_check): unknown fields, bad values and
 * missing required ones are 400, each recorded with lk_req_invalid (the
 * first one is the message and details.field; details.errors lists them
 * all). On LK_OK *out is a new object of normalised values (lk_fields_value)
 * that the caller decrefs. A list given as one string is split only in the
 * query or a form body (req->body_form): JSON must give an array.
 */
enum lk_err	 lk_req_fields(struct lk_req *req, json_t *in,
		    const struct lk_field *table, json_t **out);

/*
 * Record one invalid field for a 400 that names every one: the first recorded
 * is the error's message and details.field, and each is appended to
 * details.errors as {"field", "message"}. lk_req_invalids is then
 * LK_ERR_VALIDATION if any was recorded, else LK_OK.
 */
void		 lk_req_invalid(struct lk_req *req, const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
enum lk_err	 lk_req_invalids(struct lk_req *req);

/* lk_req_read_body, then lk_req_fields on it (a missing body counts as {}). */
enum lk_err	 lk_req_body_fields(struct lk_req *req, const struct lk_field *table,
		    json_t **out);

/* lk_page_parse on a list's validated query fields; 400 on a malformed cursor. */
enum lk_err	 lk_req_page(struct lk_req *req, json_t *fields, struct lk_page *p);

/* 400 if the request has any query parameter: for routes that take none. */
enum lk_err	 lk_req_no_query(struct lk_req *req);

/* Record an error for the response: message (printf) and details.field when field is not NULL. */
enum lk_err	 lk_req_fail(struct lk_req *req, enum lk_err e, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Add details[name] = value (stolen) to the error response. */
void		 lk_req_detail(struct lk_req *req, const char *name, json_t *value);

/* Answer 404 NOT_FOUND "No such endpoint": a path no route takes. */
enum lk_err	 lk_req_no_route(struct lk_req *req);

/* Answer 405 with "Allow: allow". */
enum lk_err	 lk_req_method_not_allowed(struct lk_req *req, const char *allow);

/* Add one response header line (name and value are trusted constants or validated). */
void		 lk_req_header(struct lk_req *req, const char *name, const char *value);

#endif
