/*
 * What status and report share: the options that choose the roots and the
 * clock, and one account's facts, gathered once and rendered as a table,
 * JSON, a Prometheus textfile (status_prom.c) or an HTML page (report.c).
 */
#ifndef HS_STATUS_H
#define HS_STATUS_H

#include <time.h>

#include "../lib/acctstate.h"
#include "../lib/lastpush.h"
#include "../lib/srvconf.h"
#include "../lib/util.h"

struct status_opts {
	time_t now;
	const char *config;
	struct argv roots;     /* --root, in the order given */
	int usage;             /* walk each root for the bytes it holds */
	int per_snapshot;      /* read every snapshot's metadata (the timeline) */
};

/* One backup root. */
struct acct_report {
	char *root;
	char account[64];
	const char *error;           /* the root could not be read: why (static) */
	int notfound;                /* ... because it does not exist */
	long long max_age;
	size_t snapshots;
	char newest[SNAPNAME_SIZE];  /* "" without snapshots */
	time_t newest_t;             /* its name's time */
	time_t last_success;         /* its push's end (metadata), else newest_t */
	int newest_with_errors;
	int have_last;
	struct last_push last;
	int in_progress;
	long long pid;
	time_t since;
	int left_inprogress;
	int have_usage;
	unsigned long long bytes, inodes;
	struct acct_verdict v;
	/* per_snapshot only: every snapshot, oldest first */
	time_t *snap_t;
	unsigned char *snap_errors;  /* published with errors */
};

/* The state's name, or "error" for a root that could not be read. */
const char *report_state(const struct acct_report *a);

/* "complete 5m ago", "failed 2h ago (exit 14)", "-": how the last push went. */
struct strbuf;
void status_last_push(const struct acct_report *a, time_t now, struct strbuf *out);

/* Does this account want attention (stale, failing, unreadable)? */
int report_alarming(const struct acct_report *a);

/*
 * Every root status covers (those under base, then --root, each once),
 * gathered at o->now. Returns an exit code (2 bad configuration, 10 no
 * roots at all) after printing why; *out and *n are set on 0.
 */
int status_gather_all(const struct status_opts *o, struct acct_report **out, size_t *n);
void status_free_all(struct acct_report *a, size_t n);

/*
 * The options status and report share (--root, --config, --now,
 * --no-usage), by getopt letter: 0 if handled, -1 if ch is not one of
 * them, or an exit code after a message.
 */
int status_common_opt(int ch, const char *arg, struct status_opts *o);
#define STATUS_COMMON_LONGOPTS \
	{ "root", required_argument, NULL, 'r' }, \
	{ "config", required_argument, NULL, 'C' }, \
	{ "now", required_argument, NULL, 't' }, \
	{ "no-usage", no_argument, NULL, 'U' }

/* The Prometheus textfile, written atomically (0644). Returns 0 or -errno. */
int write_prometheus(const char *file, const struct acct_report *a, size_t n, time_t now);

/* The file at path, replaced atomically with data (mode 0644). */
int replace_file(const char *path, const char *data, size_t len);

#endif
