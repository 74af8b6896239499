/*
 * File names are bytes; JSON strings are UTF-8; terminals obey control
 * characters. Three forms of one name:
 *
 * Raw: the bytes the filesystem holds (no NUL; anything else goes).
 *
 * Wire (the query answers): a name that is valid UTF-8 is sent as it is.
 * One that is not is sent escaped, and the JSON object then carries
 * "KEY_escaped": true next to it: every byte that is not part of a valid
 * UTF-8 sequence becomes \xNN (two lowercase hex digits) and every
 * backslash becomes \\. The result is valid UTF-8 and name_unescape()
 * gives the raw bytes back exactly. (Base64 would be lossless too, but
 * unreadable to anyone looking at the JSON with jq.)
 *
 * Display (what the client prints): printable text as it is, spaces
 * included; a backslash as \\; newline, tab and carriage return as \n, \t,
 * \r; every other control character, C1 control, bidirectional override,
 * line or paragraph separator, and every invalid byte as \xNN, one per
 * byte. So nothing the name holds can move the cursor or reorder the line,
 * and two different names never display alike.
 *
 * Pure functions; allocation failure aborts (strbuf.h).
 */
#ifndef HS_NAMES_H
#define HS_NAMES_H

#include <stddef.h>

#include "strbuf.h"

/* Is s[0..len) valid UTF-8 (RFC 3629: no overlong forms, no surrogates)? */
int utf8_valid(const char *s, size_t len);

/* Append the wire form of the raw name s[0..len), escaped as above. */
void name_escape(struct strbuf *sb, const char *s, size_t len);

/*
 * Append the raw bytes of an escaped wire name. Returns 0, or -1 if s is
 * not something name_escape() can produce (a lone backslash, a bad \x).
 */
int name_unescape(struct strbuf *sb, const char *s, size_t len);

/* Append the display form of the raw name s[0..len). */
void name_display(struct strbuf *sb, const char *s, size_t len);

#endif
