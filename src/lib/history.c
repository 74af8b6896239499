#include "history.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
	mode_t type;
	const char *name;
} ftypes[] = {
	{ S_IFREG, "file" },
	{ S_IFDIR, "dir" },
	{ S_IFLNK, "symlink" },
	{ S_IFIFO, "fifo" },
	{ S_IFSOCK, "socket" },
	{ S_IFCHR, "chardev" },
	{ S_IFBLK, "blockdev" },
};

const char *ftype_name(mode_t mode)
{
	for (size_t i = 0; i < sizeof(ftypes) / sizeof(ftypes[0]); i++)
		if ((mode & S_IFMT) == ftypes[i].type)
			return ftypes[i].name;
	return NULL;
}

mode_t ftype_from_name(const char *name)
{
	for (size_t i = 0; name && i < sizeof(ftypes) / sizeof(ftypes[0]); i++)
		if (!strcmp(name, ftypes[i].name))
			return ftypes[i].type;
	return 0;
}

/* A decimal or octal number from s[*i..len), stopping at the first other byte. */
static int number(const char *s, size_t len, size_t *i, unsigned base,
		  unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] < (char)('0' + base)) {
		v = v * base + (unsigned)(s[*i] - '0');
		if (v > max)
			return -1;
		(*i)++;
	}
	*out = v;
	return *i > start ? 0 : -1;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

int fakesuper_parse(const char *val, size_t len, struct stored_stat *out)
{
	unsigned long long mode, maj, min, uid, gid;
	size_t i = 0;

	/* rsync writes "%o %u,%u %u:%u"; a trailing NUL is tolerated */
	if (len && val[len - 1] == '\0')
		len--;
	if (number(val, len, &i, 8, 0177777, &mode) < 0 || expect(val, len, &i, ' ') < 0 ||
	    number(val, len, &i, 10, 0xffffffffULL, &maj) < 0 || expect(val, len, &i, ',') < 0 ||
	    number(val, len, &i, 10, 0xffffffffULL, &min) < 0 || expect(val, len, &i, ' ') < 0 ||
	    number(val, len, &i, 10, 0xffffffffULL, &uid) < 0 || expect(val, len, &i, ':') < 0 ||
	    number(val, len, &i, 10, 0xffffffffULL, &gid) < 0 || i != len)
		return -1;
	if (!ftype_name((mode_t)mode))
		return -1;
	out->mode = (mode_t)mode;
	out->major = (unsigned)maj;
	out->minor = (unsigned)min;
	out->uid = (uid_t)uid;
	out->gid = (gid_t)gid;
	return 0;
}

void mode_string(mode_t mode, char out[11])
{
	static const char types[] = "?pc?d?b?-?l?s???";   /* by (mode >> 12) & 15 */
	static const char rwx[] = "rwxrwxrwx";

	out[0] = types[(mode >> 12) & 15];
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = (mode & S_IXUSR) ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = (mode & S_IXGRP) ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = (mode & S_IXOTH) ? 't' : 'T';
	out[10] = '\0';
}

int versions_feed(struct version_list *l, size_t i, int present,
		  uint64_t dev, uint64_t ino)
{
	struct version *last = l->n ? &l->v[l->n - 1] : NULL;

	if (!present) {
		l->running = 0;
		return 0;
	}
	if (l->running && last && last->dev == dev && last->ino == ino && last->last + 1 == i) {
		last->last = i;
		return 0;
	}
	if (l->n == l->alloc) {
		l->alloc = l->alloc ? xmul(l->alloc, 2) : 16;
		l->v = xrealloc(l->v, xmul(l->alloc, sizeof(*l->v)));
	}
	l->v[l->n++] = (struct version){ .dev = dev, .ino = ino, .first = i, .last = i };
	l->running = 1;
	return 1;
}

void versions_free(struct version_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int merge_next(struct name_merge *m, const char *const *a, size_t na,
	       const char *const *b, size_t nb, size_t *ai, size_t *bi)
{
	int c;

	if (m->i >= na && m->j >= nb)
		return 0;
	if (m->i >= na)
		c = 1;
	else if (m->j >= nb)
		c = -1;
	else
		c = strcmp(a[m->i], b[m->j]);
	*ai = c <= 0 ? m->i++ : SIZE_MAX;
	*bi = c >= 0 ? m->j++ : SIZE_MAX;
	return 1;
}

enum diff_verdict diff_classify(const struct diff_node *a, const struct diff_node *b)
{
	if (!a->present && !b->present)
		return DV_SAME;
	if (!a->present)
		return DV_ADDED;
	if (!b->present)
		return DV_REMOVED;
	if ((a->mode & S_IFMT) != (b->mode & S_IFMT))
		return DV_REPLACED;
	if (S_ISDIR(a->mode))
		return ((a->mode & 07777) != (b->mode & 07777) ||
			a->uid != b->uid || a->gid != b->gid) ? DV_MODIFIED : DV_SAME;
	return (a->dev == b->dev && a->ino == b->ino) ? DV_SAME : DV_MODIFIED;
}

int diff_recurses(const struct diff_node *a, const struct diff_node *b)
{
	return a->present && b->present && S_ISDIR(a->mode) && S_ISDIR(b->mode);
}
