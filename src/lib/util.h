/*
 * Small helpers shared by both programs: overflow-checked allocation
 * (aborts on failure, like OpenSSH's xmalloc), a growable argv, and
 * process hygiene for the start of every main().
 */
#ifndef HS_UTIL_H
#define HS_UTIL_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
size_t xadd(size_t a, size_t b);
size_t xmul(size_t a, size_t b);

/* A NULL-terminated, growable argument vector; v[n] is always NULL. */
struct argv {
	char **v;
	size_t n;
	size_t alloc;
};
#define ARGV_INIT { NULL, 0, 0 }
void argv_push(struct argv *a, const char *s);
void argv_pushf(struct argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void argv_clear(struct argv *a);

/*
 * Make sure fds 0-2 are open (on /dev/null if not), close every fd above
 * them, set umask 077 and the C locale. Call first thing in main().
 * Returns 0, or -1 if /dev/null could not be opened.
 */
int sanitise_process(void);
/* The same, keeping keep_fd (>= 3) open too; -1: keep nothing. */
int sanitise_process_keep(int keep_fd);

/* Close every fd >= lowfd. */
void close_from(int lowfd);

/* Bounded copy: returns 0, or -1 if src did not fit (dst then truncated). */
int strlcpy_chk(char *dst, const char *src, size_t size);

#endif
