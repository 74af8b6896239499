/*
 * Retention tiers: parse, decide, foresee. See retention.h for the rules.
 * Everything is UTC and integer arithmetic; no global state, no I/O.
 */
#include "retention.h"
#include "snapname.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const gran_names[] = {
	[RG_ALL] = "all", [RG_HOURLY] = "hourly", [RG_DAILY] = "daily",
	[RG_WEEKLY] = "weekly", [RG_MONTHLY] = "monthly", [RG_YEARLY] = "yearly",
	[RG_NONE] = "none",
};

/* Nominal length of a unit, for checking that tiers grow older. */
static long long unit_seconds(char unit)
{
	switch (unit) {
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	case 'm': return 30 * 86400;
	default: return 365 * 86400;
	}
}

static long long nominal_age(const struct ret_tier *t)
{
	return t->forever ? -1 : t->amount * unit_seconds(t->unit);
}

static int parse_tier(const char *tok, size_t len, struct ret_tier *t, char *why, size_t whylen,
		      size_t idx)
{
	const char *colon = memchr(tok, ':', len);
	size_t i;

	memset(t, 0, sizeof(*t));
	if (!colon) {
		snprintf(why, whylen, "tier %zu \"%.*s\": expected AGE:KEEP, e.g. 30d:daily",
			 idx, (int)len, tok);
		return -1;
	}
	size_t alen = (size_t)(colon - tok), glen = len - alen - 1;
	if (alen == 7 && !memcmp(tok, "forever", 7)) {
		t->forever = 1;
	} else {
		long long v = 0;
		for (i = 0; i < alen && isdigit((unsigned char)tok[i]); i++) {
			v = v * 10 + (tok[i] - '0');
			if (v > 100000)
				break;
		}
		if (i == 0 || v < 1 || v > 100000 || i + 1 != alen || !strchr("hdwmy", tok[i])) {
			snprintf(why, whylen, "tier %zu \"%.*s\": age must be a number from 1 to "
				 "100000 followed by h, d, w, m or y, or \"forever\"",
				 idx, (int)len, tok);
			return -1;
		}
		t->amount = (int)v;
		t->unit = tok[i];
	}
	for (i = 0; i < sizeof(gran_names) / sizeof(gran_names[0]); i++)
		if (strlen(gran_names[i]) == glen && !memcmp(colon + 1, gran_names[i], glen))
			break;
	if (i == sizeof(gran_names) / sizeof(gran_names[0])) {
		snprintf(why, whylen, "tier %zu \"%.*s\": keep must be all, hourly, daily, weekly, "
			 "monthly, yearly or none", idx, (int)len, tok);
		return -1;
	}
	t->gran = (enum ret_gran)i;
	return 0;
}

int ret_parse(const char *s, struct ret_policy *p, char *why, size_t whylen)
{
	memset(p, 0, sizeof(*p));
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		size_t len = strcspn(s, " \t,");
		if (p->n == RET_MAX_TIERS) {
			snprintf(why, whylen, "more than %d tiers", RET_MAX_TIERS);
			return -1;
		}
		struct ret_tier *t = &p->t[p->n];
		if (parse_tier(s, len, t, why, whylen, p->n + 1) < 0)
			return -1;
		if (p->n && p->t[p->n - 1].forever) {
			snprintf(why, whylen, "tier %zu \"%.*s\": nothing can follow a forever tier",
				 p->n + 1, (int)len, s);
			return -1;
		}
		if (p->n && !t->forever && nominal_age(t) <= nominal_age(&p->t[p->n - 1])) {
			snprintf(why, whylen, "tier %zu \"%.*s\": tiers must grow older from left "
				 "to right", p->n + 1, (int)len, s);
			return -1;
		}
		p->n++;
		s += len;
	}
	if (!p->n) {
		snprintf(why, whylen, "no tiers (e.g. \"%s\")", RET_DEFAULT);
		return -1;
	}
	return 0;
}

static void tier_name(const struct ret_tier *t, char *out, size_t size)
{
	if (t->forever)
		snprintf(out, size, "forever:%s", gran_names[t->gran]);
	else
		snprintf(out, size, "%d%c:%s", t->amount, t->unit, gran_names[t->gran]);
}

void ret_format(const struct ret_policy *p, struct strbuf *out)
{
	char buf[32];

	for (size_t i = 0; i < p->n; i++) {
		tier_name(&p->t[i], buf, sizeof(buf));
		if (i)
			sb_addch(out, ' ');
		sb_addstr(out, buf);
	}
}

static int days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	return mon == 1 && leap ? 29 : days[mon];
}

/* Calendar months back, the day clamped to the month's end (monotonic in now). */
static time_t months_back(time_t now, long months)
{
	struct tm tm;

	if (!gmtime_r(&now, &tm))
		return now;
	long m = (long)tm.tm_year * 12 + tm.tm_mon - months;
	tm.tm_year = (int)(m >= 0 ? m / 12 : -((-m + 11) / 12));
	tm.tm_mon = (int)(m - (long)tm.tm_year * 12);
	int dim = days_in_month(tm.tm_year + 1900, tm.tm_mon);
	if (tm.tm_mday > dim)
		tm.tm_mday = dim;
	tm.tm_isdst = 0;
	return timegm(&tm);
}

time_t ret_cutoff(const struct ret_tier *t, time_t now)
{
	switch (t->unit) {
	case 'm': return months_back(now, t->amount);
	case 'y': return months_back(now, 12L * t->amount);
	default: return now - (time_t)(t->amount * unit_seconds(t->unit));
	}
}

static long long floor_div(long long a, long long b)
{
	return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* The hour, day, week, month or year t falls in, as a number. */
static long long bucket(time_t t, enum ret_gran g)
{
	struct tm tm;

	switch (g) {
	case RG_HOURLY: return floor_div(t, 3600);
	/* 1970-01-01 was a Thursday: +3 days makes weeks start on Monday */
	case RG_WEEKLY: return floor_div(floor_div(t, 86400) + 3, 7);
	case RG_MONTHLY:
	case RG_YEARLY:
		if (!gmtime_r(&t, &tm))
			return 0;
		return g == RG_YEARLY ? tm.tm_year : (long long)tm.tm_year * 12 + tm.tm_mon;
	default: return floor_div(t, 86400);
	}
}

static void bucket_label(time_t t, enum ret_gran g, char *out, size_t size)
{
	static const char *const fmt[] = {
		[RG_HOURLY] = "%Y-%m-%d %Hh", [RG_DAILY] = "%Y-%m-%d",
		[RG_WEEKLY] = "the week of %Y-%m-%d", [RG_MONTHLY] = "%Y-%m", [RG_YEARLY] = "%Y",
	};
	struct tm tm;

	if (g == RG_WEEKLY)
		t = (time_t)((bucket(t, RG_WEEKLY) * 7 - 3) * 86400); /* its Monday */
	if (!gmtime_r(&t, &tm) || !strftime(out, size, fmt[g], &tm))
		snprintf(out, size, "?");
}

/* The tier snapshot time t falls in, seen from now; n if past the last. */
static size_t tier_of(const struct ret_policy *p, time_t t, time_t now)
{
	for (size_t k = 0; k < p->n; k++)
		if (p->t[k].forever || t >= ret_cutoff(&p->t[k], now))
			return k;
	return p->n;
}

static int newest_in_bucket(const time_t *times, size_t n, size_t i, enum ret_gran g)
{
	return i + 1 == n || bucket(times[i + 1], g) != bucket(times[i], g);
}

static int protected(const unsigned *flags, size_t n, size_t i, struct ret_verdict *v)
{
	const char *why = NULL;

	if (i + 1 == n)
		why = "newest snapshot";
	else if (flags && (flags[i] & RET_PINNED))
		why = "pinned";
	else if (flags && (flags[i] & RET_CURRENT))
		why = "current";
	else if (flags && (flags[i] & RET_BASIS))
		why = "link basis of the push in progress";
	if (why && v) {
		v->keep = 1;
		snprintf(v->reason, sizeof(v->reason), "%s", why);
	}
	return why != NULL;
}

/* The verdict of the tiers alone for snapshot i, as if it were in tier k. */
static int tier_keeps(const struct ret_policy *p, size_t k, const time_t *times, size_t n,
		      size_t i, struct ret_verdict *v)
{
	char tier[32], label[40], newer[SNAPNAME_SIZE];

	if (k == p->n) {
		tier_name(&p->t[p->n - 1], tier, sizeof(tier));
		v->keep = 0;
		snprintf(v->reason, sizeof(v->reason), "older than the last tier (%s)", tier);
		return 0;
	}
	const struct ret_tier *t = &p->t[k];
	tier_name(t, tier, sizeof(tier));
	if (t->gran == RG_ALL || t->gran == RG_NONE) {
		v->keep = t->gran == RG_ALL;
		snprintf(v->reason, sizeof(v->reason), "%s", tier);
		return v->keep;
	}
	bucket_label(times[i], t->gran, label, sizeof(label));
	v->keep = newest_in_bucket(times, n, i, t->gran);
	if (v->keep) {
		snprintf(v->reason, sizeof(v->reason), "%s, newest of %s", tier, label);
	} else {
		size_t j = i + 1;
		while (j + 1 < n && bucket(times[j + 1], t->gran) == bucket(times[i], t->gran))
			j++;
		if (snapname_format(times[j], newer) < 0)
			snprintf(newer, sizeof(newer), "?");
		snprintf(v->reason, sizeof(v->reason), "%s, %s is the newest of %s", tier, newer,
			 label);
	}
	return v->keep;
}

void ret_decide(const time_t *times, const unsigned *flags, size_t n, time_t now,
		const struct ret_policy *p, struct ret_verdict *out)
{
	for (size_t i = 0; i < n; i++) {
		if (protected(flags, n, i, &out[i]))
			continue;
		tier_keeps(p, tier_of(p, times[i], now), times, n, i, &out[i]);
	}
}

/* The first second at which snapshot time t has left tier k (T - AGE > t). */
static time_t tier_exit(const struct ret_tier *t, time_t snap)
{
	time_t lo = snap, hi = snap + (time_t)(t->amount * unit_seconds(t->unit)) + 4 * 86400;

	/* cutoff is monotonic in now: find the least now with cutoff > snap */
	while (lo < hi) {
		time_t mid = lo + (hi - lo) / 2;
		if (ret_cutoff(t, mid) > snap)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

time_t ret_expiry(const time_t *times, const unsigned *flags, size_t n, size_t i, time_t now,
		  const struct ret_policy *p)
{
	struct ret_verdict v;

	if (protected(flags, n, i, NULL))
		return 0;
	size_t k = tier_of(p, times[i], now);
	if (!tier_keeps(p, k, times, n, i, &v))
		return now;
	while (k < p->n && !p->t[k].forever) {
		time_t when = tier_exit(&p->t[k], times[i]);
		if (when <= now)
			when = now + 1;
		k = tier_of(p, times[i], when);
		if (!tier_keeps(p, k, times, n, i, &v))
			return when;
		now = when;
	}
	return 0;
}
