/*
 * Retention and space applied to a backup root: which snapshots go (the
 * policy of retention.h plus the root's protections), how they go (an
 * atomic rename into .hindsight/trash, then a fast unlink pass), and
 * freeing space before a push.
 *
 *   ROOT/.hindsight/prune.lock   flock'd by whoever deletes snapshots
 *   ROOT/.hindsight/pins/NAME    the admin pinned NAME: never deleted
 *   ROOT/.hindsight/basis        link bases of the push in progress
 *   ROOT/.hindsight/trash/       what is being deleted (never listed)
 *
 * A snapshot leaves the listing in one rename; an interrupted deletion is
 * finished by the next prune or push (trash_empty). Library convention:
 * 0 or a negative errno value.
 */
#ifndef HS_PRUNE_H
#define HS_PRUNE_H

#include <time.h>

#include "retention.h"
#include "root.h"
#include "srvconf.h"

struct prune_item {
	char name[SNAPNAME_SIZE];
	time_t t;
	unsigned flags;          /* RET_PINNED, RET_CURRENT, RET_BASIS */
	struct ret_verdict v;
	time_t expiry;           /* ret_expiry(): 0 never */
};

struct prune_plan {
	struct prune_item *items;  /* oldest first */
	size_t n;
};

/* Decide every snapshot of the root at now. */
int prune_plan(const struct root *r, const struct ret_policy *p, time_t now,
	       struct prune_plan *out);
void prune_plan_free(struct prune_plan *plan);

/* Take ROOT/.hindsight/prune.lock (wait: block; else -EWOULDBLOCK). Returns the fd. */
int prune_lock(const struct root *r, int wait);

/* What deleting freed (with count; see trash_empty). */
struct freed {
	int snapshots;
	unsigned long long bytes, inodes;
};

/*
 * Move snapshot name out of the listing into the trash and drop its
 * metadata. Refuses (-EBUSY) the newest, current's target and a pinned one.
 * Needs the prune lock.
 */
int snapshot_to_trash(const struct root *r, const char *name);

/*
 * Unlink everything in the trash. With count, add to f what went: bytes
 * and inodes whose last link was removed. Needs the prune lock.
 */
int trash_empty(const struct root *r, int count, struct freed *f);

/*
 * Delete the plan's deletions, oldest first, then empty the trash. Each is
 * logged to ROOT/.hindsight/log. Needs the prune lock.
 */
int prune_apply(const struct root *r, const struct prune_plan *plan, struct freed *f);

/* Pins. pin_set: -ENOENT if no such snapshot; -EALREADY if already so. */
int pin_set(const struct root *r, const char *name, int pinned);
int is_pinned(const struct root *r, const char *name);

/* The link bases of a push (absolute paths; snapshot ones are recorded).
 * Not in a sealed root, where the account cannot write .hindsight/ (and
 * needs no record: the newest snapshot, its basis, is never pruned). */
int basis_write(const struct root *r, char *const *bases, size_t n);
void basis_clear(const struct root *r);

/*
 * Bytes and inodes the root holds (every inode once, st_blocks * 512),
 * by one walk. For quotas.
 */
int root_usage(int rootfd, unsigned long long *bytes, unsigned long long *inodes);

/* Where a push stands against the limits. */
struct space_report {
	unsigned long long free_bytes, need_bytes;      /* need: min_free in bytes */
	unsigned long long free_inodes, need_inodes;
	unsigned long long used, quota;                 /* quota 0: none */
	struct freed freed;                             /* by deleting the oldest */
	char first[SNAPNAME_SIZE], last[SNAPNAME_SIZE]; /* what was deleted */
	int short_of;       /* still below a limit: 1 bytes, 2 inodes, 4 quota */
};

/*
 * Before a push: while the root is below min_free, min_free_inodes or over
 * its quota, delete the oldest snapshot that may go. Returns 0 (r->short_of
 * says whether that was enough) or a negative errno. Needs the prune lock.
 */
int space_ensure(const struct root *r, const struct acct_conf *a, struct space_report *rep);

/*
 * Where the root stands against the limits, deleting nothing: a sealed
 * root's push, which must not make the sealer delete history (code
 * running as the account could fill the disk on purpose).
 */
void space_measure(const struct root *r, const struct acct_conf *a, struct space_report *rep);

/* One line for a push refused for space (no trailing newline). */
void space_explain(const struct root *r, const struct acct_conf *a,
		   const struct space_report *rep, struct strbuf *out);

#endif
