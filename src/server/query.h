/*
 * What the query verbs (query_*.c) share: opening a snapshot, reading what
 * a snapshot records about an entry, explaining a path that cannot be
 * walked, and printing the answer. Every path is reached from a snapshot's
 * directory fd (snappath.h); nothing here builds a path string to open.
 *
 * Each query_VERB() returns the process exit code and prints its own
 * one-line message on stderr ("hindsight-server: ...").
 */
#ifndef HS_QUERY_H
#define HS_QUERY_H

#include <jansson.h>
#include <stddef.h>
#include <sys/stat.h>

#include "../lib/history.h"
#include "../lib/root.h"
#include "../lib/strbuf.h"

#define QUERY_PROTOCOL 1

/* One entry as a snapshot records it. */
struct qentry {
	struct stat st;          /* the inode on disk (lstat) */
	struct stored_stat ss;   /* type, mode and owner as recorded: from the
				    fake-super xattr when there is one, else st */
	int fake;                /* the fake-super xattr was there */
};

/*
 * Stat name in the directory dirfd without following it, and read its
 * fake-super xattr (one lgetxattr through /proc/self/fd, so no file is
 * opened). Returns 0 or a negative errno value.
 */
int qstat_at(int dirfd, const char *name, struct qentry *e);

/* Fill e->ss for an entry whose lstat is st: the xattr, or st itself. */
void qstored_at(int dirfd, const char *name, const struct stat *st, struct qentry *e);

/* The same for an open directory (fgetxattr on it). */
void qstored_fd(int fd, const struct stat *st, struct qentry *e);

/*
 * The target a symlink records: readlinkat(), or, where --fake-super
 * stored the link as a small file holding the target, that file's
 * contents. Returns 0 or a negative errno value.
 */
int qlink_target(int dirfd, const char *name, const struct qentry *e, struct strbuf *out);

/* obj[key] = the wire form of s[0..len) (names.h), with key_escaped if needed. */
void json_set_name(json_t *obj, const char *key, const char *s, size_t len);

/* The attributes of e as JSON fields of obj: type, size, mtime, mode, ... */
void qentry_fields(json_t *obj, const struct qentry *e);

/*
 * Resolve a snapshot selector (a name or "current", as the policy admitted)
 * and open it (O_PATH). Returns the fd, or -1 after printing why; *code is
 * then the exit code.
 */
int open_snapshot(const struct root *r, const char *sel, char name[SNAPNAME_SIZE], int *code);

/*
 * rel could not be walked in the snapshot snapfd (err from snappath.h).
 * Says why, and returns 12 if a symlink stands in the way (queries never
 * follow one), else 10.
 */
int path_walk_failed(int snapfd, const char *snap, const char *rel, int err);

/* True if a symlink (real, or stored by fake-super as a file) stands in rel's way. */
int symlink_in_the_way(int snapfd, const char *rel, struct strbuf *which);

/* Print rel for a message: "/" + rel in display form (names.h). */
void show_path(struct strbuf *sb, const char *rel);

/* Print top on stdout and drop it. Returns the exit code. */
int emit_json(json_t *top);

__attribute__((format(printf, 1, 2)))
void qerr(const char *fmt, ...);

int query_versions(const struct root *r, const char *rel);
int query_ls(const struct root *r, const char *snap, const char *rel);
int query_diff(const struct root *r, const char *snap_a, const char *snap_b, const char *rel);
int query_status(const struct root *r);

#endif
