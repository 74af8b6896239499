/*
 * The fast sealed push: the clone, its record, and the check after rsync.
 * See fastpush.h.
 */
#include "fastpush.h"
#include "deltree.h"
#include "fsops.h"
#include "snappath.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MAX_DEPTH 2048

static int dotname(const char *n)
{
	return n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2]));
}

/* An explicit stack of open directory pairs: no recursion, one fd pair a level. */
struct pair {
	DIR *src;
	int dst;
};

int clone_tree_fd(int sfd, int dfd, struct clone_stats *st)
{
	struct pair *stack = xmalloc(MAX_DEPTH * sizeof(*stack));
	int depth = 0, rc = 0;
	int s0 = dup(sfd), d0 = dup(dfd);

	memset(st, 0, sizeof(*st));
	stack[0].src = s0 >= 0 ? fdopendir(s0) : NULL;
	stack[0].dst = d0;
	if (!stack[0].src || d0 < 0) {
		rc = -errno;
		if (!stack[0].src && s0 >= 0)
			close(s0);
		if (d0 >= 0)
			close(d0);
		free(stack);
		return rc;
	}
	while (depth >= 0) {
		struct pair *p = &stack[depth];
		struct dirent *de;
		errno = 0;
		if ((de = readdir(p->src)) == NULL) {
			if (errno && !rc)
				rc = -errno;
			closedir(p->src);
			close(p->dst);
			depth--;
			continue;
		}
		if (dotname(de->d_name))
			continue;
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat sb;
			if (fstatat(dirfd(p->src), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(sb.st_mode) ? DT_DIR : DT_REG;
		}
		if (type != DT_DIR) {
			/* never follows: linkat without AT_SYMLINK_FOLLOW links the name itself */
			if (linkat(dirfd(p->src), de->d_name, p->dst, de->d_name, 0) == 0)
				st->links++;
			else if (errno == EEXIST)
				st->kept++;
			else if (!rc)
				rc = -errno;
			continue;
		}
		if (depth + 1 >= MAX_DEPTH) {
			if (!rc)
				rc = -ELOOP;
			continue;
		}
		if (mkdirat(p->dst, de->d_name, 0700) == 0)
			st->dirs++;
		else if (errno != EEXIST) {
			if (!rc)
				rc = -errno;
			continue;
		}
		int cs = openat(dirfd(p->src), de->d_name, DIR_FLAGS);
		int cd = openat(p->dst, de->d_name, DIR_FLAGS);
		DIR *d = cs >= 0 && cd >= 0 ? fdopendir(cs) : NULL;
		if (!d) {
			/* a non-directory where the snapshot has one: rsync sorts it out */
			if (cs >= 0)
				close(cs);
			if (cd >= 0)
				close(cd);
			continue;
		}
		depth++;
		stack[depth].src = d;
		stack[depth].dst = cd;
	}
	free(stack);
	return rc;
}

void fastpush_set_slow(struct root *r, int slow)
{
	if (r->workfd < 0)
		return;
	unlinkat(r->workfd, FASTPUSH_RECORD, 0);
	unlinkat(r->workfd, FASTPUSH_AHEAD, 0);
	if (slow)
		write_file_atomic(r->workfd, FASTPUSH_SLOW, "1\n", 2);
	else
		unlinkat(r->workfd, FASTPUSH_SLOW, 0);
}

/* Is there a file name in work/ (a marker: slow, ahead)? */
static int work_has(const struct root *r, const char *name)
{
	struct stat st;

	return r->workfd >= 0 && fstatat(r->workfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

int fastpush_is_slow(const struct root *r)
{
	return work_has(r, FASTPUSH_SLOW);
}

/* What work/clone must say for this inprogress/, newest and dest. */
static void record_text(struct strbuf *sb, const char *newest, const struct stat *ip,
			const char *dest)
{
	sb_addf(sb, "%s\n%llu:%llu\n%s\n", newest, (unsigned long long)ip->st_dev,
		(unsigned long long)ip->st_ino, dest);
}

int fastpush_is_ahead(const struct root *r)
{
	return work_has(r, FASTPUSH_AHEAD);
}

/* Remove what directory fd holds: a clone made ahead, nothing received. */
static int empty_dir(int fd)
{
	int d = dup(fd);
	DIR *dir = d >= 0 ? fdopendir(d) : NULL;
	struct dirent *de;
	int rc = 0;

	if (!dir) {
		rc = -errno;
		if (d >= 0)
			close(d);
		return rc;
	}
	while (!rc && (de = readdir(dir)) != NULL)
		if (!dotname(de->d_name))
			rc = remove_tree_at(fd, de->d_name);
	closedir(dir);
	return rc;
}

int fastpush_prepare(struct root *r, const char *dest, int *resumed, struct clone_stats *cloned)
{
	struct clone_stats cs;
	struct snaplist l = { 0 };
	struct strbuf want = STRBUF_INIT;
	struct stat ip;
	char *have = NULL;
	int rc, ipfd = -1, dfd = -1, nfd = -1, sfd = -1;

	*resumed = 0;
	if (!cloned)
		cloned = &cs;
	memset(cloned, 0, sizeof(*cloned));
	if (r->workfd < 0)
		return -ENOENT;
	ipfd = openat(r->fd, HS_INPROGRESS, DIR_FLAGS);
	if (ipfd < 0 || fstat(ipfd, &ip) < 0) {
		rc = -errno;
		goto out;
	}
	if ((rc = root_snapshots(r->fd, &l)) < 0)
		goto out;
	record_text(&want, l.n ? l.names[l.n - 1] : "-", &ip, dest);
	/* from here on the tree is this push's: what it receives is kept */
	int ahead = work_has(r, FASTPUSH_AHEAD);
	unlinkat(r->workfd, FASTPUSH_AHEAD, 0);
	int same = read_file_at(r->workfd, FASTPUSH_RECORD, 1 << 14, &have) == 0 &&
		   !strcmp(have, want.buf);
	if (!same) {
		unlinkat(r->workfd, FASTPUSH_RECORD, 0);
		/* made ahead for another destination or snapshot: nothing was received */
		if (ahead && (rc = empty_dir(ipfd)) < 0)
			goto out;
	}
	/* rsync receives there: made, and walked without crossing a symlink */
	if (dest[0] && (rc = mkdir_p_at(ipfd, dest)) < 0)
		goto out;
	dfd = dest[0] ? snap_opendir_beneath(ipfd, dest) : dup(ipfd);
	if (dfd < 0) {
		rc = dest[0] ? dfd : -errno;
		goto out;
	}
	if (same) {
		/* cloned before: ahead of this push, or an interrupted push resumes */
		*resumed = !ahead;
		rc = 0;
		goto out;
	}
	if (l.n) {
		nfd = openat(r->fd, l.names[l.n - 1], DIR_FLAGS);
		sfd = nfd < 0 ? -errno : dest[0] ? snap_opendir_beneath(nfd, dest) : dup(nfd);
		if (sfd >= 0) {
			if ((rc = clone_tree_fd(sfd, dfd, cloned)) < 0)
				goto out;
		} else if (sfd != -ENOENT) {
			/* a symlink or worse on the way: receive without a clone */
			sfd = -1;
		}
	}
	/* not fsync'ed: a clone lost in a crash only costs the next push time */
	rc = write_file_atomic(r->workfd, FASTPUSH_RECORD, want.buf, want.len);
out:
	if (ipfd >= 0)
		close(ipfd);
	if (dfd >= 0)
		close(dfd);
	if (nfd >= 0)
		close(nfd);
	if (sfd >= 0)
		close(sfd);
	snaplist_free(&l);
	sb_release(&want);
	free(have);
	return rc;
}

int fastpush_clone_ahead(struct root *r, const char *dest)
{
	int resumed;
	int rc = fastpush_prepare(r, dest, &resumed, NULL);

	return rc < 0 ? rc : write_file_atomic(r->workfd, FASTPUSH_AHEAD, "1\n", 2);
}

/*
 * A fresh inode of our own for dfd/name (a vault inode st): the same
 * content (a reflink where the filesystem has them), mtime and user.*
 * xattrs (user.rsync.%stat among them), renamed over the name.
 */
static int fresh_copy(int dfd, const char *name, const struct stat *st)
{
	char tmp[64];
	int rc = 0, in, out;

	in = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -errno;
	struct stat fst;
	if (fstat(in, &fst) < 0 || fst.st_ino != st->st_ino || fst.st_dev != st->st_dev) {
		close(in);
		return -ESTALE;
	}
	snprintf(tmp, sizeof(tmp), ".hindsight-fresh.%ld", (long)getpid());
	unlinkat(dfd, tmp, 0);
	out = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		close(in);
		return rc;
	}
	if (ioctl(out, FICLONE, in) < 0) {
		off_t left = fst.st_size;
		while (left > 0) {
			ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				rc = n < 0 ? -errno : -EIO;
				break;
			}
			left -= n;
		}
	}
	char names[65536];
	ssize_t len = rc ? 0 : flistxattr(in, names, sizeof(names));
	if (len < 0)
		rc = errno == ENOTSUP ? 0 : -errno;
	for (ssize_t i = 0; !rc && i < len; i += (ssize_t)strlen(names + i) + 1) {
		if (strncmp(names + i, "user.", 5))
			continue;
		char val[65536];
		ssize_t vl = fgetxattr(in, names + i, val, sizeof(val));
		if (vl < 0 || fsetxattr(out, names + i, val, (size_t)vl, 0) < 0)
			rc = -errno;
	}
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, fst.st_mtim };
	if (!rc && futimens(out, ts) < 0)
		rc = -errno;
	if (!rc && renameat(dfd, tmp, dfd, name) < 0)
		rc = -errno;
	if (rc)
		unlinkat(dfd, tmp, 0);
	close(out);
	close(in);
	return rc;
}

/* "%i" of an item rsync lists: [<>ch.][fdLDS] then 9 flag characters. */
static int is_item(const char *i)
{
	return strlen(i) >= 11 && strchr("<>ch.", i[0]) && strchr("fdLDS", i[1]);
}

int fastpush_attr_only(const char *i)
{
	if (i[0] != '.' || i[1] == 'd')
		return 0;
	for (int k = 2; k < 11; k++)
		if (i[k] != '.' && i[k] != ' ')
			return 1;
	return 0;
}

int fastpush_parse(const char *line, size_t len, char item[12], struct strbuf *name)
{
	/* "YYYY/MM/DD HH:MM:SS [pid] %i %b %l %n" */
	const char *p = memchr(line, ']', len);
	const char *end = line + len;

	if (!p || (size_t)(p - line) + 14 > len || p[1] != ' ')
		return 0;
	memcpy(item, p + 2, 11);
	item[11] = '\0';
	if (!is_item(item) || p[13] != ' ')
		return 0;
	/* " %b %l ": two numbers, each after one space */
	const char *q = p + 13;
	for (int f = 0; f < 2; f++) {
		if (q >= end || *q != ' ')
			return 0;
		q++;
		if (q >= end || *q < '0' || *q > '9')
			return 0;
		while (q < end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q + 1 >= end || *q != ' ')
		return 0;
	q++;
	sb_reset(name);
	sb_add(name, q, (size_t)(end - q));
	while (name->len > 1 && name->buf[name->len - 1] == '/')
		name->buf[--name->len] = '\0';
	return 1;
}

/* dfd/name (a path below dest, no trailing slash): fresh copy if a vault inode. */
static int fix_name(int dfd, char *name, uid_t me, struct fastpush_check *c)
{
	char *slash = strrchr(name, '/');
	int pfd = dfd, rc = 0;
	struct stat st;

	if (slash) {
		*slash = '\0';
		pfd = snap_opendir_beneath(dfd, name);
		*slash = '/';
		if (pfd < 0)
			return pfd;
	}
	const char *leaf = slash ? slash + 1 : name;
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	else if (S_ISREG(st.st_mode) && st.st_uid != me && (rc = fresh_copy(pfd, leaf, &st)) == 0)
		c->fresh++;
	if (pfd != dfd)
		close(pfd);
	return rc;
}

/* Count every entry below dfd (takes nothing; the walk holds its own fds). */
static int count_entries(int dfd, unsigned long long *n)
{
	DIR **stack = xmalloc(MAX_DEPTH * sizeof(*stack));
	int depth = 0, rc = 0, fd = dup(dfd);

	*n = 0;
	stack[0] = fd >= 0 ? fdopendir(fd) : NULL;
	if (!stack[0]) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		free(stack);
		return rc;
	}
	while (depth >= 0) {
		struct dirent *de;
		errno = 0;
		if ((de = readdir(stack[depth])) == NULL) {
			if (errno && !rc)
				rc = -errno;
			closedir(stack[depth--]);
			continue;
		}
		if (dotname(de->d_name))
			continue;
		(*n)++;
		int dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat sb;
			dir = fstatat(dirfd(stack[depth]), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			      S_ISDIR(sb.st_mode);
		}
		if (!dir)
			continue;
		if (depth + 1 >= MAX_DEPTH) {
			rc = -ELOOP;
			continue;
		}
		int cfd = openat(dirfd(stack[depth]), de->d_name, DIR_FLAGS);
		DIR *d = cfd >= 0 ? fdopendir(cfd) : NULL;
		if (!d) {
			if (cfd >= 0)
				close(cfd);
			if (!rc)
				rc = -errno;
			continue;
		}
		stack[++depth] = d;
	}
	free(stack);
	return rc;
}

int fastpush_check(struct root *r, const char *dest, int logfd, struct fastpush_check *c)
{
	int ipfd, dfd, rc = 0;
	uid_t me = geteuid();

	memset(c, 0, sizeof(*c));
	ipfd = openat(r->fd, HS_INPROGRESS, DIR_FLAGS);
	if (ipfd < 0)
		return -errno;
	dfd = dest[0] ? snap_opendir_beneath(ipfd, dest) : dup(ipfd);
	close(ipfd);
	if (dfd < 0)
		return dest[0] ? dfd : -errno;
	int lfd = dup(logfd);
	FILE *log = lfd >= 0 ? fdopen(lfd, "r") : NULL;
	if (!log) {
		rc = -errno;
		if (lfd >= 0)
			close(lfd);
		close(dfd);
		return rc;
	}
	struct strbuf name = STRBUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	while ((got = getline(&line, &cap, log)) > 0) {
		size_t len = (size_t)got;
		if (line[len - 1] == '\n')
			len--;
		char item[12];
		if (fastpush_parse(line, len, item, &name) && item[0] != '*' &&
		    strcmp(name.buf, ".")) {
			c->items++;
			if (fastpush_attr_only(item) && fix_name(dfd, name.buf, me, c) < 0)
				c->unknown++;
		}
	}
	free(line);
	fclose(log);
	sb_release(&name);
	rc = count_entries(dfd, &c->entries);
	close(dfd);
	return rc;
}
