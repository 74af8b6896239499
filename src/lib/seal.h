/*
 * Sealing a received tree (sealed mode, docs/SECURITY.md): every inode the
 * account owns is handed to the vault owner, with the account's group, and
 * loses every write bit but the vault owner's, so that nothing running as
 * the account can change it again. The owner, group and mode the account's
 * rsync gave it are kept where rsync --fake-super reads them, in the xattr
 * user.rsync.%stat ("MODE MAJOR,MINOR UID:GID", mode in octal with the type
 * bits, exactly as rsync's set_stat_xattr() writes it); rsync had written
 * it already unless the inode's own attributes were the right ones, and
 * then those are recorded.
 *
 * Runs as root over a tree the account may still be touching through
 * descriptors it holds, so:
 *   - every name is reached relative to a directory fd, never following a
 *     symlink, and every change goes through a descriptor of the inode
 *     checked to be the one stat'ed;
 *   - a directory is locked (vault's, 0750) before it is read, so after
 *     its listing nothing can be added to, removed from or renamed in it;
 *   - a file is locked before it is checked for writers: a descriptor
 *     opened for writing earlier survives chown and chmod, so a file still
 *     open for writing (by anybody) after it was locked refuses the seal;
 *   - an inode that is neither the account's nor already the vault's with
 *     the account's group (a hard link to a system file, say) is never
 *     touched: it refuses the seal;
 *   - so does anything but a directory or a regular file: rsync
 *     --fake-super stores symlinks, devices, FIFOs and sockets as files
 *     (their kind in the xattr), so one of those was planted; and a
 *     symlink cannot be sealed (anybody may set its times to now).
 * A refused seal changes nothing that matters: the caller discards the
 * tree. Every step is idempotent, so a walk cut short by a crash is
 * finished by walking again.
 *
 * Library convention: 0 or a negative errno value.
 */
#ifndef HS_SEAL_H
#define HS_SEAL_H

#include <sys/stat.h>
#include <sys/types.h>

#define SEAL_XSTAT "user.rsync.%stat"
#define SEAL_DIR_MODE 0750    /* the bits every sealed directory has */
#define SEAL_FILE_MODE 0640   /* the bits every sealed file has */

/*
 * The mode a sealed inode gets, from the one the account's rsync gave it:
 * no write bit but the vault owner's, none of setuid/setgid/sticky, read
 * (and for a directory, search) for the account's group, and the other
 * read and search bits as they were. So a file rsync --fake-super stored
 * as 0644 or 0755 stays 0644 or 0755, which is what rsync itself would
 * give it: a later push then finds nothing to chmod (it would try, and
 * fail, on every such file of a clone: fastpush.h). Nobody but root and
 * the account's group gets into a sealed root (root's, 0750), so the
 * "other" bits open nothing.
 */
static inline mode_t seal_mode(mode_t m)
{
	return (m & 0755) | (S_ISDIR(m) ? SEAL_DIR_MODE : SEAL_FILE_MODE);
}
#define SEAL_MAX_DEPTH 2048   /* rsync's paths are at most 4096 bytes */

struct seal_ids {
	uid_t acct;     /* the account that received the tree */
	gid_t group;    /* its own group: history stays readable by it */
	uid_t vault;    /* the owner of sealed inodes */
};

struct seal_result {
	unsigned long long sealed;   /* inodes handed to the vault owner now */
	unsigned long long kept;     /* the vault's already (linked from history) */
	unsigned long long xattrs;   /* user.rsync.%stat recorded by us */
	int refused;                 /* the tree must not be published: see why */
	char why[256];
};

struct seal_opts {
	struct seal_ids ids;
	/* check every file of the vault's for writers, not only those sealed
	 * now: after a crash, a file may have been locked but not checked */
	int recheck;
	/* called after each inode sealed (tests pause a sealer here) */
	void (*progress)(void *arg, unsigned long long sealed);
	void *arg;
};

/*
 * Seal dirfd/name and everything below it. Returns 0; or -EPERM with
 * res->refused set and res->why saying what was found; or another negative
 * errno value (res->why names the inode), after which walking again may
 * succeed.
 */
int seal_tree(int dirfd, const char *name, const struct seal_opts *o, struct seal_result *res);

/*
 * Is dirfd/name (not followed) sealed for ids: only directories and
 * regular files, the vault's with the account's group, modes 0750 and
 * 0640, a user.rsync.%stat xattr on every one? For check(8) and the tests' own checks.
 * Returns 0 if so, -EPERM with why set at the first inode that is not,
 * or a negative errno value.
 */
int seal_verify(int dirfd, const char *name, const struct seal_ids *ids, char *why, size_t size);

#endif
