#include "timespec.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 64            /* bytes of the user's expression quoted back */
#define DAY 86400LL
/* "N must be at most 100000 years' worth": Gregorian years of 365.2425 days */
#define REL_MAX_SECS (100000LL * 31556952LL)
#define HINT "(try a snapshot name, latest~1, 2026-11-28, 3d, yesterday)"

/* What went wrong with an expression, before it becomes a sentence. */
enum verdict {
	V_OK = 0,
	V_SYNTAX,      /* not a form we know */
	V_UNIT,        /* a number followed by an unknown unit */
	V_RANGE,       /* a relative time too far back */
	V_DATE,        /* no such calendar date */
	V_CLOCK,       /* no such time of day */
	V_ZONE,        /* no such zone offset */
	V_LATEST,      /* latest~ without a plain number */
	V_NEEDLIST,    /* a snapshot name or latest, given where only a time goes */
};

/*
 * The expression with surrounding whitespace dropped: raw points into the
 * caller's string (for quoting back), low is a lowercased copy (for parsing).
 */
struct expr {
	const char *raw;
	size_t len;
	int too_long;
	char low[TIMESPEC_MAX + 1];
};

static const struct unit {
	const char *name;
	long long secs;
} units[] = {
	{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
	{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
	{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
	{ "d", DAY }, { "day", DAY }, { "days", DAY },
	{ "w", 7 * DAY }, { "week", 7 * DAY }, { "weeks", 7 * DAY },
};

/* A short why truncates the reason; it never changes the result. */
__attribute__((format(printf, 4, 5)))
static int say(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ASCII only, whatever the locale says. */
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_lower(char c) { return c >= 'a' && c <= 'z'; }
static int is_blank(char c) { return c == ' ' || c == '\t'; }
static int is_space(char c) { return is_blank(c) || (c >= '\n' && c <= '\r'); }

static const char *skip_blanks(const char *p)
{
	while (is_blank(*p))
		p++;
	return p;
}

static void expr_init(struct expr *e, const char *spec)
{
	const char *s = spec ? spec : "";
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len && is_space(s[len - 1]))
		len--;
	e->raw = s;
	e->len = len;
	e->too_long = len > TIMESPEC_MAX;
	if (e->too_long)
		len = 0;
	for (size_t i = 0; i < len; i++)
		e->low[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	e->low[len] = '\0';
}

/*
 * The expression as it goes between double quotes in a reason: control
 * characters, quotes, backslashes and non-ASCII bytes escaped so the reason
 * stays one printable line, cut to QUOTE_MAX bytes with "..." at the end.
 */
static void quote(const struct expr *e, char out[QUOTE_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, room = QUOTE_MAX, full = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < e->len; i++) {
			unsigned char c = (unsigned char)e->raw[i];
			char esc[4];
			size_t k = 0;

			if (c == '"' || c == '\\') {
				esc[k++] = '\\';
				esc[k++] = (char)c;
			} else if (c >= 0x20 && c < 0x7f) {
				esc[k++] = (char)c;
			} else {
				esc[k++] = '\\';
				esc[k++] = 'x';
				esc[k++] = hex[c >> 4];
				esc[k++] = hex[c & 15];
			}
			if (pass == 0) {
				full += k;
				continue;
			}
			if (o + k > room)
				break;
			memcpy(out + o, esc, k);
			o += k;
		}
		if (pass == 0 && full > QUOTE_MAX)
			room = QUOTE_MAX - 3;
	}
	if (full > QUOTE_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static int refuse(const struct expr *e, enum verdict v, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 1];

	quote(e, q);
	switch (v) {
	case V_UNIT:
		return say(why, whylen, -EINVAL,
			   "unknown unit in \"%s\" (use s, m, h, d or w, as in 3d)", q);
	case V_RANGE:
		return say(why, whylen, -EINVAL,
			   "too far back: \"%s\" (at most 100000 years)", q);
	case V_DATE:
		return say(why, whylen, -EINVAL, "no such date: \"%s\"", q);
	case V_CLOCK:
		return say(why, whylen, -EINVAL, "no such time of day: \"%s\"", q);
	case V_ZONE:
		return say(why, whylen, -EINVAL, "no such zone offset: \"%s\"", q);
	case V_LATEST:
		return say(why, whylen, -EINVAL,
			   "not a time: \"%s\" (latest~N takes a whole number, as in latest~1)", q);
	case V_NEEDLIST:
		return say(why, whylen, -EINVAL,
			   "\"%s\" names a snapshot, not a time", q);
	case V_OK:
	case V_SYNTAX:
		break;
	}
	return say(why, whylen, -EINVAL, "not a time: \"%s\" " HINT, q);
}

/*
 * Is s shaped like the start of a snapshot name (digits and underscores where
 * YYYY_MM_DD_HH_MM_SS has them), at least 4 characters long?
 */
static int name_shaped(const char *s)
{
	static const char shape[] = "dddd_dd_dd_dd_dd_dd";
	size_t len = strlen(s);

	if (len < 4 || len > SNAPNAME_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (shape[i] == '_' ? s[i] != '_' : !is_digit(s[i]))
			return 0;
	return 1;
}

/*
 * latest, current, latest~N, current~N. Returns 1 and *back (saturated at
 * SIZE_MAX: any such N is past every list), 0 if s is not of this family,
 * or -1 if it starts like one and goes wrong (latest~, latest~-1).
 */
static int parse_latest(const char *s, size_t *back)
{
	size_t n = 0;

	if (!strncmp(s, "latest", 6))
		s += 6;
	else if (!strncmp(s, "current", 7))
		s += 7;
	else
		return 0;
	if (!*s) {
		*back = 0;
		return 1;
	}
	if (*s++ != '~')
		return 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!is_digit(*s))
			return -1;
		unsigned d = (unsigned)(*s - '0');
		n = n > (SIZE_MAX - d) / 10 ? SIZE_MAX : n * 10 + d;
	}
	*back = n;
	return 1;
}

static enum verdict minus(time_t now, long long secs, time_t *out)
{
	long long t;

	if ((long long)now < LLONG_MIN + secs)
		return V_RANGE;
	t = (long long)now - secs;
	if ((long long)(time_t)t != t)
		return V_RANGE;
	*out = (time_t)t;
	return V_OK;
}

/* N unit [ago], e.g. "3d", "3 days ago", "90m". */
static enum verdict parse_relative(const char *p, time_t now, time_t *out)
{
	long long n = 0;
	int big = 0;
	const char *word;
	size_t wlen;
	const struct unit *u = NULL;

	if (!is_digit(*p))
		return V_SYNTAX;
	for (; is_digit(*p); p++) {
		if (!big)
			n = n * 10 + (*p - '0');
		if (n > REL_MAX_SECS)
			big = 1;   /* keep reading digits: the unit may still be wrong */
	}
	p = skip_blanks(p);
	word = p;
	while (is_lower(*p))
		p++;
	wlen = (size_t)(p - word);
	if (!wlen)
		return V_SYNTAX;   /* a bare number: the hint shows 3d */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == wlen && !memcmp(units[i].name, word, wlen))
			u = &units[i];
	if (!u)
		return V_UNIT;
	p = skip_blanks(p);
	if (!strncmp(p, "ago", 3) && (p[3] == '\0' || is_blank(p[3])))
		p = skip_blanks(p + 3);
	if (*p)
		return V_SYNTAX;
	if (big || n > REL_MAX_SECS / u->secs)
		return V_RANGE;
	return minus(now, n * u->secs, out);
}

/* Exactly two digits. */
static int two(const char *p, int *v)
{
	if (!is_digit(p[0]) || !is_digit(p[1]))
		return -1;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

static int same_wall_clock(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon &&
	       a->tm_mday == b->tm_mday && a->tm_hour == b->tm_hour &&
	       a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

/*
 * A wall-clock time in the local zone. mktime with tm_isdst=-1 leaves the
 * choice between the two readings of a repeated hour to a guess glibc carries
 * from call to call, so ask for both readings and keep the later one that
 * really shows this time. In a skipped hour neither does, and the later
 * candidate is the one read with the offset from before the jump.
 */
static enum verdict local_time(const struct tm *want, time_t *out)
{
	time_t best = 0, any = 0;
	int have_best = 0, have_any = 0;

	for (int dst = 0; dst <= 1; dst++) {
		struct tm tm = *want, back;
		time_t t;

		tm.tm_isdst = dst;
		tm.tm_wday = -1;   /* mktime can return -1 for a real time: watch this instead */
		t = mktime(&tm);
		if (tm.tm_wday == -1)
			continue;
		if (!have_any || t > any)
			any = t;
		have_any = 1;
		if (localtime_r(&t, &back) && same_wall_clock(&back, want) &&
		    (!have_best || t > best)) {
			best = t;
			have_best = 1;
		}
	}
	if (!have_any)
		return V_DATE;
	*out = have_best ? best : any;
	return V_OK;
}

/*
 * YYYY-MM-DD, then optionally ('T' or blanks) HH:MM[:SS[.fraction]] and a
 * zone (Z, +HH:MM, +HHMM, +HH). A date alone is the end of that local day.
 */
static enum verdict parse_iso(const char *p, time_t *out)
{
	int y = 0, mo, d, h = 23, mi = 59, s = 59, oh = 0, om = 0, sign = 0, zoned = 0;
	struct tm tm;
	time_t t;

	for (int i = 0; i < 4; i++)
		y = y * 10 + (p[i] - '0');   /* the caller checked four digits */
	p += 4;
	if (*p != '-' || two(p + 1, &mo) < 0 || p[3] != '-' || two(p + 4, &d) < 0)
		return V_SYNTAX;
	p += 6;
	if (*p) {
		if (*p == 't')
			p++;
		else if (is_blank(*p))
			p = skip_blanks(p);
		else
			return V_SYNTAX;
		if (two(p, &h) < 0 || p[2] != ':' || two(p + 3, &mi) < 0)
			return V_SYNTAX;
		p += 5;
		s = 0;
		if (*p == ':') {
			if (two(p + 1, &s) < 0)
				return V_SYNTAX;
			p += 3;
			if (*p == '.' || *p == ',') {
				if (!is_digit(*++p))
					return V_SYNTAX;
				while (is_digit(*p))
					p++;
			}
		}
		if (*p == 'z') {
			zoned = 1;
			p++;
		} else if (*p == '+' || *p == '-') {
			zoned = 1;
			sign = *p++ == '+' ? 1 : -1;
			if (two(p, &oh) < 0)
				return V_SYNTAX;
			p += 2;
			if (*p == ':') {
				if (two(p + 1, &om) < 0)
					return V_SYNTAX;
				p += 3;
			} else if (is_digit(*p)) {
				if (two(p, &om) < 0)
					return V_SYNTAX;
				p += 2;
			}
		}
	}
	if (*p)
		return V_SYNTAX;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return V_DATE;
	if (h > 23 || mi > 59 || s > 59)
		return V_CLOCK;
	if (oh > 23 || om > 59)
		return V_ZONE;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	if (!zoned)
		return local_time(&tm, out);
	tm.tm_wday = -1;
	t = timegm(&tm);
	if (tm.tm_wday == -1)
		return V_DATE;
	*out = t - (time_t)sign * (oh * 3600 + om * 60);
	return V_OK;
}

static enum verdict time_of(const char *s, time_t now, time_t *out)
{
	size_t back;

	if (!strcmp(s, "now") || !strcmp(s, "today")) {
		*out = now;
		return V_OK;
	}
	if (!strcmp(s, "yesterday"))
		return minus(now, DAY, out);
	if (name_shaped(s))
		return V_NEEDLIST;
	switch (parse_latest(s, &back)) {
	case 1:
		return V_NEEDLIST;
	case -1:
		return V_LATEST;
	default:
		break;
	}
	if (is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	    s[4] == '-')
		return parse_iso(s, out);
	return parse_relative(s, now, out);
}

int parse_time_expr(const char *spec, time_t now, time_t *out, char *why, size_t whylen)
{
	struct expr e;
	enum verdict v;

	say(why, whylen, 0, "%s", "");
	expr_init(&e, spec);
	if (e.too_long)
		return refuse(&e, V_SYNTAX, why, whylen);
	v = time_of(e.low, now, out);
	return v == V_OK ? 0 : refuse(&e, v, why, whylen);
}

/* ", nearest: A before, B after" for a name or prefix that matched nothing. */
static void nearest(const char *key, char (*const names)[SNAPNAME_SIZE], size_t n,
		    char *buf, size_t size)
{
	const char *before = NULL, *after = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(names[i], key) < 0)
			before = names[i];
		else if (!after && strcmp(names[i], key) > 0)
			after = names[i];
	}
	if (before && after)
		snprintf(buf, size, " (nearest: %s before, %s after)", before, after);
	else if (before)
		snprintf(buf, size, " (nearest: %s before, none after)", before);
	else if (after)
		snprintf(buf, size, " (nearest: none before, %s after)", after);
	else
		buf[0] = '\0';
}

/* A full name (exact match) or a prefix of one; s is name_shaped(). */
static int by_name(const char *s, char (*const names)[SNAPNAME_SIZE], size_t n,
		   size_t *index, char *why, size_t whylen)
{
	size_t len = strlen(s), count = 0, first[3] = { 0, 0, 0 };
	char near[2 * SNAPNAME_SIZE + 48];

	for (size_t i = 0; i < n; i++) {
		if (len == SNAPNAME_LEN ? strcmp(names[i], s) : strncmp(names[i], s, len))
			continue;
		if (count < 3)
			first[count] = i;
		count++;
	}
	if (count == 1) {
		*index = first[0];
		return 0;
	}
	if (count > 1)
		return say(why, whylen, -EEXIST,
			   "%s is ambiguous: %zu snapshots match (%s, %s%s%s%s)",
			   s, count, names[first[0]], names[first[1]],
			   count > 2 ? ", " : "", count > 2 ? names[first[2]] : "",
			   count > 3 ? ", ..." : "");
	nearest(s, names, n, near, sizeof(near));
	if (len == SNAPNAME_LEN)
		return say(why, whylen, -ENOENT, "no snapshot named %s%s", s, near);
	return say(why, whylen, -ENOENT, "no snapshot name starts with %s%s", s, near);
}

/* The newest snapshot at or before t. */
static int by_time(const struct expr *e, time_t t, char (*const names)[SNAPNAME_SIZE],
		   size_t n, size_t *index, char *why, size_t whylen)
{
	char q[QUOTE_MAX + 1], when[32], first_when[32];
	size_t first = n;
	time_t first_t = 0;

	for (size_t i = n; i-- > 0;) {
		time_t st;

		if (snapname_parse(names[i], &st) < 0)
			continue;   /* not a name: never chosen */
		if (st <= t) {
			*index = i;
			return 0;
		}
		first = i;
		first_t = st;
	}
	if (first == n)
		return say(why, whylen, -ENOENT, "no snapshots yet");
	quote(e, q);
	format_iso_utc(t, when);
	format_iso_utc(first_t, first_when);
	return say(why, whylen, -ENOENT,
		   "no snapshot at or before \"%s\" (%s): the first is %s (%s)",
		   q, when, names[first], first_when);
}

int resolve_snapshot(const char *spec, time_t now,
		     char (*const names)[SNAPNAME_SIZE], size_t n,
		     size_t *index, char *why, size_t whylen)
{
	struct expr e;
	enum verdict v;
	size_t back;
	time_t t;

	say(why, whylen, 0, "%s", "");
	expr_init(&e, spec);
	if (e.too_long)
		return refuse(&e, V_SYNTAX, why, whylen);

	if (name_shaped(e.low)) {
		if (!n)
			return say(why, whylen, -ENOENT, "no snapshots yet");
		return by_name(e.low, names, n, index, why, whylen);
	}

	switch (parse_latest(e.low, &back)) {
	case 1:
		if (!n)
			return say(why, whylen, -ENOENT, "no snapshots yet");
		if (back >= n) {
			char q[QUOTE_MAX + 1];

			quote(&e, q);
			return say(why, whylen, -ENOENT,
				   "\"%s\" goes back past the first snapshot: there %s %zu "
				   "snapshot%s (latest~0 to latest~%zu)", q, n == 1 ? "is" : "are",
				   n, n == 1 ? "" : "s", n - 1);
		}
		*index = n - 1 - back;
		return 0;
	case -1:
		return refuse(&e, V_LATEST, why, whylen);
	default:
		break;
	}

	v = time_of(e.low, now, &t);
	if (v != V_OK)
		return refuse(&e, v, why, whylen);
	if (!n)
		return say(why, whylen, -ENOENT, "no snapshots yet");
	return by_time(&e, t, names, n, index, why, whylen);
}
