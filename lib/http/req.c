/* req.c — request parameters, bounded body, JSON/urlencoded decoding, field tables. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uriparser/Uri.h>

#include "base/crypto.h"
#include "base/keyfmt.h"
#include "base/log.h"
#include "http/req.h"

/* Query parameters that carry a credential: refused, whatever their value. */
static const char *const credential_names[] = {
	"key", "api_key", "apikey", "access_token", "token", "x-api-key", NULL
};

const char *
lk_req_param(const struct lk_req *req, const char *name)
{
	if (req->fcgx != NULL)
		return FCGX_GetParam(name, req->fcgx->envp);
	return getenv(name);
}

void
lk_req_write(struct lk_req *req, const char *buf, size_t len)
{
	if (req->fcgx != NULL)
		FCGX_PutStr(buf, (int)len, req->fcgx->out);
	else
		fwrite(buf, 1, len, stdout);
}

static size_t
read_in(struct lk_req *req, char *buf, size_t len)
{
	if (req->fcgx != NULL) {
		int n = FCGX_GetStr(buf, (int)len, req->fcgx->in);
		return n < 0 ? 0 : (size_t)n;
	}
	return fread(buf, 1, len, stdin);
}

enum lk_err
lk_req_fail(struct lk_req *req, enum lk_err e, const char *field,
    const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(req->err_message, sizeof(req->err_message), fmt, ap);
		va_end(ap);
	}
	if (field != NULL)
		lk_req_detail(req, "field", json_string(field));
	return e;
}

void
lk_req_detail(struct lk_req *req, const char *name, json_t *value)
{
	if (value == NULL)
		return;
	if (req->err_details == NULL)
		req->err_details = json_object();
	json_object_set_new(req->err_details, name, value);
}

void
lk_req_header(struct lk_req *req, const char *name, const char *value)
{
	size_t n = strlen(req->extra_headers);

	snprintf(req->extra_headers + n, sizeof(req->extra_headers) - n,
	    "%s: %s\r\n", name, value);
}

enum lk_err
lk_req_method_not_allowed(struct lk_req *req, const char *allow)
{
	lk_req_header(req, "Allow", allow);
	return lk_req_fail(req, LK_ERR_METHOD, NULL,
	    "Method %s not allowed here; allowed: %s", req->method_name, allow);
}

/* A client-sent request id is echoed only when it is a sane token. */
static bool
sane_request_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return false;
	return i >= 1 && i <= 64;
}

/* Split path (below base) into req->segs. False if it is not below base. */
static bool
split_path(struct lk_req *req, const char *base, const char *path)
{
	const char	*p;
	size_t		 blen = strlen(base);

	if (strncmp(path, base, blen) != 0 || (path[blen] != '/' && path[blen] != '\0'))
		return false;
	p = path + blen;
	while (*p == '/') {
		size_t n;

		p++;
		n = strcspn(p, "/");
		if (n == 0)
			continue;	/* tolerate "//" and a trailing '/' */
		if (req->nsegs == LK_SEGS_MAX || n > 128)
			return false;
		if ((req->segs[req->nsegs] = strndup(p, n)) == NULL)
			return false;
		req->nsegs++;
		p += n;
	}
	return true;
}

/* Add name=value to obj; a repeated name becomes an array. False for invalid UTF-8. */
static bool
add_field(json_t *obj, const char *name, const char *value)
{
	json_t	*v, *old;

	if ((v = json_string(value)) == NULL)
		return false;
	if ((old = json_object_get(obj, name)) == NULL)
		return json_object_set_new(obj, name, v) == 0;
	if (json_is_array(old))
		return json_array_append_new(old, v) == 0;
	json_t *arr = json_array();
	json_array_append(arr, old);
	json_array_append_new(arr, v);
	return json_object_set_new(obj, name, arr) == 0;
}

json_t *
lk_req_decode_form(const char *text, size_t len, char *badname, size_t badsz)
{
	UriQueryListA	*list = NULL, *q;
	int		 count;
	json_t		*obj;
	const char	*p;

	badname[0] = '\0';
	for (p = text; (p = memchr(p, '%', len - (size_t)(p - text))) != NULL; p++)
		if ((size_t)(p - text) + 2 < len && p[1] == '0' && p[2] == '0')
			return NULL;
	if (memchr(text, '\0', len) != NULL)
		return NULL;
	if ((obj = json_object()) == NULL)
		return NULL;
	if (len == 0)
		return obj;
	if (uriDissectQueryMallocExA(&list, &count, text, text + len,
	    URI_TRUE, URI_BR_DONT_TOUCH) != URI_SUCCESS) {
		json_decref(obj);
		return NULL;
	}
	for (q = list; q != NULL; q = q->next) {
		if (q->key == NULL || q->key[0] == '\0')
			continue;
		if (!add_field(obj, q->key, q->value != NULL ? q->value : "")) {
			json_t *ok = json_string(q->key);

			if (ok != NULL)
				snprintf(badname, badsz, "%s", q->key);
			json_decref(ok);
			json_decref(obj);
			obj = NULL;
			break;
		}
	}
	uriFreeQueryListA(list);
	return obj;
}

/* Refuse credentials in req->query: by shape in a name or value, and with by_name by parameter name. */
static enum lk_err
check_query_credentials(struct lk_req *req, bool by_name)
{
	static const char	 msg[] = "API keys must not be sent in the URL; use the "
				     "Authorization or X-API-Key header";
	const char		*name;
	json_t			*v;
	int			 i;

	json_object_foreach(req->query, name, v) {
		char lname[64];
		size_t j, idx;
		json_t *e;

		/* details.field must not echo the key itself */
		if (lk_keyfmt_looks_like_key(name))
			return lk_req_fail(req, LK_ERR_VALIDATION, NULL, "%s", msg);
		for (j = 0; name[j] != '\0' && j + 1 < sizeof(lname); j++)
			lname[j] = (char)tolower((unsigned char)name[j]);
		lname[j] = '\0';
		for (i = 0; by_name && credential_names[i] != NULL; i++)
			if (strcmp(lname, credential_names[i]) == 0)
				goto refuse;
		if (json_is_string(v) && lk_keyfmt_looks_like_key(json_string_value(v)))
			goto refuse;
		json_array_foreach(v, idx, e)
			if (lk_keyfmt_looks_like_key(json_string_value(e)))
				goto refuse;
		continue;
refuse:
		return lk_req_fail(req, LK_ERR_VALIDATION, name, "%s", msg);
	}
	return LK_OK;
}

enum lk_err
lk_req_read_query(struct lk_req *req, const char *qs, size_t len, bool by_name)
{
	char bad[128];

	if ((req->query = lk_req_decode_form(qs, len, bad, sizeof(bad))) == NULL) {
		req->query = json_object();
		return lk_req_fail(req, LK_ERR_VALIDATION, bad[0] ? bad : NULL,
		    "The query string is not valid UTF-8 form encoding");
	}
	return check_query_credentials(req, by_name);
}

enum lk_err
lk_req_init(struct lk_req *req, FCGX_Request *fcgx, const struct lk_conf *conf,
    struct lk_db *db)
{
	return lk_req_init_at(req, fcgx, conf, db, conf->base_path);
}

enum lk_err
lk_req_init_at(struct lk_req *req, FCGX_Request *fcgx, const struct lk_conf *conf,
    struct lk_db *db, const char *base)
{
	static const char *const methods[] = { "GET", "POST", "PATCH", "DELETE" };
	const char	*m, *rid, *qs, *ip;
	char		 path[1024];
	unsigned int	 i;

	memset(req, 0, sizeof(*req));
	req->fcgx = fcgx;
	req->conf = conf;
	req->db = db;
	req->now = (int64_t)time(NULL);

	rid = lk_req_param(req, "HTTP_X_REQUEST_ID");
	if (rid != NULL && sane_request_id(rid))
		snprintf(req->request_id, sizeof(req->request_id), "%s", rid);
	else
		lk_crypto_public_id("req_", req->request_id, sizeof(req->request_id));
	lk_log_set_request(req->request_id);
	ip = lk_req_param(req, "REMOTE_ADDR");
	lk_net_client_ip(conf->trusted_proxies, conf->ntrusted_proxies, ip,
	    lk_req_param(req, "HTTP_X_FORWARDED_FOR"), req->ip, sizeof(req->ip));

	m = lk_req_param(req, "REQUEST_METHOD");
	req->method = LK_OTHER;
	for (i = 0; m != NULL && m[i] != '\0' && i + 1 < sizeof(req->method_name); i++)
		req->method_name[i] = isupper((unsigned char)m[i]) ? m[i] : '?';
	for (i = 0; m != NULL && i < LK_NELEM(methods); i++)
		if (strcmp(m, methods[i]) == 0)
			req->method = (enum lk_method)i;

	/* No base: the authorizer, which guards any path (api/authorize.c reads it itself). */
	if (base == NULL)
		return LK_OK;

	qs = lk_req_param(req, "QUERY_STRING");
	if (lk_req_read_query(req, qs != NULL ? qs : "", qs != NULL ? strlen(qs) : 0,
	    true) != LK_OK)
		return LK_ERR_VALIDATION;

	snprintf(path, sizeof(path), "%s%s",
	    lk_req_param(req, "SCRIPT_NAME") ? lk_req_param(req, "SCRIPT_NAME") : "",
	    lk_req_param(req, "PATH_INFO") ? lk_req_param(req, "PATH_INFO") : "");
	if (!split_path(req, base, path))
		return lk_req_no_route(req);
	return LK_OK;
}

void
lk_req_free(struct lk_req *req)
{
	int i;

	for (i = 0; i < req->nsegs; i++)
		free(req->segs[i]);
	json_decref(req->query);
	json_decref(req->body);
	json_decref(req->err_details);
	json_decref(req->captured);
	lk_log_set_request(NULL);
	memset(req, 0, sizeof(*req));
}

/* The media type of CONTENT_TYPE: 1 JSON, 2 form, 0 none given, -1 other. */
static int
media_type(const char *ct)
{
	char	 type[80], *semi;
	size_t	 i;

	if (ct == NULL || *ct == '\0')
		return 0;
	for (i = 0; ct[i] != '\0' && i + 1 < sizeof(type); i++)
		type[i] = (char)tolower((unsigned char)ct[i]);
	type[i] = '\0';
	if ((semi = strchr(type, ';')) != NULL) {
		const char *cs = strstr(semi, "charset=");

		if (cs != NULL && strncmp(cs + 8, "utf-8", 5) != 0 &&
		    strncmp(cs + 8, "\"utf-8\"", 7) != 0)
			return -1;
		*semi = '\0';
	}
	while (i > 0 && (type[strlen(type) - 1] == ' '))
		type[strlen(type) - 1] = '\0';
	if (strcmp(type, "application/json") == 0)
		return 1;
	if (strcmp(type, "application/x-www-form-urlencoded") == 0)
		return 2;
	return -1;
}

enum lk_err
lk_req_read_body(struct lk_req *req)
{
	return lk_req_read_body_max(req, req->conf->max_body);
}

/*
 * Read the body (at most max bytes) into *buf (NUL-terminated, *len bytes; the
 * caller frees), *mt its media type (media_type); *buf NULL without a body.
 */
static enum lk_err
read_raw(struct lk_req *req, size_t max, int *mt, char **buf, size_t *len)
{
	const char	*cl = lk_req_param(req, "CONTENT_LENGTH");
	char		*end;
	unsigned long long n = 0;
	size_t		 got;

	*buf = NULL;
	*len = 0;
	if (cl != NULL && *cl != '\0') {
		n = strtoull(cl, &end, 10);
		if (!isdigit((unsigned char)*cl) || *end != '\0')
			return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
			    "Content-Length is not a number");
	}
	if (n > max) {
		lk_req_detail(req, "max_bytes", json_integer((json_int_t)max));
		return lk_req_fail(req, LK_ERR_TOO_LARGE, NULL,
		    "The request body is larger than %zu bytes", max);
	}
	*mt = media_type(lk_req_param(req, "CONTENT_TYPE"));
	if (n == 0 && *mt <= 0)
		return LK_OK;		/* no body: e.g. POST …/revoke */
	if (*mt <= 0)	/* a body without a type is refused, never guessed */
		return lk_req_fail(req, LK_ERR_MEDIA_TYPE, NULL,
		    "The body must be application/json or application/x-www-form-urlencoded");
	if ((*buf = malloc(n + 1)) == NULL)
		return LK_ERR_INTERNAL;
	got = read_in(req, *buf, n);
	(*buf)[got] = '\0';
	if (got != n) {
		free(*buf);
		*buf = NULL;
		return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
		    "The request body is shorter than its Content-Length");
	}
	*len = n;
	return LK_OK;
}

enum lk_err
lk_req_read_raw(struct lk_req *req, size_t max, char **buf, size_t *len)
{
	enum lk_err	e;
	int		mt = 0;

	if ((e = read_raw(req, max, &mt, buf, len)) != LK_OK || *buf == NULL || mt == 1)
		return e;
	free(*buf);
	*buf = NULL;
	return lk_req_fail(req, LK_ERR_MEDIA_TYPE, NULL, "The body must be application/json");
}

enum lk_err
lk_req_read_body_max(struct lk_req *req, size_t max)
{
	char		*buf, bad[128];
	size_t		 len;
	int		 mt = 0;
	enum lk_err	 e;
	json_error_t	 jerr;

	if (req->body != NULL)
		return LK_OK;
	if ((e = read_raw(req, max, &mt, &buf, &len)) != LK_OK || buf == NULL)
		return e;
	if (mt == 1) {
		req->body = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
		if (req->body == NULL || !json_is_object(req->body)) {
			free(buf);
			return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
			    req->body == NULL ? "The body is not valid JSON: %s" :
			    "The body must be a JSON object%s",
			    req->body == NULL ? jerr.text : "");
		}
	} else if ((req->body = lk_req_decode_form(buf, len, bad, sizeof(bad))) == NULL) {
		free(buf);
		return lk_req_fail(req, LK_ERR_VALIDATION, bad[0] ? bad : NULL,
		    "The form body is not valid UTF-8 form encoding");
	} else
		req->body_form = true;
	free(buf);
	return LK_OK;
}

enum lk_err
lk_req_body_fields(struct lk_req *req, const struct lk_field *table, json_t **out)
{
	enum lk_err e;

	*out = NULL;
	if ((e = lk_req_read_body(req)) != LK_OK)
		return e;
	if (req->body == NULL)
		req->body = json_object();	/* no body: as if "{}" */
	return lk_req_fields(req, req->body, table, out);
}

enum lk_err
lk_req_no_route(struct lk_req *req)
{
	return lk_req_fail(req, LK_ERR_NOT_FOUND, NULL, "No such endpoint");
}

enum lk_err
lk_req_page(struct lk_req *req, json_t *fields, struct lk_page *p)
{
	if (!lk_page_parse(fields, p))
		return lk_req_fail(req, LK_ERR_VALIDATION, "cursor", "The cursor is not valid");
	return LK_OK;
}

enum lk_err
lk_req_no_query(struct lk_req *req)
{
	const char	*name;
	json_t		*v;

	json_object_foreach(req->query, name, v)
		return lk_req_fail(req, LK_ERR_VALIDATION, name,
		    "Unknown query parameter '%.64s'", name);
	return LK_OK;
}

enum lk_err
lk_req_fields(struct lk_req *req, json_t *in, const struct lk_field *table,
    json_t **out)
{
	const char	*name;
	json_t		*v, *errors, *x;
	size_t		 i;
	bool		 form = in == req->body && req->body_form;

	if (form)
		json_object_foreach(in, name, v)
			if (name[0] == '{' || name[0] == '[') {
				*out = NULL;
				return lk_req_fail(req, LK_ERR_VALIDATION, NULL,
				    "The body is JSON but was sent as a form: set the header "
				    "'Content-Type: application/json' (curl: -H 'Content-Type: "
				    "application/json')");
			}
	errors = json_array();
	if (lk_fields_check(table, in, in == req->query || form, out, errors) == 0) {
		json_decref(errors);
		return LK_OK;
	}
	json_decref(*out);
	*out = NULL;
	json_array_foreach(errors, i, x)
		lk_req_invalid(req, json_string_value(json_object_get(x, "field")), "%s",
		    json_string_value(json_object_get(x, "message")));
	json_decref(errors);
	return lk_req_invalids(req);
}

void
lk_req_invalid(struct lk_req *req, const char *field, const char *fmt, ...)
{
	char	 msg[sizeof(req->err_message)];
	json_t	*errors = json_object_get(req->err_details, "errors");
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors == NULL) {
		lk_req_fail(req, LK_ERR_VALIDATION, field, "%s", msg);
		lk_req_detail(req, "errors", errors = json_array());
	}
	json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field, "message", msg));
}

enum lk_err
lk_req_invalids(struct lk_req *req)
{
	return json_object_get(req->err_details, "errors") != NULL ? LK_ERR_VALIDATION : LK_OK;
}
