/*
 * What an account's pushes did and are doing, for `hindsight-server
 * status`, `report` and the `status` query.
 *
 *   ROOT/.hindsight/last_push.json   the newest push attempt that took the
 *                                    lock: written atomically by serve at
 *                                    its end, whatever the outcome
 *   ROOT/.hindsight/lock             "PID START" of the push holding it
 *
 * In a sealed root both are in .hindsight/work (root_state_fd(), and
 * work/lock.info: root_lock_text()), the only place its account writes.
 *
 * A push that was refused before it took the lock (another one was
 * running, bad configuration) or that was killed with SIGKILL leaves no
 * record: the first changes nothing, the second leaves inprogress/.
 * Library convention: 0 or a negative errno value.
 */
#ifndef HS_LASTPUSH_H
#define HS_LASTPUSH_H

#include <sys/types.h>
#include <time.h>

#include "root.h"
#include "snapname.h"

#define LASTPUSH_FILE "last_push.json"
#define LASTPUSH_MSG_MAX 400

enum push_result {
	PUSH_COMPLETE,      /* published (rsync 0 or 24) */
	PUSH_WITH_ERRORS,   /* published, rsync 23 */
	PUSH_FAILED,        /* nothing published */
};

struct last_push {
	time_t start, end;
	enum push_result result;
	int exit;                       /* serve's exit code */
	int rsync_exit;                 /* -1: rsync did not run */
	char snapshot[SNAPNAME_SIZE];   /* what was published, or "" */
	char message[LASTPUSH_MSG_MAX]; /* one line: what happened */
};

/* "complete", "with errors", "failed". */
const char *push_result_name(enum push_result r);

/* Caller frees. Bytes of message that are not UTF-8 are escaped (names.h). */
char *lastpush_to_json(const struct last_push *p);
/* 0, or -EINVAL if text is not a record. */
int lastpush_from_json(const char *text, struct last_push *p);

/* Atomically replace the record (needs the push lock). */
int lastpush_write(const struct root *r, const struct last_push *p);
/* -ENOENT if no push has been recorded. */
int lastpush_read(const struct root *r, struct last_push *p);

/*
 * Is a push running on r? Read from the lock file's text without taking
 * the lock (a status must never make a push fail): the pid written there
 * is alive, or, when it is not (serve was killed while its rsync, which
 * inherits the lock, goes on), /proc/locks still lists a lock on that
 * file. Returns 1 with *pid and *since (0 if unknown), else 0.
 */
int push_holder(const struct root *r, long long *pid, time_t *since);

/* Does anyone hold a lock on dirfd/name (/proc/locks)? Takes none itself. */
int lock_held_at(int dirfd, const char *name);

#endif
