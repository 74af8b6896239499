/*
 * The backup root: its layout, its lock, and the steps that move a received
 * tree into history. Everything works relative to the root's directory fd.
 *
 *   ROOT/YYYY_MM_DD_HH_MM_SS/   completed snapshots (only ever made by rename)
 *   ROOT/current                symlink to the newest, replaced by rename
 *   ROOT/inprogress/            the push being received
 *   ROOT/.hindsight/lock        flock'd by the push; holds "pid start-epoch"
 *   ROOT/.hindsight/snapshots/  NAME.json metadata per snapshot
 *   ROOT/.hindsight/pending.json  publish journal (exists only mid-publish)
 *   ROOT/.hindsight/resume/N/   trees of interrupted pushes, link bases
 *   ROOT/.hindsight/trash/      what is being deleted
 *   ROOT/.hindsight/log         one line per push
 *   ROOT/.hindsight/last_push.json  how the last push attempt ended (lastpush.h)
 *
 * A sealed root (sealed.h) keeps this layout, but belongs to root: the
 * account writes only inprogress/ and .hindsight/work/, where its resume
 * trees, its rsync's transfer log and last_push.json go, and the sealer
 * publishes.
 *
 * Library convention: functions return 0 or a negative errno value.
 */
#ifndef HS_ROOT_H
#define HS_ROOT_H

#include <time.h>

#include "meta.h"
#include "snapname.h"
#include "util.h"

#define HS_META_DIR ".hindsight"
#define HS_INPROGRESS "inprogress"
#define HS_CURRENT "current"
#define HS_MAX_RESUME 8   /* resume bases kept; rsync takes at most 20 bases */
#define HS_WORK "work"    /* .hindsight/work: the account's own, in a sealed root */
#define HS_LOCK_INFO "lock.info"  /* work/lock.info: the holder's text, sealed */
#define HS_LOCK_AHEAD " ahead"     /* ... of the clone made ahead (root_lock_say()) */

struct root {
	char *path;    /* absolute, no trailing slash */
	int fd;        /* ROOT */
	int metafd;    /* ROOT/.hindsight, or -1 if it does not exist */
	int lockfd;    /* ROOT/.hindsight/lock while we hold it, else -1 */
	int workfd;    /* ROOT/.hindsight/work of a sealed root, else -1 */
	int sealed;    /* root's, with a .hindsight/work that is not (sealed.h) */
	int lock_info; /* we wrote "pid start" into work/lock.info */
};

/* What root_open() leaves for a root that could not be opened. */
void root_init(struct root *r);

/*
 * Where a push keeps its own state (transfer log, resume trees): the fd
 * and the path below ROOT. .hindsight, or in a sealed root .hindsight/work.
 */
int root_state_fd(const struct root *r);
const char *root_state_dir(const struct root *r);

struct snaplist {
	char (*names)[SNAPNAME_SIZE];
	size_t n;
};

/*
 * Open the backup root at path (absolute). With create, make it (one level)
 * and its .hindsight/ if missing. -ENOENT if it does not exist otherwise.
 */
int root_open(const char *path, int create, struct root *r);
void root_close(struct root *r);

/*
 * rootlock.c: take the push lock without waiting. On -EWOULDBLOCK, *since is the start
 * time recorded by the holder (0 if unknown). The holder's "PID START" goes
 * into the lock file, or in a sealed root (whose lock file is root's, and
 * which the account opens read-only to flock) into .hindsight/work/lock.info.
 */
int root_lock(struct root *r, time_t now, time_t *since);

/* The holder's "PID START" text (at most size-1 bytes); its length or -errno. */
int root_lock_text(const struct root *r, char *buf, size_t size);

/*
 * A sealed root's work/lock.info: "PID START", with " ahead" for the
 * process that clones the next push's tree after a push (fastpush.h).
 * Best effort: 1 if written.
 */
int root_lock_say(const struct root *r, time_t now, int ahead);

/* Does the lock's holder say it is that clone ahead? */
int root_lock_ahead(const struct root *r);

/*
 * Did a push that was cut short leave ROOT/inprogress behind? A sealed
 * root always has one (the sealer makes it afresh): there, only one that
 * is not empty counts.
 */
int root_left_inprogress(const struct root *r);

/* Completed snapshots, oldest first. Caller frees with snaplist_free(). */
int root_snapshots(int rootfd, struct snaplist *out);
void snaplist_free(struct snaplist *l);

/* Names under .hindsight/resume (work/resume if sealed), newest first (as absolute paths). */
int root_resume_bases(const struct root *r, struct argv *out);

/* The numbered entries of parentfd/resume, ascending. Caller frees *nums. */
int root_resume_numbers(int parentfd, long **nums, size_t *n);

/* Move fromfd/from into .hindsight/trash, then delete it. */
int root_trash_at(int fromfd, const char *from, int metafd);

/* Point current at name (symlink current.tmp, renamed over current). */
int root_point_current(struct root *r, const char *name);

/*
 * Choose m->name: its UTC start time, moved forward a second at a time
 * until it is newer than every snapshot.
 */
int root_choose_name(const struct root *r, struct snapmeta *m);

/*
 * Bring the root back to a consistent state after a crash: finish a publish
 * that was journalled, point `current` at the newest snapshot, drop stale
 * temporaries, empty the trash. Needs the lock.
 */
int root_repair(struct root *r);

/* The part of root_repair after the journal: current, temporaries, trash. */
int root_tidy(struct root *r);

/*
 * Make a fresh ROOT/inprogress (with dest inside it) to receive into. A tree
 * left there by an interrupted push becomes a resume base first, so nothing
 * is ever received on top of it. Needs the lock. *resumed is set to the
 * number of resume bases now kept. A sealed root: sealed_prepare_push().
 */
int root_prepare_push(struct root *r, const char *dest, int *resumed);

/*
 * Publish ROOT/inprogress as a snapshot: flush the filesystem, journal the
 * metadata in pending.json, rename the tree to its name, then finish (see
 * root_publish_finish). m->name is chosen here: the UTC start time, moved
 * forward by whole seconds if needed so that it is newer than every
 * existing snapshot. Needs the lock.
 */
int root_publish(struct root *r, struct snapmeta *m);

/* The two halves of root_publish, separate so tests can crash in between.
 * A sealed root refuses all three (-EPERM): only the sealer publishes. */
int root_publish_begin(struct root *r, struct snapmeta *m);
int root_publish_finish(struct root *r);

/* Read the metadata of snapshot name; -ENOENT if there is none. */
int root_read_meta(const struct root *r, const char *name, struct snapmeta *m);

/*
 * Hand dirfd/name (name "": dirfd itself) to the root's owner when we run
 * as root and the root belongs to an account: a lock, log or pin an admin
 * verb creates must stay usable by the account's pushes. Only a directory
 * or a regular file with one link is given. Best effort.
 */
void root_give_at(const struct root *r, int dirfd, const char *name);

/* Append one line to ROOT/.hindsight/log (best effort). */
void root_log(const struct root *r, const char *line);

#endif
