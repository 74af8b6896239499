/*
 * Retention: which snapshots to keep as history ages, like Time Machine.
 *
 * A policy is a list of tiers, youngest first, e.g. the default
 *
 *     24h:all 30d:daily forever:weekly
 *
 * A snapshot falls in the first tier whose age reaches back to it (its
 * start time t >= now - AGE; ages are h, d, w, or calendar months m and
 * years y). In that tier it is kept if the tier keeps `all`, or if it is the
 * newest snapshot of its hour, day, week (Monday, UTC), month or year among
 * all snapshots, for hourly, daily, weekly, monthly and yearly tiers.
 * `none` keeps nothing. Past the last tier (unless it is `forever`) every
 * snapshot is deleted: "... 2y:weekly" deletes what is older than two years.
 *
 * Whatever the tiers say, the newest snapshot, the target of `current`, a
 * pinned snapshot, and a link basis of a push in progress are kept.
 *
 * ret_decide() is a pure function of (times, flags, now, policy): the unit
 * tests drive it with tables, and `prune --now T` with a moved clock.
 */
#ifndef HS_RETENTION_H
#define HS_RETENTION_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

enum ret_gran { RG_ALL, RG_HOURLY, RG_DAILY, RG_WEEKLY, RG_MONTHLY, RG_YEARLY, RG_NONE };

struct ret_tier {
	int forever;        /* no age limit; the last tier only */
	int amount;         /* with unit: 24h, 30d, 12m ... */
	char unit;          /* 'h', 'd', 'w', 'm', 'y' */
	enum ret_gran gran;
};

#define RET_MAX_TIERS 16
#define RET_DEFAULT "24h:all 30d:daily forever:weekly"

struct ret_policy {
	size_t n;
	struct ret_tier t[RET_MAX_TIERS];
};

/*
 * Parse a policy. Returns 0, or -1 with a one-line reason in why (naming
 * the bad tier). Tiers must grow older left to right; `forever` only last.
 */
int ret_parse(const char *s, struct ret_policy *p, char *why, size_t whylen);

/* The policy in the grammar above (canonical form). */
void ret_format(const struct ret_policy *p, struct strbuf *out);

/* Why a snapshot is protected, whatever the tiers say. */
#define RET_PINNED  1u
#define RET_CURRENT 2u
#define RET_BASIS   4u

struct ret_verdict {
	int keep;
	char reason[160];
};

/*
 * Decide each of n snapshots. times[] are their start times, oldest first
 * (as the names sort); flags[] (may be NULL) the RET_* protections.
 * out[i] gets keep/delete and the rule that decided it.
 */
void ret_decide(const time_t *times, const unsigned *flags, size_t n, time_t now,
		const struct ret_policy *p, struct ret_verdict *out);

/*
 * When snapshot i would first be deleted if no new snapshot arrived and the
 * policy stayed the same: the first second its verdict turns to delete.
 * 0 if never (kept forever, or protected). Snapshots already due (deleted
 * at now) get now.
 */
time_t ret_expiry(const time_t *times, const unsigned *flags, size_t n, size_t i, time_t now,
		  const struct ret_policy *p);

/* The start of the tier's age window seen from now: now - AGE. */
time_t ret_cutoff(const struct ret_tier *t, time_t now);

#endif
