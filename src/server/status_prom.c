/*
 * `status --prometheus FILE`: the accounts as a node_exporter textfile
 * (text exposition format 0.0.4), for its textfile collector. Every family
 * has # HELP and # TYPE, every series the labels account and root (root
 * keeps two roots of one account apart), label values escaped. The file is
 * replaced atomically with mode 0644, so the collector never reads half of
 * it and can read it as another user.
 */
#include "server.h"
#include "status.h"
#include "../lib/escape.h"
#include "../lib/strbuf.h"

#include <string.h>

/* The states a gauge family enumerates: the account's own is 1. */
static const char *const prom_states[] = {
	"ok", "stale", "failing", "in progress", "never", "error",
};

static void family(struct strbuf *sb, const char *name, const char *help)
{
	sb_addf(sb, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static void labels(struct strbuf *sb, const struct acct_report *a)
{
	sb_addstr(sb, "{account=\"");
	prom_label_escape(sb, a->account, strlen(a->account));
	sb_addstr(sb, "\",root=\"");
	prom_label_escape(sb, a->root, strlen(a->root));
	sb_addch(sb, '"');
}

static void sample(struct strbuf *sb, const char *name, const struct acct_report *a,
		   long long v)
{
	sb_addstr(sb, name);
	labels(sb, a);
	sb_addf(sb, "} %lld\n", v);
}

/* Which accounts have a value for a family. */
enum has { ALL, READABLE, WITH_SNAPSHOT, WITH_LAST, WITH_USAGE };

static int has(const struct acct_report *a, enum has h)
{
	switch (h) {
	case ALL: return 1;
	case READABLE: return !a->error;
	case WITH_SNAPSHOT: return !a->error && a->snapshots;
	case WITH_LAST: return !a->error && a->have_last;
	case WITH_USAGE: return !a->error && a->have_usage;
	}
	return 0;
}

struct metric {
	const char *name, *help;
	enum has has;
	long long (*value)(const struct acct_report *a);
};

static long long v_stale(const struct acct_report *a) { return a->v.stale; }
static long long v_failing(const struct acct_report *a) { return a->v.failing; }
static long long v_snapshots(const struct acct_report *a) { return (long long)a->snapshots; }
static long long v_success(const struct acct_report *a) { return a->last_success; }
static long long v_newest(const struct acct_report *a) { return a->newest_t; }
static long long v_max_age(const struct acct_report *a) { return a->max_age; }
static long long v_running(const struct acct_report *a) { return a->in_progress; }
static long long v_last_end(const struct acct_report *a) { return a->last.end; }
static long long v_last_ok(const struct acct_report *a)
{
	return a->last.result != PUSH_FAILED;
}
static long long v_last_exit(const struct acct_report *a) { return a->last.exit; }
static long long v_bytes(const struct acct_report *a) { return (long long)a->bytes; }
static long long v_inodes(const struct acct_report *a) { return (long long)a->inodes; }

static const struct metric metrics[] = {
	{ "hindsight_stale", "1 if the newest snapshot is older than the account's max_age.",
	  READABLE, v_stale },
	{ "hindsight_failing", "1 if the last push attempt since the newest snapshot did not "
	  "complete and none is running.", READABLE, v_failing },
	{ "hindsight_snapshots", "Completed snapshots in the backup root.", READABLE,
	  v_snapshots },
	{ "hindsight_last_success_timestamp_seconds", "When the push that made the newest "
	  "snapshot finished, in seconds since the epoch.", WITH_SNAPSHOT, v_success },
	{ "hindsight_newest_snapshot_timestamp_seconds", "The newest snapshot's time (its "
	  "name, the UTC start of its push), in seconds since the epoch.", WITH_SNAPSHOT,
	  v_newest },
	{ "hindsight_max_age_seconds", "The account's max_age; 0: never stale.", READABLE,
	  v_max_age },
	{ "hindsight_push_in_progress", "1 while a push holds the account's lock.", READABLE,
	  v_running },
	{ "hindsight_last_push_timestamp_seconds", "When the last push attempt ended, in "
	  "seconds since the epoch.", WITH_LAST, v_last_end },
	{ "hindsight_last_push_success", "1 if the last push attempt published a snapshot.",
	  WITH_LAST, v_last_ok },
	{ "hindsight_last_push_exit_code", "The exit status of the last push attempt "
	  "(hindsight-server(8), EXIT STATUS).", WITH_LAST, v_last_exit },
	{ "hindsight_bytes", "Bytes the backup root holds on disk, every inode counted once.",
	  WITH_USAGE, v_bytes },
	{ "hindsight_inodes", "Inodes the backup root holds.", WITH_USAGE, v_inodes },
};

int write_prometheus(const char *file, const struct acct_report *a, size_t n, time_t now)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	family(&sb, "hindsight_status_timestamp_seconds",
	       "When hindsight-server status wrote this file, in seconds since the epoch.");
	sb_addf(&sb, "hindsight_status_timestamp_seconds %lld\n", (long long)now);
	family(&sb, "hindsight_state", "The account's state: 1 for the one it is in, 0 for "
	       "the others.");
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < sizeof(prom_states) / sizeof(prom_states[0]); s++) {
			sb_addstr(&sb, "hindsight_state");
			labels(&sb, &a[i]);
			sb_addf(&sb, ",state=\"%s\"} %d\n", prom_states[s],
				!strcmp(report_state(&a[i]), prom_states[s]));
		}
	for (size_t m = 0; m < sizeof(metrics) / sizeof(metrics[0]); m++) {
		size_t any = 0;
		for (size_t i = 0; i < n; i++)
			any += has(&a[i], metrics[m].has);
		if (!any)
			continue;
		family(&sb, metrics[m].name, metrics[m].help);
		for (size_t i = 0; i < n; i++)
			if (has(&a[i], metrics[m].has))
				sample(&sb, metrics[m].name, &a[i], metrics[m].value(&a[i]));
	}
	rc = replace_file(file, sb.buf, sb.len);
	sb_release(&sb);
	return rc;
}
