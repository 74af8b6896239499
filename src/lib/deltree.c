/*
 * Deleting a tree as fast as the filesystem allows.
 *
 * Each directory is listed whole with getdents64 and its non-directories
 * are unlinked in inode order. Its subdirectories go on a LIFO stack shared
 * by a few threads, so the walk is depth first and spreads over the CPUs.
 * A directory counts the subdirectories it still waits for; whoever removes
 * the last one removes the directory too, and so on upwards: post-order
 * without recursion, so a deep tree costs heap, not stack.
 *
 * A directory with subdirectories pending keeps its fd open, since they are
 * opened and removed through it. Those fds are bounded by a budget taken
 * from RLIMIT_NOFILE (exceeded by a directory per thread at most); past it
 * (a tree deeper than the budget) a thread takes the whole subtree alone,
 * holding one fd and climbing back through "..": see local_delete().
 */
#include "deltree.h"
#include "fault.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DENTS_SIZE  (128 * 1024)   /* getdents64 buffer, per thread */
#define AUTO_MAX    8              /* at most this many threads when the caller says 0 */
#define THREADS_MAX 64
#define STRIPES     64             /* locks that keep two links of one inode apart */
#define DIR_OPEN    (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct dnode {
	struct dnode *parent;  /* NULL only for the caller's directory */
	int fd;                /* open while subdirectories are pending */
	size_t pending;        /* subdirectories not yet removed; under ctx.lock */
	dev_t dev;             /* as opened, for local_delete()'s climb */
	ino_t ino;
	char name[];
};

struct ent {
	uint64_t ino;
	size_t off;            /* of the name in listing.names */
	unsigned char type;
};

/* One directory's entries. Each worker reuses its own. */
struct listing {
	char *dents;
	struct ent *e;
	size_t n, cap;
	char *names;
	size_t len, ncap;
};

struct ctx {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct dnode **todo;   /* LIFO: depth first, and the stack stays small */
	size_t ntodo, captodo;
	unsigned busy;         /* workers inside process() */
	size_t held, budget;   /* directory fds held open, and the most allowed */
	unsigned flags;
	int err;               /* the first error */
	struct deltree_stats st;
	pthread_mutex_t stripe[STRIPES];
};

struct worker {
	struct ctx *c;
	struct listing l;
	struct deltree_stats st;
	pthread_t tid;
	int started;
};

static void note(struct ctx *c, int rc)
{
	if (rc >= 0 || rc == -ENOENT)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->err)
		c->err = rc;
	pthread_mutex_unlock(&c->lock);
}

/* Open dirfd/name, first opening up its mode if we may not read or enter it. */
static int open_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, DIR_OPEN);

	/* AT_SYMLINK_NOFOLLOW: a symlink swapped in meanwhile is refused, not followed */
	if (fd < 0 && errno == EACCES && fchmodat(dirfd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(dirfd, name, DIR_OPEN);
	return fd < 0 ? -errno : fd;
}

/* rmdir dirfd/name; a parent we may not write (0500) is opened up if it is ours. */
static int remove_dir(struct worker *w, int dirfd, const char *name, int ours)
{
	int rc = unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;

	if ((rc == -EACCES || rc == -EPERM) && ours && fchmod(dirfd, 0700) == 0)
		rc = unlinkat(dirfd, name, AT_REMOVEDIR) < 0 ? -errno : 0;
	if (!rc)
		w->st.dirs++;
	return rc;
}

/*
 * Unlink the non-directory fd/name, whose inode is ino. With counting, the
 * lstat and the unlink hold ino's stripe lock, so two links of one inode
 * are never judged at once and exactly one of them sees st_nlink == 1.
 * *opened says fd's mode was opened up already (or must not be).
 */
static int unlink_one(struct worker *w, int fd, const char *name, uint64_t ino, int *opened)
{
	pthread_mutex_t *m = NULL;
	struct stat st;
	int have = 0, rc;

	if (w->c->flags & DELTREE_COUNT) {
		m = &w->c->stripe[ino % STRIPES];
		pthread_mutex_lock(m);
		have = fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	}
	rc = unlinkat(fd, name, 0) < 0 ? -errno : 0;
	if ((rc == -EACCES || rc == -EPERM) && !*opened) {
		*opened = 1;
		if (fchmod(fd, 0700) == 0)
			rc = unlinkat(fd, name, 0) < 0 ? -errno : 0;
	}
	if (!rc) {
		fault_point("unlinked");
		w->st.files++;
		if (have && st.st_nlink == 1) {
			w->st.inodes_freed++;
			w->st.bytes_freed += (unsigned long long)st.st_blocks * 512;
		}
	}
	if (m)
		pthread_mutex_unlock(m);
	return rc;
}

/* Read every entry of fd but . and .. into l. */
static int list_dir(int fd, struct listing *l)
{
	l->n = l->len = 0;
	for (;;) {
		ssize_t got = getdents64(fd, l->dents, DENTS_SIZE);

		if (got <= 0)
			return got < 0 ? -errno : 0;
		for (size_t pos = 0; pos < (size_t)got; ) {
			const char *d = l->dents + pos;
			const char *name = d + offsetof(struct dirent64, d_name);
			unsigned short reclen;
			struct ent e;

			/* memcpy: the buffer holds bytes, not struct dirent64 objects */
			memcpy(&e.ino, d + offsetof(struct dirent64, d_ino), sizeof(e.ino));
			memcpy(&reclen, d + offsetof(struct dirent64, d_reclen), sizeof(reclen));
			e.type = (unsigned char)d[offsetof(struct dirent64, d_type)];
			if (!reclen)
				return -EIO;
			pos += reclen;
			if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
				continue;
			size_t len = strlen(name) + 1;
			if (l->n == l->cap) {
				l->cap = l->cap ? xmul(l->cap, 2) : 256;
				l->e = xrealloc(l->e, xmul(l->cap, sizeof(*l->e)));
			}
			if (xadd(l->len, len) > l->ncap) {
				l->ncap = xmul(xadd(l->ncap, len), 2);
				l->names = xrealloc(l->names, l->ncap);
			}
			e.off = l->len;
			memcpy(l->names + l->len, name, len);
			l->len += len;
			l->e[l->n++] = e;
		}
	}
}

static int by_ino(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return (x->ino > y->ino) - (x->ino < y->ino);
}

/*
 * List fd and unlink its non-directories, in inode order unless told not
 * to. Leaves only the subdirectories in w->l, in inode order too.
 */
static void empty_files(struct worker *w, int fd)
{
	struct listing *l = &w->l;
	int opened = 0;
	size_t nsub = 0;

	note(w->c, list_dir(fd, l));
	if (l->n > 1 && !(w->c->flags & DELTREE_UNSORTED))
		qsort(l->e, l->n, sizeof(*l->e), by_ino);
	for (size_t i = 0; i < l->n; i++) {
		struct ent e = l->e[i];
		const char *name = l->names + e.off;

		if (e.type == DT_UNKNOWN) {
			/* some filesystems do not say; ask, at one stat */
			struct stat st;
			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				note(w->c, -errno);
				continue;
			}
			e.type = IFTODT(st.st_mode);
		}
		if (e.type != DT_DIR) {
			int rc = unlink_one(w, fd, name, e.ino, &opened);
			if (rc != -EISDIR) {
				note(w->c, rc);
				continue;
			}
		}
		l->e[nsub++] = e;
	}
	l->n = nsub;
}

static struct dnode *new_node(struct dnode *parent, const char *name)
{
	size_t len = strlen(name) + 1;
	struct dnode *n = xcalloc(1, xadd(sizeof(*n), len));

	n->parent = parent;
	n->fd = -1;
	memcpy(n->name, name, len);
	return n;
}

/* Push a child of n for each subdirectory listed in l, lowest inode on top. */
static void push_children(struct dnode ***stack, size_t *depth, size_t *cap,
			  struct dnode *n, const struct listing *l)
{
	if (*depth + l->n > *cap) {
		*cap = xmul(xadd(*cap, l->n), 2);
		*stack = xrealloc(*stack, xmul(*cap, sizeof(**stack)));
	}
	n->pending = l->n;
	for (size_t i = l->n; i-- > 0; )
		(*stack)[(*depth)++] = new_node(n, l->names + l->e[i].off);
}

/* Open ".." of fd, which must be the directory want as we opened it. */
static int open_parent(int fd, const struct dnode *want)
{
	int pfd = openat(fd, "..", DIR_OPEN);
	struct stat st;

	if (pfd >= 0 && (fstat(pfd, &st) < 0 || st.st_dev != want->dev || st.st_ino != want->ino)) {
		close(pfd);
		return -ESTALE;
	}
	return pfd < 0 ? -errno : pfd;
}

/*
 * n is as empty as we could make it: remove it, then every ancestor whose
 * last pending subdirectory it was. The caller's directory stays.
 */
static void finish(struct worker *w, struct dnode *n)
{
	struct ctx *c = w->c;

	for (;;) {
		struct dnode *p = n->parent;
		int done;

		if (n->fd >= 0)
			close(n->fd);
		note(c, remove_dir(w, p->fd, n->name, p->parent != NULL));
		pthread_mutex_lock(&c->lock);
		if (n->fd >= 0)
			c->held--;
		done = p->parent && --p->pending == 0;
		pthread_mutex_unlock(&c->lock);
		free(n);
		if (!done)
			return;
		n = p;
	}
}

/*
 * Delete top's subtree in this thread alone, for when the fd budget is
 * spent: the same post-order with a stack of its own, holding one fd, that
 * of the next directory's parent. A parent is reached again through "..",
 * which must be the directory we opened: if the tree is moved meanwhile we
 * stop rather than remove something else. top's parent is the engine's.
 */
static void local_delete(struct worker *w, struct dnode *top)
{
	struct dnode **stack = xmalloc(sizeof(*stack)), *n = top, *p;
	size_t depth = 0, cap = 1;
	int base = top->parent->fd, fd = base, rc = 0;

	stack[depth++] = top;
	while (depth && !rc) {
		struct stat st;
		n = stack[--depth];
		int nfd = open_dir(fd, n->name);
		if (nfd >= 0 && fstat(nfd, &st) == 0) {
			n->dev = st.st_dev;
			n->ino = st.st_ino;
			empty_files(w, nfd);
			if (w->l.n) {
				push_children(&stack, &depth, &cap, n, &w->l);
				if (fd != base)
					close(fd);
				fd = nfd;
				continue;
			}
		}
		note(w->c, nfd < 0 ? nfd : 0);
		if (nfd >= 0)
			close(nfd);
		/* n is done: remove it, and each ancestor it was the last child of */
		for (; n != top; n = p) {
			p = n->parent;
			note(w->c, remove_dir(w, fd, n->name, 1));
			free(n);
			if (--p->pending)
				break;
			int pfd = p == top ? base : open_parent(fd, p->parent);
			if (p != top && pfd < 0) {
				rc = pfd;
				n = p;   /* where the letting go below starts */
				break;
			}
			close(fd);
			fd = pfd;
		}
	}
	if (rc < 0) {
		note(w->c, rc);
		while (depth)
			free(stack[--depth]);
		for (; n != top; n = p) {
			p = n->parent;
			free(n);
		}
		if (fd != base)
			close(fd);
	}
	free(stack);
	finish(w, top);
}

static void process(struct worker *w, struct dnode *n)
{
	struct ctx *c = w->c;
	struct listing *l = &w->l;
	int fd, over;

	pthread_mutex_lock(&c->lock);
	over = c->held >= c->budget;
	pthread_mutex_unlock(&c->lock);
	if (over) {
		local_delete(w, n);
		return;
	}
	fd = open_dir(n->parent->fd, n->name);
	if (fd < 0) {
		note(c, fd);
		finish(w, n);
		return;
	}
	empty_files(w, fd);
	if (!l->n) {
		close(fd);
		finish(w, n);
		return;
	}
	n->fd = fd;
	pthread_mutex_lock(&c->lock);
	c->held++;
	push_children(&c->todo, &c->ntodo, &c->captodo, n, l);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ctx *c = w->c;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->ntodo && c->busy)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->ntodo)
			break;
		struct dnode *n = c->todo[--c->ntodo];
		c->busy++;
		pthread_mutex_unlock(&c->lock);
		process(w, n);
		pthread_mutex_lock(&c->lock);
		if (!--c->busy && !c->ntodo)
			pthread_cond_broadcast(&c->cond);
	}
	c->st.files += w->st.files;
	c->st.dirs += w->st.dirs;
	c->st.bytes_freed += w->st.bytes_freed;
	c->st.inodes_freed += w->st.inodes_freed;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Directory fds we may hold: a quarter of the soft limit, the rest is the caller's. */
static size_t fd_budget(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur / 4 > 4096)
		return 4096;
	return rl.rlim_cur < 16 ? 4 : (size_t)rl.rlim_cur / 4;
}

int deltree_at_flags(int dirfd, const char *name, int nthreads, unsigned flags,
		     struct deltree_stats *out)
{
	struct dnode top = { .parent = NULL, .fd = dirfd };
	struct ctx c = { .flags = flags, .budget = fd_budget() };
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = nthreads > 0 ? nthreads : cpus < 1 ? 2 : cpus > AUTO_MAX / 2 ? AUTO_MAX : 2 * (int)cpus;
	struct worker *w;
	struct stat st;

	/*
	 * Automatic is twice the CPUs: on a cold tree the threads wait on
	 * metadata reads more than they compute (docs/BENCHMARKS.md).
	 */
	n = n > THREADS_MAX ? THREADS_MAX : n;
	w = xcalloc((size_t)n, sizeof(*w));
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c.stripe[i], NULL);
	for (int i = 0; i < n; i++)
		w[i].c = &c;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		c.err = errno == ENOENT ? 0 : -errno;
	} else if (!S_ISDIR(st.st_mode) &&
		   (c.err = unlink_one(&w[0], dirfd, name, st.st_ino, &(int){ 1 })) != -EISDIR) {
		/* a file, unlinked (the caller's directory keeps its mode) */
		c.st = w[0].st;
	} else {
		c.err = 0;
		c.todo = xmalloc(sizeof(*c.todo));
		c.captodo = 1;
		c.todo[c.ntodo++] = new_node(&top, name);
		for (int i = 0; i < n; i++)
			w[i].l.dents = xmalloc(DENTS_SIZE);
		for (int i = 1; i < n; i++)
			w[i].started = pthread_create(&w[i].tid, NULL, work, &w[i]) == 0;
		work(&w[0]);
		for (int i = 1; i < n; i++)
			if (w[i].started)
				pthread_join(w[i].tid, NULL);
	}
	if (out)
		*out = c.st;
	for (int i = 0; i < n; i++) {
		free(w[i].l.dents);
		free(w[i].l.e);
		free(w[i].l.names);
	}
	free(c.todo);
	free(w);
	for (int i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&c.stripe[i]);
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return c.err;
}

int deltree_at(int dirfd, const char *name, int nthreads, int count, struct deltree_stats *st)
{
	return deltree_at_flags(dirfd, name, nthreads, count ? DELTREE_COUNT : 0, st);
}
