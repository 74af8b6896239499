/*
 * A growable, always NUL-terminated string.
 *
 * Invariants: buf is never NULL once initialised (it points at a static
 * empty string until the first append), buf[len] == '\0', len < alloc
 * unless alloc == 0. Allocation failure aborts: a backup server that cannot
 * allocate a few bytes cannot do anything useful, and unchecked NULLs are
 * worse than a clean abort.
 */
#ifndef HS_STRBUF_H
#define HS_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { strbuf_empty, 0, 0 }
extern char strbuf_empty[];

void sb_init(struct strbuf *sb);
void sb_release(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t n);
void sb_addstr(struct strbuf *sb, const char *s);
void sb_addch(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/* Caller owns the returned string; sb is left empty. */
char *sb_detach(struct strbuf *sb);

#endif
