/* err.h — the one error enum and its HTTP mapping. */
#ifndef LK_ERR_H
#define LK_ERR_H

enum lk_err {
	LK_OK = 0,
	LK_ERR_VALIDATION,	/* 400 */
	LK_ERR_MISSING_KEY,	/* 401 */
	LK_ERR_INVALID_KEY,	/* 401 */
	LK_ERR_EXPIRED_KEY,	/* 401 */
	LK_ERR_REVOKED_KEY,	/* 401 */
	LK_ERR_FORBIDDEN,	/* 403 */
	LK_ERR_NOT_FOUND,	/* 404 */
	LK_ERR_METHOD,		/* 405 */
	LK_ERR_CONFLICT,	/* 409 */
	LK_ERR_TOO_LARGE,	/* 413 */
	LK_ERR_MEDIA_TYPE,	/* 415 */
	LK_ERR_RATE_LIMITED,	/* 429 */
	LK_ERR_INTERNAL,	/* 500 */
	LK_ERR_UNAVAILABLE,	/* 503: database unreachable or transaction failed */
	LK_ERR_LENGTH_REQUIRED,	/* 411: a body without Content-Length (web server's own check) */
	LK_ERR_ACCOUNT_SUSPENDED, /* 403: the key's account or one above it is suspended */
	LK_ERR_IP_NOT_ALLOWED,	/* 403: the client's address is outside the key's allowlist */
	LK_ERR_USAGE_EXCEEDED,	/* 429: the key's credits are used up */
	LK_ERR_BAD_SIGNATURE,	/* 401: a signed report (POST /v1/leaks/github) does not verify */
	LK_ERR__MAX
};

/* HTTP status, API error code and default message of e. */
int		 lk_err_status(enum lk_err e);
const char	*lk_err_code(enum lk_err e);
const char	*lk_err_message(enum lk_err e);

/*
 * The error to answer with for an HTTP error status a web server produced
 * itself (REDIRECT_STATUS of an error handler): its own code where the API
 * has one, else 400 for 4xx and 500 for 5xx (502/504 are 503; 501, an
 * unknown method, is 405).
 */
enum lk_err	 lk_err_from_status(int status);

#endif
