/* err.c — the table that maps enum lk_err to the API error shape. */
#include "base/err.h"

static const struct {
	int		 status;
	const char	*code;
	const char	*message;
} errs[LK_ERR__MAX] = {
	[LK_OK] = { 200, "OK", "OK" },
	[LK_ERR_VALIDATION] = { 400, "VALIDATION_ERROR", "The request is not valid" },
	[LK_ERR_MISSING_KEY] = { 401, "MISSING_API_KEY", "No API key was presented" },
	[LK_ERR_INVALID_KEY] = { 401, "INVALID_API_KEY", "The API key is not valid" },
	[LK_ERR_EXPIRED_KEY] = { 401, "EXPIRED_API_KEY", "The API key has expired" },
	[LK_ERR_REVOKED_KEY] = { 401, "REVOKED_API_KEY", "The API key has been revoked" },
	[LK_ERR_FORBIDDEN] = { 403, "FORBIDDEN", "The API key does not allow this" },
	[LK_ERR_NOT_FOUND] = { 404, "NOT_FOUND", "No such object" },
	[LK_ERR_METHOD] = { 405, "METHOD_NOT_ALLOWED", "Method not allowed" },
	[LK_ERR_CONFLICT] = { 409, "CONFLICT", "The object is in a state that does not allow this" },
	[LK_ERR_TOO_LARGE] = { 413, "PAYLOAD_TOO_LARGE", "The request body is too large" },
	[LK_ERR_MEDIA_TYPE] = { 415, "UNSUPPORTED_MEDIA_TYPE", "The body must be JSON or form-urlencoded" },
	[LK_ERR_RATE_LIMITED] = { 429, "RATE_LIMITED", "Too many requests" },
	[LK_ERR_INTERNAL] = { 500, "INTERNAL_ERROR", "Internal error" },
	[LK_ERR_UNAVAILABLE] = { 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable" },
	[LK_ERR_LENGTH_REQUIRED] = { 411, "LENGTH_REQUIRED",
	    "A POST or PATCH needs a Content-Length header (Content-Length: 0 for no body)" },
	[LK_ERR_ACCOUNT_SUSPENDED] = { 403, "ACCOUNT_SUSPENDED",
	    "The API key's account is suspended" },
	[LK_ERR_IP_NOT_ALLOWED] = { 403, "IP_NOT_ALLOWED",
	    "The API key may not be used from this address" },
	[LK_ERR_USAGE_EXCEEDED] = { 429, "USAGE_EXCEEDED", "The API key's credits are used up" },
	[LK_ERR_BAD_SIGNATURE] = { 401, "INVALID_SIGNATURE", "The request's signature does not verify" },
};

int
lk_err_status(enum lk_err e)
{
	return (unsigned)e < LK_ERR__MAX ? errs[e].status : 500;
}

const char *
lk_err_code(enum lk_err e)
{
	return (unsigned)e < LK_ERR__MAX ? errs[e].code : "INTERNAL_ERROR";
}

const char *
lk_err_message(enum lk_err e)
{
	return (unsigned)e < LK_ERR__MAX ? errs[e].message : "Internal error";
}

enum lk_err
lk_err_from_status(int status)
{
	int e;

	if (status == 502 || status == 504)
		return LK_ERR_UNAVAILABLE;
	if (status == 501)		/* a method the server does not know */
		return LK_ERR_METHOD;
	for (e = LK_ERR_VALIDATION; e < LK_ERR__MAX; e++)
		if (errs[e].status == status && status != 401 && status != 403)
			return (enum lk_err)e;
	return status >= 500 ? LK_ERR_INTERNAL : LK_ERR_VALIDATION;
}
