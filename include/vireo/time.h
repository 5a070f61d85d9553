/*
 * Calendar arithmetic for the wall clock (the image's RTC): seconds since
 * 1970-01-01 00:00:00 UTC of a proleptic Gregorian date and time.
 * days_from_civil is the well-known era computation (400-year cycles of
 * 146097 days, March-based years so that the leap day is the last one).
 */
#ifndef VIREO_TIME_H
#define VIREO_TIME_H

#include <stdint.h>

static inline int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);                        /* 0 .. 399 */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  /* 0 .. 365 */
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0 .. 146096 */
	return era * 146097 + (int64_t)doe - 719468;
}

/* Seconds since the Unix epoch; month 1..12, day 1..31, hour 0..23. */
static inline int64_t unix_seconds(int64_t y, unsigned mon, unsigned day, unsigned h, unsigned min, unsigned s)
{
	return days_from_civil(y, mon, day) * 86400 + h * 3600 + min * 60 + s;
}

#endif
