/*
 * libFuzzer harness for the time grammar (timespec.h): whatever a user
 * types after --at, or as diff's A and B, goes through resolve_snapshot()
 * and parse_time_expr(). Each input is tried in three zones (UTC, central
 * Europe with its DST, and Lord Howe's half-hour DST) against a fixed list
 * of snapshots and an empty one.
 *
 * Checked with fail() (print, abort): results are 0, -EINVAL, -ENOENT or
 * -EEXIST only; an index is in range; a reason is one printable line, whole
 * in TIMESPEC_WHY_SIZE, never written past whylen, and the same result
 * comes back with a short buffer; a time that parse_time_expr() accepts
 * resolves to exactly the newest snapshot at or before it; case and
 * surrounding blanks change nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapname.h"
#include "timespec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Far past TIMESPEC_MAX: long input only has to be refused well. */
#define INPUT_MAX 512
#define NOW ((time_t)1795953600)   /* 2026-11-29T12:00:00Z */

/* Oldest first, as root_snapshots() gives them: shared prefixes, DST days. */
static char names[][SNAPNAME_SIZE] = {
	"2024_02_29_23_59_59",
	"2025_03_30_00_30_00",
	"2025_03_30_01_30_00",
	"2025_10_05_15_45_00",
	"2025_10_26_00_30_00",
	"2025_10_26_01_30_00",
	"2026_11_27_09_00_03",
	"2026_11_28_09_00_03",
	"2026_11_28_21_15_00",
	"2026_11_29_11_59_59",
};
#define N_NAMES (sizeof(names) / sizeof(names[0]))

static const char *const zones[] = {
	"UTC0",
	"CET-1CEST,M3.5.0,M10.5.0/3",
	"<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
};

static time_t name_time[N_NAMES];
static const char *current_input;
static const char *current_zone;

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nfuzz_timespec.c:%d: invariant violated: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ninput: \"%.200s\" TZ=%s\n", current_input ? current_input : "",
		current_zone ? current_zone : "");
	abort();
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, __VA_ARGS__); } while (0)

static int known_rc(int rc)
{
	return rc == 0 || rc == -EINVAL || rc == -ENOENT || rc == -EEXIST;
}

/* A reason in a buffer of size whylen: terminated inside it, one printable line. */
static void check_reason(const char *why, size_t whylen, int rc)
{
	size_t len = strnlen(why, whylen);

	CHECK(len < whylen, "reason not terminated within %zu bytes", whylen);
	for (size_t i = 0; i < len; i++)
		CHECK((unsigned char)why[i] >= 0x20 && why[i] != 0x7f,
		      "control byte 0x%02x in reason: %s", (unsigned char)why[i], why);
	if (rc != 0 && whylen > 1)
		CHECK(len > 0, "refusal %d with an empty reason", rc);
}

/*
 * The two forms that name a snapshot rather than a time, restated from
 * timespec.h: a name or a prefix of one (4 characters or more), and
 * latest / current with an optional ~N. Blanks around and case are ignored.
 */
static int names_a_snapshot(const char *spec)
{
	static const char shape[] = "dddd_dd_dd_dd_dd_dd";
	char low[TIMESPEC_MAX + 1];
	size_t len;

	while (*spec == ' ' || (*spec >= '\t' && *spec <= '\r'))
		spec++;
	len = strlen(spec);
	while (len && (spec[len - 1] == ' ' || (spec[len - 1] >= '\t' && spec[len - 1] <= '\r')))
		len--;
	if (len > TIMESPEC_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		low[i] = (spec[i] >= 'A' && spec[i] <= 'Z') ? (char)(spec[i] - 'A' + 'a') : spec[i];
	low[len] = '\0';

	if (len >= 4 && len <= SNAPNAME_LEN) {
		size_t i = 0;
		while (i < len && (shape[i] == '_' ? low[i] == '_' : low[i] >= '0' && low[i] <= '9'))
			i++;
		if (i == len)
			return 1;
	}
	const char *p = !strncmp(low, "latest", 6) ? low + 6 :
			!strncmp(low, "current", 7) ? low + 7 : NULL;
	if (!p)
		return 0;
	if (!*p)
		return 1;
	return p[0] == '~' && p[1] && strspn(p + 1, "0123456789") == strlen(p + 1);
}

struct result {
	int rc;
	size_t index;
	char why[1024];
};

static void resolve(const char *spec, size_t n, struct result *res)
{
	res->index = (size_t)-1;
	memset(res->why, 0x5a, sizeof(res->why));
	res->rc = resolve_snapshot(spec, NOW, names, n, &res->index, res->why, sizeof(res->why));
	CHECK(known_rc(res->rc), "resolve_snapshot returned %d", res->rc);
	if (res->rc == 0)
		CHECK(res->index < n, "index %zu of %zu", res->index, n);
	check_reason(res->why, sizeof(res->why), res->rc);
	/* "a why this big holds every reason whole" */
	CHECK(strlen(res->why) < TIMESPEC_WHY_SIZE,
	      "a %zu-byte reason does not fit TIMESPEC_WHY_SIZE: %s", strlen(res->why), res->why);
}

/* The same call with a short why: same result, a prefix of the reason, nothing past whylen. */
static void check_short_why(const char *spec, const struct result *full, size_t whylen)
{
	enum { GUARD = 16 };
	char buf[TIMESPEC_WHY_SIZE + GUARD];
	size_t index = (size_t)-1;
	int rc;

	memset(buf, 0x5a, sizeof(buf));
	rc = resolve_snapshot(spec, NOW, names, N_NAMES, &index, buf, whylen);
	CHECK(rc == full->rc, "whylen %zu changes the result: %d, not %d", whylen, rc, full->rc);
	if (rc == 0)
		CHECK(index == full->index, "whylen %zu changes the index", whylen);
	for (size_t i = whylen; i < sizeof(buf); i++)
		CHECK(buf[i] == 0x5a, "reason written past whylen %zu", whylen);
	if (whylen) {
		check_reason(buf, whylen, 0);
		CHECK(!strncmp(buf, full->why, strlen(buf)), "short reason is not a prefix");
	}
}

static void check_spec(const char *spec, size_t whylen)
{
	struct result full, empty, other;
	time_t t = 0;
	char why[1024];
	int p;

	resolve(spec, N_NAMES, &full);
	check_short_why(spec, &full, whylen);

	/* "A malformed expression is -EINVAL even when the list is empty" */
	resolve(spec, 0, &empty);
	CHECK(empty.rc == -EINVAL || empty.rc == -ENOENT, "empty list gave %d", empty.rc);
	CHECK((empty.rc == -EINVAL) == (full.rc == -EINVAL),
	      "syntax depends on the list: %d with it, %d without", full.rc, empty.rc);

	memset(why, 0x5a, sizeof(why));
	p = parse_time_expr(spec, NOW, &t, why, sizeof(why));
	CHECK(p == 0 || p == -EINVAL, "parse_time_expr returned %d", p);
	check_reason(why, sizeof(why), p);
	CHECK(strlen(why) < TIMESPEC_WHY_SIZE, "parse_time_expr reason too long: %s", why);
	if (p == 0) {
		/* a time: the newest snapshot at or before it, or none */
		size_t want = N_NAMES;
		for (size_t i = 0; i < N_NAMES; i++)
			if (name_time[i] <= t)
				want = i;
		if (want == N_NAMES)
			CHECK(full.rc == -ENOENT, "nothing is at or before %lld, yet %d",
			      (long long)t, full.rc);
		else
			CHECK(full.rc == 0 && full.index == want,
			      "time %lld resolves to %d/%zu, not index %zu",
			      (long long)t, full.rc, full.index, want);
	} else if (!names_a_snapshot(spec)) {
		CHECK(full.rc == -EINVAL, "not a time and not a snapshot, yet %d", full.rc);
	}
	if (names_a_snapshot(spec))
		CHECK(p == -EINVAL, "a snapshot name or latest~N parsed as a time");

	/* case and surrounding blanks are ignored */
	size_t len = strlen(spec);
	char *alt = malloc(len + 8);
	if (!alt)
		abort();
	for (size_t i = 0; i <= len; i++)
		alt[i] = (spec[i] >= 'a' && spec[i] <= 'z') ? (char)(spec[i] - 'a' + 'A') : spec[i];
	resolve(alt, N_NAMES, &other);
	CHECK(other.rc == full.rc && (full.rc || other.index == full.index),
	      "upper case changes the result: %d, not %d", other.rc, full.rc);
	snprintf(alt, len + 8, " \t%s\n ", spec);
	resolve(alt, N_NAMES, &other);
	CHECK(other.rc == full.rc && (full.rc || other.index == full.index) &&
	      !strcmp(other.why, full.why), "surrounding blanks change the result");
	free(alt);
}

static void init_names(void)
{
	static int done;

	if (done)
		return;
	for (size_t i = 0; i < N_NAMES; i++)
		if (snapname_parse(names[i], &name_time[i]) < 0)
			abort();
	done = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec;

	init_names();
	if (size > INPUT_MAX)
		size = INPUT_MAX;
	spec = malloc(size + 1);
	if (!spec)
		abort();
	memcpy(spec, data, size);
	spec[size] = '\0';
	current_input = spec;

	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		current_zone = zones[z];
		setenv("TZ", zones[z], 1);
		tzset();
		/* a short buffer of every size from 0 up, as the input varies */
		check_spec(spec, (size + z * 7) % (TIMESPEC_WHY_SIZE + 1));
	}
	current_input = NULL;
	free(spec);
	return 0;
}
