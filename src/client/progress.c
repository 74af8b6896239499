/*
 * rsync's stdout during a backup, read back (progress.h).
 */
#include "progress.h"
#include "client.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An integer with thousands separators (",", "." or "'", as rsync's locale has them). */
static int grouped(const char **sp, long long *out)
{
	const char *s = *sp;
	long long v = 0;
	int digits = 0;

	while (*s) {
		if (isdigit((unsigned char)*s)) {
			if (v > (1LL << 60) / 10)
				return -1;
			v = v * 10 + (*s - '0');
			digits++;
		} else if (!((*s == ',' || *s == '.' || *s == '\'') && digits &&
			     isdigit((unsigned char)s[1]))) {
			break;
		}
		s++;
	}
	if (!digits)
		return -1;
	*sp = s;
	*out = v;
	return 0;
}

static void skip_spaces(const char **s)
{
	while (**s == ' ')
		(*s)++;
}

int progress_parse(const char *line, struct progress *p)
{
	const char *s = line;
	long long pct;
	double rate = 0, frac = 0.1;

	memset(p, 0, sizeof(*p));
	p->xfr = -1;
	skip_spaces(&s);
	if (grouped(&s, &p->bytes) < 0 || *s != ' ')
		return -1;
	skip_spaces(&s);
	if (grouped(&s, &pct) < 0 || *s != '%' || pct > 100)
		return -1;
	p->percent = (int)pct;
	s++;
	skip_spaces(&s);
	/* the rate: digits, a decimal point (either kind), digits, a unit */
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s))
		rate = rate * 10 + (*s++ - '0');
	if (*s == '.' || *s == ',') {
		s++;
		while (isdigit((unsigned char)*s)) {
			rate += (*s++ - '0') * frac;
			frac /= 10;
		}
	}
	switch (*s) {
	case 'k': case 'K': rate *= 1024; s++; break;
	case 'M': rate *= 1024.0 * 1024; s++; break;
	case 'G': rate *= 1024.0 * 1024 * 1024; s++; break;
	case 'T': rate *= 1024.0 * 1024 * 1024 * 1024; s++; break;
	default: break;
	}
	if (strncmp(s, "B/s", 3))
		return -1;
	s += 3;
	p->rate = rate;
	skip_spaces(&s);
	/* h:mm:ss: an ETA mid-file, the time taken at a file's end; not used */
	while (isdigit((unsigned char)*s) || *s == ':')
		s++;
	skip_spaces(&s);
	if (!*s)
		return 0;
	if (!strncmp(s, "(xfr#", 5)) {
		s += 5;
		if (grouped(&s, &p->xfr) < 0 || strncmp(s, ", ", 2))
			return -1;
		s += 2;
		if (!strncmp(s, "ir-chk=", 7))
			p->scanning = 1;
		else if (strncmp(s, "to-chk=", 7))
			return -1;
		s += 7;
		if (grouped(&s, &p->left) < 0 || *s++ != '/' || grouped(&s, &p->total) < 0 ||
		    *s != ')')
			return -1;
		return 0;
	}
	return -1;
}

void format_duration(double secs, char *out, size_t n)
{
	long long t = (long long)(secs + 0.5);

	if (secs < 0)
		secs = t = 0;
	if (secs < 10 && secs != (double)t)
		snprintf(out, n, "%.1fs", secs);
	else if (t < 60)
		snprintf(out, n, "%llds", t);
	else if (t < 3600 && t % 60 == 0)
		snprintf(out, n, "%lldm", t / 60);
	else if (t < 3600)
		snprintf(out, n, "%lldm %02llds", t / 60, t % 60);
	else if (t % 3600 / 60 == 0)
		snprintf(out, n, "%lldh", t / 3600);
	else
		snprintf(out, n, "%lldh %02lldm", t / 3600, t % 3600 / 60);
}

void progress_render(const struct progress *p, double elapsed, int width, struct strbuf *out)
{
	struct strbuf info = STRBUF_INIT;
	char size[32], rate[32], eta[32];
	int pct = p->percent < 0 ? 0 : p->percent > 100 ? 100 : p->percent;

	format_size(p->bytes, size, sizeof(size));
	format_size((long long)p->rate, rate, sizeof(rate));
	sb_addf(&info, "%s  %s/s", size, rate);
	if (p->scanning) {
		sb_addstr(&info, "  scanning");
	} else if (pct > 0 && pct < 100 && elapsed > 0) {
		format_duration(elapsed * (100 - pct) / pct, eta, sizeof(eta));
		sb_addf(&info, "  ETA %s", eta);
	}
	if (p->total > 0)
		sb_addf(&info, "  files %lld/%lld%s", p->total - p->left, p->total,
			p->scanning ? "+" : "");
	/* " 45% [" + bar + "] " + info */
	int bar = width - 8 - (int)info.len;
	if (bar > 40)
		bar = 40;
	sb_addf(out, "%3d%% ", pct);
	if (bar >= 10) {
		int full = bar * pct / 100;
		sb_addch(out, '[');
		for (int i = 0; i < bar; i++)
			sb_addch(out, i < full ? '#' : '-');
		sb_addstr(out, "] ");
	}
	if ((int)(out->len + info.len) > width && width > (int)out->len)
		sb_add(out, info.buf, (size_t)width - out->len);
	else
		sb_addstr(out, info.buf);
	sb_release(&info);
}

/* "Label: 1,234 ..." -> 1234, if line starts with label. */
static int labelled(const char *line, const char *label, long long *v)
{
	size_t n = strlen(label);
	const char *s = line + n;

	if (strncmp(line, label, n))
		return 0;
	skip_spaces(&s);
	if (grouped(&s, v) < 0)
		*v = -1;
	return 1;
}

int stats_line(const char *line, struct rsync_stats *st)
{
	long long ignored;

	if (labelled(line, "Number of files:", &st->files)) {
		/* "1,021 (reg: 1,000, dir: 21)": regular files, as "transferred" counts them */
		const char *reg = strstr(line, "(reg: ");
		if (reg) {
			reg += 6;
			if (grouped(&reg, &st->files) < 0)
				st->files = -1;
		}
		return 1;
	}
	if (labelled(line, "Number of regular files transferred:", &st->files_transferred) ||
	    labelled(line, "Total file size:", &st->total_size) ||
	    labelled(line, "Total transferred file size:", &st->transferred_size) ||
	    labelled(line, "Total bytes sent:", &st->bytes_sent))
		return 1;
	static const char *const others[] = {
		"Number of created files:", "Number of deleted files:", "Literal data:",
		"Matched data:", "File list size:", "File list generation time:",
		"File list transfer time:", "Total bytes received:", "sent ", "total size is ",
	};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (labelled(line, others[i], &ignored))
			return 1;
	return 0;
}
