/*
 * Deleting a whole tree fast: how the trash is emptied. Library convention:
 * 0 or a negative errno value.
 */
#ifndef HS_DELTREE_H
#define HS_DELTREE_H

struct deltree_stats {
	unsigned long long files;        /* non-directories unlinked */
	unsigned long long dirs;         /* directories removed */
	unsigned long long bytes_freed;  /* st_blocks*512 of inodes whose last link we removed (only with count) */
	unsigned long long inodes_freed; /* inodes whose last link we removed (only with count) */
};

/*
 * Delete dirfd/name and everything below it, never following symlinks,
 * as fast as the filesystem allows. nthreads 0 = automatic (twice the online
 * CPUs, at most 8: a cold tree keeps threads waiting on reads); 1 =
 * single-threaded. With count, lstat each non-directory before
 * unlinking to fill bytes_freed/inodes_freed (st_nlink == 1 means its last
 * link goes; two links of one inode are never judged at the same time, so
 * the figures are exact unless another process unlinks in the tree too).
 * A missing name is not an error. Directories we own but cannot enter or
 * write (a client sent mode 0500 or 0000) are chmod'ed 0700 first. ENOENT
 * during the walk is tolerated (another deleter may be emptying the same
 * tree after a crash). st may be NULL. Returns 0, or the first -errno, after
 * doing all it can.
 */
int deltree_at(int dirfd, const char *name, int nthreads, int count, struct deltree_stats *st);

/* deltree_at's knobs, for bench/ only. */
#define DELTREE_COUNT    1u  /* count is set */
#define DELTREE_UNSORTED 2u  /* unlink in readdir order instead of inode order */
int deltree_at_flags(int dirfd, const char *name, int nthreads, unsigned flags,
		     struct deltree_stats *st);

#endif
