/*
 * Names in other formats: Prometheus label values and HTML. An account's
 * name comes from a user name or a directory name, so it may hold any
 * byte. Pure; allocation failure aborts (strbuf.h).
 */
#ifndef HS_ESCAPE_H
#define HS_ESCAPE_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Append s[0..len) as the inside of a Prometheus label value (text
 * exposition format 0.0.4): backslash, double quote and newline escaped as
 * \\, \" and \n. A name that is not valid UTF-8 is given in its wire form
 * first (names.h: \xNN per bad byte), since label values are UTF-8.
 */
void prom_label_escape(struct strbuf *sb, const char *s, size_t len);

/*
 * Append s[0..len) as HTML text, safe in an element or a quoted
 * attribute: the display form of the name (names.h: no control character,
 * no invalid UTF-8), then & < > " ' as character references.
 */
void html_escape(struct strbuf *sb, const char *s, size_t len);

#endif
