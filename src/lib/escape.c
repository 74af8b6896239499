#include "escape.h"
#include "names.h"

#include <string.h>

void prom_label_escape(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf wire = STRBUF_INIT;

	if (!utf8_valid(s, len)) {
		name_escape(&wire, s, len);
		s = wire.buf;
		len = wire.len;
	}
	for (size_t i = 0; i < len; i++) {
		switch (s[i]) {
		case '\\': sb_addstr(sb, "\\\\"); break;
		case '"': sb_addstr(sb, "\\\""); break;
		case '\n': sb_addstr(sb, "\\n"); break;
		default: sb_addch(sb, s[i]); break;
		}
	}
	sb_release(&wire);
}

void html_escape(struct strbuf *sb, const char *s, size_t len)
{
	struct strbuf disp = STRBUF_INIT;

	name_display(&disp, s, len);
	for (size_t i = 0; i < disp.len; i++) {
		switch (disp.buf[i]) {
		case '&': sb_addstr(sb, "&amp;"); break;
		case '<': sb_addstr(sb, "&lt;"); break;
		case '>': sb_addstr(sb, "&gt;"); break;
		case '"': sb_addstr(sb, "&quot;"); break;
		case '\'': sb_addstr(sb, "&#39;"); break;
		default: sb_addch(sb, disp.buf[i]); break;
		}
	}
	sb_release(&disp);
}
