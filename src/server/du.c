/*
 * `hindsight-server du [--root DIR] [--json]`: where the space of a backup
 * root went. For each completed snapshot, its apparent size (st_size),
 * its allocated size (st_blocks * 512) and its unique size: the allocated
 * bytes of the inodes that only it holds, which is what deleting it would
 * free (as `tmutil uniquesize`). Sizes count each inode once per snapshot,
 * however many names it has there. Everything in the root that is not a
 * completed snapshot (inprogress/, .hindsight/ with its resume bases and
 * trash, current, the root directory itself) is one more row, "other".
 *
 * One pass over the root: each snapshot in name order, then the rest, with
 * an inode table (inotab.h) for inodes that have more than one link. An
 * inode is unique to a snapshot when every one of its links (st_nlink) was
 * seen, all in that snapshot; a link outside the root keeps it from being
 * anybody's, since deleting the snapshot would not free it.
 *
 * Why it beats `du -s` on snapshots made with --link-dest: an unchanged
 * file is one inode in every snapshot, and once it is in the table, its
 * name's d_ino (from readdir) finds it without a stat. Only filesystems
 * whose d_ino is known to equal st_ino get that shortcut.
 *
 * Reads only; takes no lock. A push or prune running meanwhile can skew
 * the figures, never the root. Directories are opened relative to their
 * parent's fd with O_NOFOLLOW, symlinks are never followed, and nothing on
 * another filesystem (a mount point inside the root) is counted.
 */
#include "server.h"
#include "query.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/inotab.h"
#include "../lib/root.h"
#include "../lib/strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define MAX_MESSAGES 20

struct du_sizes {
	uint64_t apparent;    /* st_size */
	uint64_t allocated;   /* st_blocks * 512 */
	uint64_t unique;      /* allocated, of inodes this unit alone holds */
	uint64_t inodes;
};

struct du {
	struct inotab tab;
	struct du_sizes *units;   /* the snapshots in order, then "other" */
	struct du_sizes total;    /* every inode once (unique: the snapshots') */
	uint64_t shared;          /* allocated, of inodes in two units or more */
	uint64_t outside;         /* allocated, of inodes with a link not seen */
	dev_t dev;
	int dino;                 /* trust d_ino to find inodes in the table */
	unsigned max_depth;
	unsigned errors;
	struct strbuf path;       /* the directory being read, for messages */
};

/* err: an errno value, or 0 for a tree deeper than we go */
static void warn(struct du *du, const char *name, int err)
{
	if (++du->errors <= MAX_MESSAGES)
		fprintf(stderr, "hindsight-server: du: cannot read %s%s%s: %s\n", du->path.buf,
			name ? "/" : "", name ? name : "",
			err ? strerror(err) : "deeper than the open files limit allows");
	else if (du->errors == MAX_MESSAGES + 1)
		fputs("hindsight-server: du: more errors; not shown\n", stderr);
}

static void add(struct du_sizes *u, uint64_t size, uint64_t blocks)
{
	u->apparent += size;
	u->allocated += blocks * 512;
	u->inodes++;
}

/* An inode met by stat in unit. */
static void count(struct du *du, const struct stat *st, uint32_t unit)
{
	struct du_sizes *u = &du->units[unit];
	uint64_t size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
	uint64_t blocks = st->st_blocks > 0 ? (uint64_t)st->st_blocks : 0;

	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		struct ino_slot *s = inotab_find(&du->tab, st->st_ino);
		if (s) {
			if (inotab_seen(s, unit))
				add(u, size, blocks);
			return;
		}
		inotab_add(&du->tab, st->st_ino, size, blocks, st->st_nlink, unit);
		add(u, size, blocks);
		add(&du->total, size, blocks);
		return;
	}
	/* one link (a directory's links are its subdirectories): this unit's */
	add(u, size, blocks);
	add(&du->total, size, blocks);
	u->unique += blocks * 512;
}

static void walk(struct du *du, int fd, uint32_t unit, unsigned depth);

/* The directory fd (name in the message path) of unit: count it, walk it. */
static void dir(struct du *du, int fd, const char *name, uint32_t unit, unsigned depth)
{
	struct stat st;
	size_t len = du->path.len;

	if (fstat(fd, &st) < 0) {
		warn(du, name, errno);
		close(fd);
		return;
	}
	if (st.st_dev != du->dev) {
		close(fd);   /* a mount point: not this filesystem's space */
		return;
	}
	count(du, &st, unit);
	if (depth > du->max_depth) {
		warn(du, name, 0);
		close(fd);
		return;
	}
	sb_addch(&du->path, '/');
	sb_addstr(&du->path, name);
	walk(du, fd, unit, depth);
	du->path.len = len;
	du->path.buf[len] = '\0';
}

/* One name in dfd that the table did not answer for. */
static void entry(struct du *du, int dfd, const char *name, unsigned char type,
		  uint64_t d_ino, uint32_t unit, unsigned depth)
{
	struct stat st;
	int fd;

	if (type == DT_DIR || type == DT_UNKNOWN) {
		fd = openat(dfd, name, DIR_FLAGS);
		if (fd >= 0) {
			dir(du, fd, name, unit, depth + 1);
			return;
		}
		if (errno == ENOENT)
			return;   /* gone since readdir: a prune, say */
		if (errno != ENOTDIR && errno != ELOOP) {
			/* unreadable: its own inode still counts */
			int e = errno;
			if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == du->dev)
				count(du, &st, unit);
			warn(du, name, e);
			return;
		}
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			warn(du, name, errno);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		/* it became a directory since readdir: walk it as one */
		if (type != DT_DIR && type != DT_UNKNOWN)
			entry(du, dfd, name, DT_DIR, d_ino, unit, depth);
		return;
	}
	if (st.st_dev != du->dev)
		return;
	if (du->dino && type != DT_UNKNOWN && st.st_ino != d_ino) {
		fputs("hindsight-server: du: d_ino differs from st_ino here; "
		      "every name is stat()ed from now on\n", stderr);
		du->dino = 0;
	}
	count(du, &st, unit);
}

/* Read the directory fd of unit (already counted); closes fd. */
static void walk(struct du *du, int fd, uint32_t unit, unsigned depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		warn(du, NULL, errno);
		close(fd);
		return;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (du->dino && de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
			struct ino_slot *s = inotab_find(&du->tab, de->d_ino);
			if (s) {
				/* a link of an inode met before: no stat needed */
				if (inotab_seen(s, unit))
					add(&du->units[unit], s->size, s->blocks);
				continue;
			}
		}
		entry(du, dirfd(d), name, de->d_type, de->d_ino, unit, depth);
	}
	if (errno)
		warn(du, NULL, errno);
	closedir(d);
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

/* Walk every unit of the root; 0, or a negative errno if it cannot start. */
static int du_root(struct du *du, const struct root *r, const struct snaplist *l)
{
	uint32_t other = (uint32_t)l->n;
	struct stat st;
	int fd;

	if (fstat(r->fd, &st) < 0)
		return -errno;
	du->dev = st.st_dev;
	du->dino = dirent_exact(r->fd);
#ifdef HS_TEST_HOOKS
	if (getenv("HS_TEST_DU_STAT_ALL"))
		du->dino = 0;
#endif
	/* one open directory per level of depth, and a few to spare */
	unsigned long fds = raise_fd_limit(65536);
	du->max_depth = fds > 64 ? (unsigned)(fds - 16) : 48;
	sb_addstr(&du->path, r->path);
	for (uint32_t i = 0; i < other; i++) {
		fd = openat(r->fd, l->names[i], DIR_FLAGS);
		if (fd < 0)
			warn(du, l->names[i], errno);
		else
			dir(du, fd, l->names[i], i, 1);
	}
	count(du, &st, other);
	fd = openat(r->fd, ".", DIR_FLAGS);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	struct dirent *de;
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    bsearch(name, l->names, l->n, sizeof(l->names[0]), cmp_name))
			continue;
		entry(du, dirfd(d), name, de->d_type, de->d_ino, other, 1);
	}
	if (errno)
		warn(du, NULL, errno);
	closedir(d);
	/* now the table knows who holds what */
	for (size_t i = 0; i < du->tab.cap; i++) {
		const struct ino_slot *s = &du->tab.slots[i];
		uint32_t unit;
		if (!(s->left & INO_USED))
			continue;
		switch (inotab_holder(s, &unit)) {
		case INO_ONE_UNIT: du->units[unit].unique += s->blocks * 512; break;
		case INO_SHARED: du->shared += s->blocks * 512; break;
		case INO_OUTSIDE: du->outside += s->blocks * 512; break;
		}
	}
	for (uint32_t i = 0; i < other; i++)
		du->total.unique += du->units[i].unique;
	return 0;
}

/* The sizes of u as a JSON object, after "name" if name is given. */
static json_t *sizes_json(const char *name, const struct du_sizes *u)
{
	json_t *o = json_object();

	if (name)
		json_object_set_new(o, "name", json_string(name));
	json_object_set_new(o, "apparent_bytes", json_integer((json_int_t)u->apparent));
	json_object_set_new(o, "allocated_bytes", json_integer((json_int_t)u->allocated));
	json_object_set_new(o, "unique_bytes", json_integer((json_int_t)u->unique));
	json_object_set_new(o, "inodes", json_integer((json_int_t)u->inodes));
	return o;
}

static int print_json(const struct du *du, const struct root *r, const struct snaplist *l)
{
	json_t *arr = json_array(), *top, *total;

	for (size_t i = 0; i < l->n; i++) {
		json_array_append_new(arr, sizes_json(l->names[i], &du->units[i]));
	}
	total = sizes_json(NULL, &du->total);
	json_object_set_new(total, "shared_bytes", json_integer((json_int_t)du->shared));
	json_object_set_new(total, "outside_bytes", json_integer((json_int_t)du->outside));
	top = json_pack("{s:i, s:s}", "protocol", QUERY_PROTOCOL, "verb", "du");
	json_set_name(top, "root", r->path, strlen(r->path));
	json_object_set_new(top, "snapshots", arr);
	json_object_set_new(top, "other", sizes_json(NULL, &du->units[l->n]));
	json_object_set_new(top, "total", total);
	return emit_json(top);
}

/* du -h's style: bytes below 1 KiB, else one decimal below 10, binary units. */
static const char *human(uint64_t n, char buf[16])
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, 16, "%llu", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 16, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

static void print_row(const char *name, const struct du_sizes *u)
{
	char a[16], b[16], c[16];

	printf("%-20s %10s %10s %10s\n", name, human(u->apparent, a), human(u->allocated, b),
	       human(u->unique, c));
}

static int print_text(const struct du *du, const struct snaplist *l)
{
	char a[16], b[16];

	printf("%-20s %10s %10s %10s\n", "SNAPSHOT", "APPARENT", "ALLOCATED", "UNIQUE");
	for (size_t i = 0; i < l->n; i++)
		print_row(l->names[i], &du->units[i]);
	print_row("other", &du->units[l->n]);
	print_row("total", &du->total);
	printf("shared by snapshots: %s; linked from outside the root: %s\n",
	       human(du->shared, a), human(du->outside, b));
	return fflush(stdout) == 0 ? HS_EXIT_OK : HS_EXIT_ERROR;
}

int cmd_du(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: hindsight-server du [--root DIR] [--json]\n";
	struct du du = { .tab = INOTAB_INIT, .path = STRBUF_INIT };
	const char *path = NULL;
	struct snaplist l;
	struct root r;
	int c, json = 0, rc, code;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': path = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage, stdout); return HS_EXIT_OK;
		default: fputs(usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (!path) {
		const struct passwd *pw = getpwuid(getuid());
		if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/') {
			fprintf(stderr, "hindsight-server: du: no home directory for uid %u; "
				"give --root\n", (unsigned)getuid());
			return HS_EXIT_NOTFOUND;
		}
		path = pw->pw_dir;
	}
	if (path[0] != '/') {
		fprintf(stderr, "hindsight-server: du: --root must be an absolute path: %s\n", path);
		return HS_EXIT_USAGE;
	}
	rc = root_open(path, 0, &r);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: du: no backup root at %s: %s\n", path,
			strerror(-rc));
		return rc == -ENOENT || rc == -ENOTDIR ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	rc = root_snapshots(r.fd, &l);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: du: cannot list %s: %s\n", r.path, strerror(-rc));
		root_close(&r);
		return HS_EXIT_ERROR;
	}
	du.units = xcalloc(l.n + 1, sizeof(*du.units));
	rc = du_root(&du, &r, &l);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: du: cannot read %s: %s\n", r.path, strerror(-rc));
		code = HS_EXIT_ERROR;
	} else {
		code = json ? print_json(&du, &r, &l) : print_text(&du, &l);
		if (code == HS_EXIT_OK && du.errors)
			code = HS_EXIT_WARNINGS;
	}
	inotab_free(&du.tab);
	free(du.units);
	sb_release(&du.path);
	snaplist_free(&l);
	root_close(&r);
	return code;
}
