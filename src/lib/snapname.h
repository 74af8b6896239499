/*
 * Snapshot names: YYYY_MM_DD_HH_MM_SS, the UTC start time of the push
 * (the seed's format). Names sort in time order as plain strings.
 */
#ifndef HS_SNAPNAME_H
#define HS_SNAPNAME_H

#include <time.h>

#define SNAPNAME_LEN 19
#define SNAPNAME_SIZE (SNAPNAME_LEN + 1)

/* Format t (UTC). Returns 0, or -1 if t is out of the 4-digit-year range. */
int snapname_format(time_t t, char out[SNAPNAME_SIZE]);

/*
 * Parse a name strictly: exactly the format above, a real calendar time
 * (no 30 February, no hour 24). Returns 0 and sets *t (may be NULL), or -1.
 */
int snapname_parse(const char *s, time_t *t);

/* ISO 8601 UTC, "2026-11-29T09:00:03Z". */
void format_iso_utc(time_t t, char out[32]);

#endif
