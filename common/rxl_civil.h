/* common: calendar arithmetic without time zones or libc state.
 * Any thread; pure inline functions.
 */
#ifndef RXL_CIVIL_H
#define RXL_CIVIL_H

#include <stdint.h>

/**
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). @m is 1..12, @d 1..31.
 * Returns: the day number (negative before 1970).
 */
static inline int64_t rxl_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

#endif
