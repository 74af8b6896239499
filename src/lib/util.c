#include "util.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void oom(void)
{
	static const char msg[] = "hindsight: out of memory\n";

	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more we can do */
	}
	abort();
}

size_t xadd(size_t a, size_t b)
{
	if (a > SIZE_MAX - b)
		oom();
	return a + b;
}

size_t xmul(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		oom();
	return a * b;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom();
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = xadd(strlen(s), 1);
	char *p = xmalloc(n);

	memcpy(p, s, n);
	return p;
}

void argv_push(struct argv *a, const char *s)
{
	if (a->n + 2 > a->alloc) {
		a->alloc = a->alloc ? xmul(a->alloc, 2) : 16;
		a->v = xrealloc(a->v, xmul(a->alloc, sizeof(*a->v)));
	}
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

void argv_pushf(struct argv *a, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	argv_push(a, sb.buf);
	sb_release(&sb);
}

void argv_clear(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->alloc = 0;
}

void close_from(int lowfd)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0)
		return;
#endif
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int dfd = dirfd(d);
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char *end;
			long fd = strtol(de->d_name, &end, 10);
			if (*end == '\0' && end != de->d_name && fd >= lowfd && fd != dfd)
				close((int)fd);
		}
		closedir(d);
		return;
	}
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lowfd; fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

int sanitise_process(void)
{
	return sanitise_process_keep(-1);
}

int sanitise_process_keep(int keep_fd)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int nfd = open("/dev/null", O_RDWR);
			if (nfd < 0)
				return -1;
			if (nfd != fd) {
				/* open() returns the lowest free fd, so this cannot happen */
				close(nfd);
				return -1;
			}
		}
	}
	if (keep_fd >= 3) {
		for (int fd = 3; fd < keep_fd; fd++)
			close(fd);
		close_from(keep_fd + 1);
	} else {
		close_from(3);
	}
	umask(077);
	setlocale(LC_ALL, "C");
	return 0;
}

int strlcpy_chk(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return -1;
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}
