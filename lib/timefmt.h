/* timefmt.h — RFC 3339 UTC times and request durations. */
#ifndef LK_TIMEFMT_H
#define LK_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define LK_TIME_MAX	21	/* "2026-11-22T11:30:00Z" + NUL */

/* Format t (Unix seconds) as "YYYY-MM-DDTHH:MM:SSZ" into out. */
void	lk_time_format(int64_t t, char out[LK_TIME_MAX]);

/*
 * Parse an RFC 3339 time ("2026-11-22T11:30:00Z", fractional seconds and
 * "+hh:mm" offsets accepted) into Unix seconds. Returns false if malformed or
 * outside years 1970..9999.
 */
bool	lk_time_parse(const char *s, int64_t *out);

/*
 * Parse a duration: whole seconds ("3600") or a number with one unit suffix
 * s, m, h, d ("30m", "12h", "90d"). Must be > 0 and <= max seconds.
 */
bool	lk_duration_parse(const char *s, int64_t max, int64_t *out);

#endif
