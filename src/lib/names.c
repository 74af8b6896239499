#include "names.h"

#include <stdint.h>

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), with its code
 * point in *cp; 0 if s does not start one. The same rules as jansson's, so
 * whatever we call valid, json_stringn() accepts.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (len) {
		size_t k = utf8_seq(p, len, &cp);
		if (!k || cp == 0)
			return 0;
		p += k;
		len -= k;
	}
	return 1;
}

static void add_hex(struct strbuf *sb, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char b[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

	sb_add(sb, b, 4);
}

void name_escape(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (len) {
		size_t k = utf8_seq(p, len, &cp);
		if (!k || cp == 0) {
			add_hex(sb, *p);
			k = 1;
		} else if (*p == '\\') {
			sb_add(sb, "\\\\", 2);
		} else {
			sb_add(sb, p, k);
		}
		p += k;
		len -= k;
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int name_unescape(struct strbuf *sb, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			sb_addch(sb, s[i]);
			continue;
		}
		if (i + 1 < len && s[i + 1] == '\\') {
			sb_addch(sb, '\\');
			i++;
			continue;
		}
		if (i + 3 < len && s[i + 1] == 'x') {
			int hi = hexval(s[i + 2]), lo = hexval(s[i + 3]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			sb_addch(sb, (char)(hi << 4 | lo));
			i += 3;
			continue;
		}
		return -1;
	}
	return 0;
}

/* Code points that must not reach a terminal as they are. */
static int unsafe_cp(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f ||
	       (cp >= 0x80 && cp <= 0x9f) ||        /* C1 controls */
	       (cp >= 0x200e && cp <= 0x200f) ||    /* LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) ||    /* separators, embeddings, overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||    /* isolates */
	       cp == 0xfeff;                        /* BOM, zero width */
}

void name_display(struct strbuf *sb, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	while (len) {
		size_t k = utf8_seq(p, len, &cp);
		if (!k) {
			add_hex(sb, *p);
			k = 1;
		} else if (cp == '\\') {
			sb_add(sb, "\\\\", 2);
		} else if (cp == '\n') {
			sb_add(sb, "\\n", 2);
		} else if (cp == '\t') {
			sb_add(sb, "\\t", 2);
		} else if (cp == '\r') {
			sb_add(sb, "\\r", 2);
		} else if (unsafe_cp(cp)) {
			for (size_t i = 0; i < k; i++)
				add_hex(sb, p[i]);
		} else {
			sb_add(sb, p, k);
		}
		p += k;
		len -= k;
	}
}
