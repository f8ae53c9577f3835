/* log.h — one-line log records on stderr (the web server's error log). */
#ifndef LK_LOG_H
#define LK_LOG_H

/* Set the request id printed with every record (NULL clears). */
void	lk_log_set_request(const char *request_id);

/* printf-style; control characters, '\\' and non-ASCII bytes of the result are escaped. */
void	lk_log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	lk_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
