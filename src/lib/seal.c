/*
 * The seal walk: see seal.h for what it guarantees and why in this order.
 */
#include "seal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

struct walk {
	const struct seal_opts *o;
	struct seal_result *res;
	int verify;             /* seal_verify: look, change nothing */
	char path[PATH_MAX];    /* below the top, for messages */
	size_t len;
};

static void say(struct walk *w, const char *fmt, va_list ap)
{
	int n = snprintf(w->res->why, sizeof(w->res->why), "%s: ", w->len ? w->path : ".");
	if (n > 0 && (size_t)n < sizeof(w->res->why))
		vsnprintf(w->res->why + n, sizeof(w->res->why) - (size_t)n, fmt, ap);
}

/* The tree must not be published. */
__attribute__((format(printf, 2, 3)))
static int refuse(struct walk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(w, fmt, ap);
	va_end(ap);
	w->res->refused = 1;
	return -EPERM;
}

/* Something failed; walking again may work. */
__attribute__((format(printf, 3, 4)))
static int fail(struct walk *w, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(w, fmt, ap);
	va_end(ap);
	size_t n = strlen(w->res->why);
	snprintf(w->res->why + n, sizeof(w->res->why) - n, ": %s", strerror(-rc));
	return rc;
}

static int push_name(struct walk *w, const char *name)
{
	size_t n = strlen(name), old = w->len;

	if (old + 1 + n >= sizeof(w->path))
		return -ENAMETOOLONG;
	if (old)
		w->path[w->len++] = '/';
	memcpy(w->path + w->len, name, n + 1);
	w->len += n;
	return (int)old;
}

static void pop_name(struct walk *w, int old)
{
	w->len = (size_t)old;
	w->path[w->len] = '\0';
}

/*
 * Record what the inode is now, as rsync --fake-super would read it had
 * it no xattr, unless rsync (or anybody) recorded something already.
 * XATTR_CREATE: a value set meanwhile by the account is theirs to choose,
 * as everything in a tree they sent is.
 */
static int record_stat(struct walk *w, int fd, const struct stat *st)
{
	char buf[64];

	if (fgetxattr(fd, SEAL_XSTAT, NULL, 0) >= 0)
		return 0;
	if (errno != ENODATA)
		return fail(w, -errno, "cannot read %s", SEAL_XSTAT);
	int len = snprintf(buf, sizeof(buf), "%o %u,%u %u:%u",
			   (unsigned)(st->st_mode & (S_IFMT | 07777)), 0u, 0u,
			   (unsigned)st->st_uid, (unsigned)st->st_gid);
	if (fsetxattr(fd, SEAL_XSTAT, buf, (size_t)len, XATTR_CREATE) < 0) {
		if (errno == EEXIST)
			return 0;
		return fail(w, -errno, "cannot record its owner and mode in %s", SEAL_XSTAT);
	}
	w->res->xattrs++;
	return 0;
}

/* Access ACLs could grant what the mode does not (within the mask); the
 * mode we set limits them already, but no sealed inode keeps one. */
static int strip_acls(struct walk *w, int fd, int dir)
{
	static const char *const names[] = { "system.posix_acl_access", "system.posix_acl_default" };

	for (int i = 0; i < (dir ? 2 : 1); i++)
		if (fremovexattr(fd, names[i]) < 0 && errno != ENODATA && errno != EOPNOTSUPP)
			return fail(w, -errno, "cannot remove %s", names[i]);
	return 0;
}

/*
 * A read lease is granted only while nobody has the file open for writing
 * (nor mapped shared and writable). Asked after the file was locked, when
 * nobody but root can open it for writing any more: a writer found now
 * would keep writing into history.
 */
static int no_writers(struct walk *w, int fd)
{
	if (fcntl(fd, F_SETLEASE, F_RDLCK) < 0) {
		if (errno == EAGAIN)
			return refuse(w, "open for writing by another process (code running as "
				      "the account?)");
		return fail(w, -errno, "cannot tell whether it is open for writing (a lease: "
			    "fs.leases-enable)");
	}
	fcntl(fd, F_SETLEASE, F_UNLCK);
	return 0;
}

static int walk_dir(struct walk *w, int fd, int depth);

/* Seal, or in verify mode check, one name of a directory that is locked. */
static int seal_entry(struct walk *w, int dfd, const char *name, int depth)
{
	const struct seal_ids *ids = &w->o->ids;
	struct stat st, fst;
	int rc, fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(w, -errno, "cannot stat it");
	int ours = st.st_uid == ids->acct;
	int vaults = st.st_uid == ids->vault && st.st_gid == ids->group;
	mode_t want = seal_mode(st.st_mode);
	int mode_ok = (st.st_mode & 07777) == want;
	if (w->verify && !(vaults && mode_ok))
		return refuse(w, "owner %u:%u, mode %o: not sealed", (unsigned)st.st_uid,
			      (unsigned)st.st_gid, (unsigned)(st.st_mode & 07777));
	if (!ours && !vaults)
		return refuse(w, "belongs to uid %u, gid %u, not to the account (a link to "
			      "somebody else's file?)", (unsigned)st.st_uid, (unsigned)st.st_gid);
	/*
	 * rsync --fake-super stores symlinks, devices, FIFOs and sockets as
	 * files, their kind in the xattr: anything else was planted. And a
	 * symlink could not be sealed anyway: anybody may set its times to
	 * now (the write check sees mode 0777).
	 */
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return refuse(w, "a %s, which rsync --fake-super never makes (planted?)",
			      S_ISLNK(st.st_mode) ? "symlink" : S_ISFIFO(st.st_mode) ? "FIFO" :
			      S_ISSOCK(st.st_mode) ? "socket" : "device node");
	/* the fast path: history linked into the tree, sealed long ago */
	if (S_ISREG(st.st_mode) && vaults && mode_ok && !w->o->recheck && !w->verify) {
		w->res->kept++;
		return 0;
	}
	int dir = S_ISDIR(st.st_mode);
	fd = openat(dfd, name, OPEN_FLAGS | O_NOATIME | (dir ? O_DIRECTORY : 0));
	if (fd < 0 && errno == EPERM)   /* O_NOATIME needs CAP_FOWNER */
		fd = openat(dfd, name, OPEN_FLAGS | (dir ? O_DIRECTORY : 0));
	if (fd < 0)
		return fail(w, -errno, "cannot open it");
	if (fstat(fd, &fst) < 0 || fst.st_ino != st.st_ino || fst.st_dev != st.st_dev) {
		close(fd);
		return fail(w, -ESTALE, "changed while being sealed");
	}
	rc = 0;
	if (w->verify) {
		if (fgetxattr(fd, SEAL_XSTAT, NULL, 0) < 0)
			rc = refuse(w, "no %s xattr: restores would lose its owner and mode",
				    SEAL_XSTAT);
	} else {
		if (fst.st_uid == ids->acct) {
			rc = record_stat(w, fd, &fst);
			if (!rc && fchown(fd, ids->vault, ids->group) < 0)
				rc = fail(w, -errno, "cannot give it to the vault owner");
		}
		if (!rc)
			rc = strip_acls(w, fd, dir);
		if (!rc && (fst.st_mode & 07777) != want && fchmod(fd, want) < 0)
			rc = fail(w, -errno, "cannot change its mode");
		if (!rc && !dir)
			rc = no_writers(w, fd);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	if (fst.st_uid == ids->acct) {
		w->res->sealed++;
		if (w->o->progress)
			w->o->progress(w->o->arg, w->res->sealed);
	} else {
		w->res->kept++;
	}
	if (dir)
		return walk_dir(w, fd, depth + 1);
	close(fd);
	return 0;
}

/* Read a locked directory (takes fd) and seal what it holds. */
static int walk_dir(struct walk *w, int fd, int depth)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > SEAL_MAX_DEPTH) {
		close(fd);
		return refuse(w, "more than %d directories deep", SEAL_MAX_DEPTH);
	}
	d = fdopendir(fd);
	if (!d) {
		rc = -errno;
		close(fd);
		return fail(w, rc, "cannot read it");
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = fail(w, -errno, "cannot read it");
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int old = push_name(w, de->d_name);
		if (old < 0) {
			rc = refuse(w, "a path longer than %d bytes", PATH_MAX);
			break;
		}
		rc = seal_entry(w, dirfd(d), de->d_name, depth);
		if (rc < 0)
			break;
		pop_name(w, old);
	}
	closedir(d);
	return rc;
}

static int walk(struct walk *w, int dirfd, const char *name)
{
	struct stat st;

	memset(w->res, 0, sizeof(*w->res));
	w->path[0] = '\0';
	w->len = 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(w, -errno, "cannot stat the tree");
	if (!S_ISDIR(st.st_mode))
		return refuse(w, "the tree is not a directory");
	return seal_entry(w, dirfd, name, 0);
}

int seal_tree(int dirfd, const char *name, const struct seal_opts *o, struct seal_result *res)
{
	struct walk w = { .o = o, .res = res };

	return walk(&w, dirfd, name);
}

int seal_verify(int dirfd, const char *name, const struct seal_ids *ids, char *why, size_t size)
{
	struct seal_opts o = { .ids = *ids };
	struct seal_result res;
	struct walk w = { .o = &o, .res = &res, .verify = 1 };
	int rc = walk(&w, dirfd, name);

	if (rc < 0)
		snprintf(why, size, "%s", res.why);
	return rc;
}
