/*
 * The state of one account, for `hindsight-server status` and `report`:
 * a pure function of what its backup root shows and the clock.
 *
 *   failing      no push is running, and the last push attempt since the
 *                newest snapshot did not complete: last_push.json says it
 *                failed, or an interrupted tree is left in inprogress/ (a
 *                push killed outright writes no record)
 *   stale        the newest snapshot is older than max_age (0: never
 *                stale); also while a push runs, so that a push that never
 *                ends cannot hide it
 *   in progress  a push holds the lock
 *   never        no snapshot yet, and no failed attempt
 *   ok           none of these
 *
 * In that order: the first that applies is the state. failing and stale
 * are the states that want attention (status exits 1 for them).
 */
#ifndef HS_ACCTSTATE_H
#define HS_ACCTSTATE_H

#include <stddef.h>
#include <time.h>

enum acct_state { ACCT_OK, ACCT_STALE, ACCT_FAILING, ACCT_IN_PROGRESS, ACCT_NEVER };
#define ACCT_NSTATES 5

struct acct_facts {
	size_t snapshots;
	time_t newest;           /* the newest snapshot's time (from its name) */
	time_t newest_start;     /* when its push started (metadata; else newest) */
	int in_progress;         /* a live push holds the lock */
	int left_inprogress;     /* ROOT/inprogress exists */
	int have_last;           /* last_push.json was read */
	int last_failed;         /* ... and says nothing was published */
	time_t last_start;
	long long max_age;       /* seconds; 0: no staleness */
};

struct acct_verdict {
	enum acct_state state;
	int stale, failing;      /* each on its own, whatever the state */
	long long age;           /* now - newest; -1 without snapshots */
};

void acct_decide(const struct acct_facts *f, time_t now, struct acct_verdict *v);

/* "ok", "stale", "failing", "in progress", "never". */
const char *acct_state_name(enum acct_state s);

#endif
