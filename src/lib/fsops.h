/*
 * Filesystem helpers that work relative to a directory fd and never follow
 * symlinks. Library convention: return 0 or a negative errno value.
 */
#ifndef HS_FSOPS_H
#define HS_FSOPS_H

#include <stddef.h>

/* fsync the directory dirfd itself. */
int fsync_dir(int dirfd);

/*
 * Write data to dirfd/name atomically: a temporary file, fsync, rename
 * over name, fsync the directory.
 */
int write_file_atomic(int dirfd, const char *name, const void *data, size_t len);

/*
 * The same for a file other programs read (a metrics file, a report): it
 * gets exactly mode, whatever the umask, and the temporary ".NAME.PID.tmp"
 * is this process's own, so two writers never share one.
 */
int write_file_atomic_mode(int dirfd, const char *name, const void *data, size_t len,
			   unsigned mode);

/* Read all of fd (at most max bytes, else -EFBIG) into a new NUL-terminated buffer. */
int read_fd(int fd, size_t max, char **out);

/* Read all of dirfd/name (at most max bytes) into a new NUL-terminated buffer. */
int read_file_at(int dirfd, const char *name, size_t max, char **out);

/*
 * Delete dirfd/name and everything below it, without following symlinks,
 * by dir-fd-relative unlinkat(). A missing name is not an error.
 */
int remove_tree_at(int dirfd, const char *name);

/* mkdir -p of an absolute path: each missing component made with mode. */
int mkdir_p(const char *path, unsigned mode);

/* mkdirat each component of the relative path rel below dirfd (mode 0700). */
int mkdir_p_at(int dirfd, const char *rel);

/* Create dirfd/name as a directory if missing; EEXIST is fine if it is one. */
int ensure_dir_at(int dirfd, const char *name, unsigned mode);

/*
 * Are readdir's d_ino and d_type exact on the filesystem of fd (d_ino ==
 * st_ino of the name)? True on ext2/3/4, XFS, btrfs and tmpfs; elsewhere
 * (FUSE, network filesystems) callers stat every name.
 */
int dirent_exact(int fd);

/*
 * Raise the soft limit on open files towards want (never past the hard
 * limit) for walks that hold a directory open per level. Returns the soft
 * limit now in force.
 */
unsigned long raise_fd_limit(unsigned long want);

#endif
