/*
 * The time grammar: what the client accepts wherever a time is taken
 * (`--at T`, diff's A and B), resolved against a snapshot list. Every form
 * selects the NEWEST snapshot whose time is <= the time it names:
 *
 *   2026_11_28_09_00_03      a full snapshot name (exact match only)
 *   2026_11_28               a unique prefix of a name, 4 characters or more
 *   latest  latest~N         the newest, or N before it; `current` = `latest`
 *   2026-11-28               END of that day (23:59:59), local time
 *   2026-11-28T09:00[:03]    local time; ' ' may replace 'T'; fractions of
 *                            a second are ignored; a zone suffix `Z`,
 *                            `+HH:MM`, `+HHMM` or `+HH` (or `-`) makes it absolute
 *   3d  2w  90m  3 days ago  N units before now: s, m (minutes), h, d, w
 *   now  today  yesterday    now, now, now minus 24 hours
 *
 * Surrounding whitespace is ignored and words are matched case-insensitively.
 * A local time the clock shows twice (DST ends) is the later of the two; one
 * it skips (DST starts) is read with the offset in force before the jump.
 *
 * Pure: `now` and the time zone come from the caller (TZ is read through
 * localtime_r/mktime, so tests set TZ with setenv+tzset). Nothing prints.
 */
#ifndef HS_TIMESPEC_H
#define HS_TIMESPEC_H

#include <stddef.h>
#include <time.h>

#include "snapname.h"

#define TIMESPEC_MAX 100        /* longest expression understood, after trimming */
#define TIMESPEC_WHY_SIZE 256   /* a `why` this big holds every reason whole */

/*
 * Resolve spec to one snapshot of names[0..n) (oldest first, as from
 * root_snapshots()). Returns 0 and sets *index, or a negative errno value
 * with a one-line reason in why (truncated to whylen, never longer):
 *   -ENOENT  nothing at or before that time (the reason names the first
 *            snapshot and its ISO time); a full name or prefix that matches
 *            nothing (it names the nearest names before and after);
 *            latest~N past the first snapshot (it says how many there are);
 *            an empty list ("no snapshots yet")
 *   -EINVAL  not a time expression (the reason quotes it, at most 64 bytes)
 *   -EEXIST  a prefix shared by several snapshots (up to 3 of them listed,
 *            and how many there are)
 * A malformed expression is -EINVAL even when the list is empty.
 */
int resolve_snapshot(const char *spec, time_t now,
		     char (*const names)[SNAPNAME_SIZE], size_t n,
		     size_t *index, char *why, size_t whylen);

/*
 * Only the forms that name a time (ISO 8601, relative, now/today/yesterday),
 * as absolute UTC seconds in *out. Snapshot names and latest~N need the list
 * and are -EINVAL here. Returns 0, or -EINVAL with a reason as above.
 */
int parse_time_expr(const char *spec, time_t now, time_t *out,
		    char *why, size_t whylen);

#endif
