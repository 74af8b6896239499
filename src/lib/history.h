/*
 * The pure logic behind the history queries (versions, ls, diff): what a
 * snapshot records about an entry, how a sequence of observations becomes
 * versions, and how two directory listings are compared. Nothing here
 * touches the filesystem, so all of it is table-tested
 * (tests/unit/test_history.c); the server's query_*.c files feed it.
 */
#ifndef HS_HISTORY_H
#define HS_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HS_FAKE_SUPER_XATTR "user.rsync.%stat"

/*
 * "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev" for
 * the type bits of mode; NULL for anything else.
 */
const char *ftype_name(mode_t mode);

/* The S_IF* bits for a name from ftype_name(), or 0. */
mode_t ftype_from_name(const char *name);

/* Owner, type and permission bits as a snapshot records them. */
struct stored_stat {
	mode_t mode;       /* type and permission bits (07777) */
	uid_t uid;
	gid_t gid;
	unsigned major;    /* devices only */
	unsigned minor;
};

/*
 * Parse the value of rsync's --fake-super xattr (user.rsync.%stat),
 * "MODE MAJOR,MINOR UID:GID" with MODE in octal including the type bits
 * ("100644 0,0 1000:1000"). The value is not NUL-terminated. Returns 0, or
 * -1 if it is malformed or names no known file type.
 */
int fakesuper_parse(const char *val, size_t len, struct stored_stat *out);

/* "drwxr-xr-x" as ls -l shows mode (s/S, t/T for the special bits). */
void mode_string(mode_t mode, char out[11]);

/*
 * Versions of one path across snapshots. The snapshots are fed oldest
 * first; each is either a gap (the path is absent) or an inode. A run of
 * consecutive snapshots with the same (dev, inode) is one version; a gap
 * ends it; the same inode after a gap starts a new version.
 */
struct version {
	uint64_t dev, ino;
	size_t first, last;    /* indexes of the snapshots fed */
};

struct version_list {
	struct version *v;
	size_t n, alloc;
	int running;           /* v[n-1] may still grow */
};

#define VERSION_LIST_INIT { NULL, 0, 0, 0 }

/*
 * Feed snapshot i (strictly increasing). Returns 1 if it starts a new
 * version (the caller then records that version's attributes: same inode,
 * same attributes, so any snapshot of a version describes it), else 0.
 */
int versions_feed(struct version_list *l, size_t i, int present,
		  uint64_t dev, uint64_t ino);
void versions_free(struct version_list *l);

/*
 * Merging two directory listings, each sorted by strcmp() (bytes). Each
 * step gives the index of the next name in a, in b, or in both; SIZE_MAX
 * for "not in this list". Returns 0 when both lists are used up.
 */
struct name_merge {
	size_t i, j;
};

int merge_next(struct name_merge *m, const char *const *a, size_t na,
	       const char *const *b, size_t nb, size_t *ai, size_t *bi);

/* One side of a comparison: what diff knows of a name in a snapshot. */
struct diff_node {
	int present;
	mode_t mode;           /* stored type and permission bits */
	uid_t uid;             /* stored owner: needed for directories only */
	gid_t gid;
	uint64_t dev, ino;
};

enum diff_verdict {
	DV_SAME,        /* nothing to report; for directories: recurse */
	DV_ADDED,       /* "+": only in b */
	DV_REMOVED,     /* "-": only in a */
	DV_MODIFIED,    /* "M": another inode, same type; for directories: mode
			   or owner changed (then recurse as well) */
	DV_REPLACED,    /* "-" then "+": the type changed */
};

/*
 * Compare one name in a and b. Non-directories are the same exactly when
 * they are one inode (hindsight links every unchanged file, so a new inode
 * means new data or attributes), and their mode is then not needed.
 * Directories are never one inode across snapshots: they differ only if
 * their stored permission bits or owner did (never for mtime).
 */
enum diff_verdict diff_classify(const struct diff_node *a, const struct diff_node *b);

/* Is one side a directory that diff must descend into? */
int diff_recurses(const struct diff_node *a, const struct diff_node *b);

#endif
