/* log.c — escaped one-line records on stderr. Never pass secrets or query strings here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static char	request_id[80];

void
lk_log_set_request(const char *id)
{
	if (id == NULL)
		request_id[0] = '\0';
	else
		snprintf(request_id, sizeof(request_id), "%s", id);
}

static void
vlog(const char *level, const char *fmt, va_list ap)
{
	char		 msg[1024], out[4200], ts[32];
	size_t		 i, o = 0;
	time_t		 now = time(NULL);
	struct tm	 tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (i = 0; msg[i] != '\0' && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)msg[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s latchkey[%d] %s req=%s %s\n", ts, (int)getpid(),
	    level, request_id[0] ? request_id : "-", out);
	fflush(stderr);
}

void
lk_log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error", fmt, ap);
	va_end(ap);
}

void
lk_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("info", fmt, ap);
	va_end(ap);
}
