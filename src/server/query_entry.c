/*
 * Entries as snapshots record them, for the query verbs (query.h).
 *
 * On an unprivileged server rsync ran with --fake-super: the real mode,
 * owner and (for devices, fifos, sockets and symlinks) type of each file
 * are in the xattr user.rsync.%stat, and the inode on disk is a plain file
 * or directory owned by the account. Where that xattr exists it wins. A
 * root server stores the real thing and no xattr.
 */
#include "query.h"
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/names.h"
#include "../lib/snappath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

void qerr(const char *fmt, ...)
{
	va_list ap;

	fputs("hindsight-server: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void from_stat(const struct stat *st, struct qentry *e)
{
	e->fake = 0;
	e->ss.mode = st->st_mode & (S_IFMT | 07777);
	e->ss.uid = st->st_uid;
	e->ss.gid = st->st_gid;
	e->ss.major = major(st->st_rdev);
	e->ss.minor = minor(st->st_rdev);
}

static void from_xattr(const char *val, ssize_t n, const struct stat *st, struct qentry *e)
{
	struct stored_stat ss;

	from_stat(st, e);
	/* a malformed value is ignored: the inode's own attributes stand */
	if (n > 0 && fakesuper_parse(val, (size_t)n, &ss) == 0) {
		/* fake-super keeps directories directories: a value saying
		 * otherwise would make diff descend into a file */
		if (S_ISDIR(ss.mode) != S_ISDIR(st->st_mode))
			return;
		e->ss = ss;
		e->fake = 1;
	}
}

/*
 * Is /proc mounted? lgetxattr on /proc/self/fd/DIRFD/NAME reads an entry's
 * xattrs without opening it (opening a device node can have effects).
 */
static int proc_mounted;
static pthread_once_t proc_once = PTHREAD_ONCE_INIT;

static void look_for_proc(void)
{
	proc_mounted = access("/proc/self/fd", X_OK) == 0;
}

static int have_proc(void)
{
	pthread_once(&proc_once, look_for_proc);   /* diff reads entries in threads */
	return proc_mounted;
}

void qstored_at(int dirfd, const char *name, const struct stat *st, struct qentry *e)
{
	char val[96];
	ssize_t n = -1;

	/* Linux allows no user.* xattr on a symlink: nothing to read */
	if (S_ISLNK(st->st_mode)) {
		from_stat(st, e);
		return;
	}
	if (have_proc()) {
		char path[64 + NAME_MAX + 1];
		if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) <
		    (int)sizeof(path))
			n = lgetxattr(path, HS_FAKE_SUPER_XATTR, val, sizeof(val));
	} else if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
				O_CLOEXEC);
		if (fd >= 0) {
			n = fgetxattr(fd, HS_FAKE_SUPER_XATTR, val, sizeof(val));
			close(fd);
		}
	}
	from_xattr(val, n, st, e);
}

void qstored_fd(int fd, const struct stat *st, struct qentry *e)
{
	char val[96];
	ssize_t n = fgetxattr(fd, HS_FAKE_SUPER_XATTR, val, sizeof(val));

	from_xattr(val, n, st, e);
}

int qstat_at(int dirfd, const char *name, struct qentry *e)
{
	if (fstatat(dirfd, name, &e->st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	qstored_at(dirfd, name, &e->st, e);
	return 0;
}

int qlink_target(int dirfd, const char *name, const struct qentry *e, struct strbuf *out)
{
	char buf[PATH_MAX];
	ssize_t n;

	if (S_ISLNK(e->st.st_mode)) {
		n = readlinkat(dirfd, name, buf, sizeof(buf));
	} else if (S_ISREG(e->st.st_mode) && S_ISLNK(e->ss.mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = read(fd, buf, sizeof(buf));
		close(fd);
	} else {
		return -EINVAL;
	}
	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf))
		return -ENAMETOOLONG;
	sb_add(out, buf, (size_t)n);
	return 0;
}

void json_set_name(json_t *obj, const char *key, const char *s, size_t len)
{
	json_t *v = utf8_valid(s, len) ? json_stringn(s, len) : NULL;

	if (v) {
		json_object_set_new(obj, key, v);
		return;
	}
	struct strbuf sb = STRBUF_INIT, k = STRBUF_INIT;
	name_escape(&sb, s, len);
	v = json_stringn(sb.buf, sb.len);
	/* json_object_set_new() takes v even when it is NULL (and fails) */
	json_object_set_new(obj, key, v ? v : json_null());
	sb_addf(&k, "%s_escaped", key);
	json_object_set_new(obj, k.buf, json_true());
	sb_release(&k);
	sb_release(&sb);
}

void qentry_fields(json_t *obj, const struct qentry *e)
{
	char mode[8];

	snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->ss.mode & 07777));
	json_object_set_new(obj, "type", json_string(ftype_name(e->ss.mode) ?
						    ftype_name(e->ss.mode) : "unknown"));
	json_object_set_new(obj, "size", json_integer((json_int_t)e->st.st_size));
	json_object_set_new(obj, "mtime", json_integer((json_int_t)e->st.st_mtim.tv_sec));
	json_object_set_new(obj, "mtime_nsec", json_integer((json_int_t)e->st.st_mtim.tv_nsec));
	json_object_set_new(obj, "mode", json_string(mode));
	json_object_set_new(obj, "uid", json_integer((json_int_t)e->ss.uid));
	json_object_set_new(obj, "gid", json_integer((json_int_t)e->ss.gid));
	json_object_set_new(obj, "inode", json_integer((json_int_t)e->st.st_ino));
	if (S_ISCHR(e->ss.mode) || S_ISBLK(e->ss.mode)) {
		json_object_set_new(obj, "major", json_integer((json_int_t)e->ss.major));
		json_object_set_new(obj, "minor", json_integer((json_int_t)e->ss.minor));
	}
}

int open_snapshot(const struct root *r, const char *sel, char name[SNAPNAME_SIZE], int *code)
{
	int rc = snap_resolve(r->fd, sel, name), fd;

	if (rc == 0) {
		fd = openat(r->fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		rc = -errno;
	}
	if (rc == -ENOENT) {
		qerr(strcmp(sel, "current") ? "no snapshot %s" : "no snapshot yet (no %s)", sel);
		*code = HS_EXIT_NOTFOUND;
	} else {
		qerr("cannot open snapshot %s: %s", sel, strerror(-rc));
		*code = HS_EXIT_ERROR;
	}
	return -1;
}

void show_path(struct strbuf *sb, const char *rel)
{
	sb_addch(sb, '/');
	name_display(sb, rel, strlen(rel));
}

int symlink_in_the_way(int snapfd, const char *rel, struct strbuf *which)
{
	int cur = dup(snapfd), found = 0;
	char comp[NAME_MAX + 1];
	const char *p = rel;

	if (cur < 0)
		return 0;
	while (*p) {
		size_t len = strcspn(p, "/");
		struct qentry e;
		if (len > NAME_MAX)
			break;
		memcpy(comp, p, len);
		comp[len] = '\0';
		p += len;
		const char *end = p;
		while (*p == '/')
			p++;
		if (qstat_at(cur, comp, &e) < 0)
			break;
		if (S_ISLNK(e.ss.mode) || S_ISLNK(e.st.st_mode)) {
			/* the last component may be a link: it is then shown, not followed */
			found = *p != '\0';
			if (found)
				sb_add(which, rel, (size_t)(end - rel));
			break;
		}
		if (!*p || !S_ISDIR(e.st.st_mode))
			break;
		int next = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			break;
		close(cur);
		cur = next;
	}
	close(cur);
	return found;
}

int path_walk_failed(int snapfd, const char *snap, const char *rel, int err)
{
	struct strbuf shown = STRBUF_INIT, link = STRBUF_INIT, why = STRBUF_INIT;
	int code;

	show_path(&shown, rel);
	if (symlink_in_the_way(snapfd, rel, &link)) {
		sb_addf(&why, "%s: ", shown.buf);
		show_path(&why, link.buf);
		sb_addf(&why, " is a symlink in snapshot %s, and queries never follow symlinks",
			snap);
		code = refuse_cmd(why.buf, 0);
	} else if (err == -ENOENT || err == -ENOTDIR || err == -ELOOP || err == -EXDEV) {
		qerr("no %s in snapshot %s", shown.buf, snap);
		code = HS_EXIT_NOTFOUND;
	} else {
		qerr("cannot read %s in snapshot %s: %s", shown.buf, snap, strerror(-err));
		code = HS_EXIT_ERROR;
	}
	sb_release(&shown);
	sb_release(&link);
	sb_release(&why);
	return code;
}
