/* timefmt.h — RFC 3339 UTC times and request durations. */
#ifndef LK_TIMEFMT_H
#define LK_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define LK_TIME_MAX	21	/* "2026-11-22T11:30:00Z" + NUL */

#define LK_HTTP_DATE_MAX	30	/* "Thu, 03 Dec 2026 10:30:00 GMT" + NUL */

/* Format t (Unix seconds) as an HTTP Date (IMF-fixdate, RFC 9110) into out. */
void	lk_time_http(int64_t t, char out[LK_HTTP_DATE_MAX]);

/* Format t (Unix seconds) as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void	lk_time_format(int64_t t, char out[LK_TIME_MAX]);

/*
 * Parse an RFC 3339 time ("2026-11-22T11:30:00Z", fractional seconds and
 * "+hh:mm" offsets accepted) into Unix seconds. Returns false if malformed,
 * outside years 1970..9999, or a leap second (second 60: Unix time has none,
 * so it could only be stored as another second).
 */
bool	lk_time_parse(const char *s, int64_t *out);

/*
 * Parse a duration: whole seconds ("3600") or a number with one unit suffix
 * s, m, h, d ("30m", "12h", "90d"). Must be > 0 and <= max seconds.
 */
bool	lk_duration_parse(const char *s, int64_t max, int64_t *out);

/*
 * Write s seconds as lk_duration_parse reads it, in the largest unit that
 * divides it ("36500d", "12h", "30m", "45s"), into out (size bytes).
 */
void	lk_duration_format(int64_t s, char *out, size_t size);

#endif
