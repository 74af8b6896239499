/*
 * Paths that only root can change: what the sealer (root) reads its
 * configuration from and finds backup roots under, so that nobody else
 * can point it elsewhere by swapping a directory or a file on the way.
 * Library convention: 0 or a negative errno value.
 */
#ifndef HS_TRUSTED_H
#define HS_TRUSTED_H

#include <stddef.h>

/*
 * Resolve path (symlinks an admin made are fine: resolved first), then
 * walk it from / one component at a time without following anything:
 * every directory on the way must be root's and not writable by group or
 * others (unless sticky, as /tmp), and the last component root's and not
 * writable by group or others. On success *fd is an O_PATH descriptor of
 * it (caller closes). -EPERM with why set if something is not trusted;
 * -ENOENT if it does not exist.
 */
int open_trusted(const char *path, int *fd, char *why, size_t size);

#endif
