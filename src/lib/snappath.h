/*
 * Paths inside completed snapshots, as clients name them. Everything a
 * restore or a query reads is found here: a snapshot by its exact name or
 * `current` (resolved once, then used by name or fd), and a path below it
 * walked one component at a time without following any symlink.
 *
 * Library convention: 0 or a negative errno value; reasons go to `why`.
 */
#ifndef HS_SNAPPATH_H
#define HS_SNAPPATH_H

#include <stddef.h>

#include "snapname.h"

/*
 * Resolve a snapshot selector: an exact snapshot name or "current".
 * Only completed snapshots qualify: a directory (not a symlink) named like
 * a snapshot directly in the root. -EINVAL if arg is neither form,
 * -ENOENT if no such snapshot exists.
 */
int snap_resolve(int rootfd, const char *arg, char name[SNAPNAME_SIZE]);

/*
 * Normalise a path inside a snapshot: leading slashes, empty and "."
 * components dropped; ".." refused (-EINVAL); bounded by PATH_MAX and
 * NAME_MAX (-ENAMETOOLONG). *out is "" for the top. Caller frees *out.
 */
int snap_normalise(const char *in, char **out);

/*
 * Open rel (normalised) below the directory snapfd. No component may be a
 * symlink, except the last one when it is opened itself (O_PATH|O_NOFOLLOW:
 * a symlink is returned, not followed). Uses openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) where the kernel has it, an O_NOFOLLOW walk
 * elsewhere. Returns an O_PATH fd, or -ENOENT, -ELOOP (a symlink on the
 * way), -ENOTDIR, -EXDEV.
 */
int snap_open_beneath(int snapfd, const char *rel);

/* Open rel as a directory to read (O_RDONLY|O_DIRECTORY), same rules. */
int snap_opendir_beneath(int snapfd, const char *rel);

#endif
