/*
 * `hindsight-server status [--json] [--prometheus FILE] [--no-usage]
 * [--now T] [--config FILE] [--root DIR]...`: every account at a glance.
 * The roots are those under base (server.conf) and any --root. For each:
 * its state (acctstate.h), newest snapshot and its age, snapshot count,
 * how the last push attempt ended, and the bytes the root holds (one walk
 * of the whole root: --no-usage skips it). Exit 1 when an account is
 * stale or failing, or a root cannot be read, so a monitoring check can
 * run it as it is. Reads only; takes no lock.
 */
#include "server.h"
#include "query.h"
#include "status.h"
#include "../lib/age.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/names.h"
#include "../lib/prune.h"
#include "../lib/root.h"
#include "../lib/timespec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *report_state(const struct acct_report *a)
{
	return a->error ? "error" : acct_state_name(a->v.state);
}

int report_alarming(const struct acct_report *a)
{
	return a->error || a->v.stale || a->v.failing;
}

static void gather_one(const char *path, const struct srvconf *c, const struct status_opts *o,
		       struct acct_report *a)
{
	struct root r;
	struct snaplist l;
	struct acct_conf conf;
	struct acct_facts f;
	struct snapmeta m;
	int rc;

	memset(a, 0, sizeof(*a));
	a->root = xstrdup(path);
	rc = root_open(path, 0, &r);
	if (rc < 0) {
		const char *slash = strrchr(path, '/');
		snprintf(a->account, sizeof(a->account), "%s", slash ? slash + 1 : path);
		a->error = rc == -ENOENT ? "no such directory" : "cannot open the root";
		a->notfound = rc == -ENOENT;
		return;
	}
	srvconf_account_of(r.fd, r.path, a->account, sizeof(a->account));
	srvconf_account(c, a->account, &conf);
	a->max_age = conf.max_age;
	if (root_snapshots(r.fd, &l) < 0) {
		a->error = "cannot list its snapshots";
		root_close(&r);
		return;
	}
	memset(&f, 0, sizeof(f));
	a->snapshots = f.snapshots = l.n;
	if (l.n) {
		memcpy(a->newest, l.names[l.n - 1], SNAPNAME_SIZE);
		snapname_parse(a->newest, &a->newest_t);
		a->last_success = f.newest = f.newest_start = a->newest_t;
		if (root_read_meta(&r, a->newest, &m) == 0) {
			f.newest_start = m.start;
			a->last_success = m.end ? m.end : a->newest_t;
			a->newest_with_errors = m.rsync_exit == 23;
		}
	}
	if (o->per_snapshot && l.n) {
		a->snap_t = xcalloc(l.n, sizeof(*a->snap_t));
		a->snap_errors = xcalloc(l.n, 1);
		for (size_t i = 0; i < l.n; i++) {
			snapname_parse(l.names[i], &a->snap_t[i]);
			a->snap_errors[i] = root_read_meta(&r, l.names[i], &m) == 0 &&
					    m.rsync_exit == 23;
		}
	}
	snaplist_free(&l);
	a->have_last = f.have_last = lastpush_read(&r, &a->last) == 0;
	f.last_failed = a->have_last && a->last.result == PUSH_FAILED;
	f.last_start = a->last.start;
	a->in_progress = f.in_progress = push_holder(&r, &a->pid, &a->since);
	a->left_inprogress = f.left_inprogress = root_left_inprogress(&r);
	f.max_age = conf.max_age;
	acct_decide(&f, o->now, &a->v);
	if (o->usage)
		a->have_usage = root_usage(r.fd, &a->bytes, &a->inodes) == 0;
	root_close(&r);
}

/* Is path's directory already among the first n reports? */
static int seen_root(const struct acct_report *a, size_t n, const char *path)
{
	struct stat st, other;

	if (stat(path, &st) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (stat(a[i].root, &other) == 0 && other.st_dev == st.st_dev &&
		    other.st_ino == st.st_ino)
			return 1;
	return 0;
}

int status_gather_all(const struct status_opts *o, struct acct_report **out, size_t *n)
{
	struct srvconf c;
	struct argv roots = ARGV_INIT;
	struct stat st;
	int code;

	*out = NULL;
	*n = 0;
	if ((code = load_conf(o->config, &c)) != HS_EXIT_OK)
		return code;
	/* a missing base is news only when it was to be the only source */
	if (stat(c.base, &st) == 0 || !o->roots.n) {
		code = roots_under(c.base, 1, &roots);
		if (code != HS_EXIT_OK && !o->roots.n) {
			srvconf_free(&c);
			argv_clear(&roots);
			return code;
		}
	}
	for (size_t i = 0; i < o->roots.n; i++)
		argv_push(&roots, o->roots.v[i]);
	struct acct_report *a = xcalloc(roots.n ? roots.n : 1, sizeof(*a));
	size_t k = 0;
	for (size_t i = 0; i < roots.n; i++)
		if (!seen_root(a, k, roots.v[i]))
			gather_one(roots.v[i], &c, o, &a[k++]);
	srvconf_free(&c);
	argv_clear(&roots);
	*out = a;
	*n = k;
	return HS_EXIT_OK;
}

void status_free_all(struct acct_report *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].root);
		free(a[i].snap_t);
		free(a[i].snap_errors);
	}
	free(a);
}

int status_common_opt(int ch, const char *arg, struct status_opts *o)
{
	char why[TIMESPEC_WHY_SIZE];

	switch (ch) {
	case 'r':
		if (arg[0] != '/') {
			fprintf(stderr, "hindsight-server: --root must be an absolute path: %s\n", arg);
			return HS_EXIT_USAGE;
		}
		argv_push(&o->roots, arg);
		return 0;
	case 'C':
		o->config = arg;
		return 0;
	case 't':
		if (parse_time_expr(arg, time(NULL), &o->now, why, sizeof(why)) < 0) {
			fprintf(stderr, "hindsight-server: --now: %s\n", why);
			return HS_EXIT_USAGE;
		}
		return 0;
	case 'U':
		o->usage = 0;
		return 0;
	default:
		return -1;
	}
}

int replace_file(const char *path, const char *data, size_t len)
{
	const char *slash = strrchr(path, '/');
	struct strbuf dir = STRBUF_INIT;
	int rc;

	if (slash)
		sb_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		sb_addch(&dir, '.');
	int dfd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	sb_release(&dir);
	if (dfd < 0)
		return -errno;
	rc = write_file_atomic_mode(dfd, slash ? slash + 1 : path, data, len, 0644);
	close(dfd);
	return rc;
}

/* ---------------------------------------------------------------- text */

static void display(struct strbuf *sb, const char *s)
{
	name_display(sb, s, strlen(s));
}

void status_last_push(const struct acct_report *a, time_t now, struct strbuf *out)
{
	char ago[32];

	if (!a->have_last) {
		/* pushes from before last_push.json existed: the newest snapshot says it */
		if (a->snapshots)
			sb_addstr(out, a->newest_with_errors ? "with errors" : "complete");
		else
			sb_addstr(out, "-");
		return;
	}
	format_age((long long)(now - a->last.end), ago, sizeof(ago));
	sb_addf(out, "%s %s ago", push_result_name(a->last.result), ago);
	if (a->last.result == PUSH_FAILED)
		sb_addf(out, " (exit %d)", a->last.exit);
}

static void print_table(const struct acct_report *a, size_t n, time_t now, int usage)
{
	size_t w = strlen("ACCOUNT");
	struct strbuf *names = xcalloc(n ? n : 1, sizeof(*names));

	for (size_t i = 0; i < n; i++) {
		sb_init(&names[i]);
		display(&names[i], a[i].account);
		if (names[i].len > w)
			w = names[i].len;
	}
	printf("%-*s  %-11s  %-19s  %-8s  %9s  %-26s%s\n", (int)w, "ACCOUNT", "STATE",
	       "LAST SNAPSHOT", "AGE", "SNAPSHOTS", "LAST PUSH", usage ? "  USED" : "");
	for (size_t i = 0; i < n; i++) {
		struct strbuf last = STRBUF_INIT;
		char age[32] = "-", used[32] = "-";
		if (a[i].snapshots)
			format_age(a[i].v.age, age, sizeof(age));
		if (a[i].have_usage)
			format_bytes(a[i].bytes, used, sizeof(used));
		if (a[i].error)
			sb_addstr(&last, "-");
		else
			status_last_push(&a[i], now, &last);
		printf("%-*s  %-11s  %-19s  %-8s  %9zu  %-26s%s%s\n", (int)w, names[i].buf,
		       report_state(&a[i]), a[i].snapshots ? a[i].newest : "-", age,
		       a[i].snapshots, last.buf, usage ? "  " : "", usage ? used : "");
		sb_release(&last);
	}
	/* then why, for each account that wants attention */
	for (size_t i = 0; i < n; i++) {
		struct strbuf root = STRBUF_INIT, msg = STRBUF_INIT;
		char max[32], when[32];
		display(&root, a[i].root);
		if (a[i].error) {
			printf("%s: %s: %s\n", names[i].buf, root.buf, a[i].error);
		} else {
			if (a[i].v.failing && a[i].have_last && a[i].last.result == PUSH_FAILED) {
				format_iso_utc(a[i].last.start, when);
				display(&msg, a[i].last.message);
				printf("%s: failing: the push at %s ended with exit %d: %s\n",
				       names[i].buf, when, a[i].last.exit, msg.buf);
			} else if (a[i].v.failing) {
				printf("%s: failing: a push was cut off and left %s/" HS_INPROGRESS
				       " (the next push resumes from it)\n", names[i].buf, root.buf);
			}
			if (a[i].v.stale) {
				format_duration(a[i].max_age, max, sizeof(max));
				printf("%s: stale: the newest snapshot is older than max_age %s\n",
				       names[i].buf, max);
			}
		}
		sb_release(&root);
		sb_release(&msg);
	}
	for (size_t i = 0; i < n; i++)
		sb_release(&names[i]);
	free(names);
}

/* ---------------------------------------------------------------- JSON */

static json_t *opt_int(int have, long long v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

static json_t *account_json(const struct acct_report *a)
{
	json_t *o = json_object();

	json_set_name(o, "account", a->account, strlen(a->account));
	json_set_name(o, "root", a->root, strlen(a->root));
	json_object_set_new(o, "state", json_string(report_state(a)));
	if (a->error) {
		json_object_set_new(o, "error", json_string(a->error));
		return o;
	}
	json_object_set_new(o, "stale", json_boolean(a->v.stale));
	json_object_set_new(o, "failing", json_boolean(a->v.failing));
	json_object_set_new(o, "max_age", opt_int(a->max_age > 0, a->max_age));
	json_object_set_new(o, "snapshots", json_integer((json_int_t)a->snapshots));
	json_object_set_new(o, "newest", a->snapshots ? json_string(a->newest) : json_null());
	json_object_set_new(o, "newest_epoch", opt_int(a->snapshots != 0, a->newest_t));
	json_object_set_new(o, "age_seconds", opt_int(a->snapshots != 0, a->v.age));
	json_object_set_new(o, "last_success_epoch", opt_int(a->snapshots != 0, a->last_success));
	json_object_set_new(o, "in_progress", a->in_progress ?
			    json_pack("{s:I, s:I}", "pid", (json_int_t)a->pid,
				      "since", (json_int_t)a->since) : json_null());
	json_object_set_new(o, "interrupted_tree", json_boolean(a->left_inprogress &&
								 !a->in_progress));
	if (a->have_last) {
		json_t *l = json_pack("{s:I, s:I, s:s, s:i}", "start_epoch", (json_int_t)a->last.start,
				      "end_epoch", (json_int_t)a->last.end,
				      "result", push_result_name(a->last.result), "exit", a->last.exit);
		json_object_set_new(l, "rsync_exit", opt_int(a->last.rsync_exit >= 0,
							     a->last.rsync_exit));
		json_object_set_new(l, "snapshot", a->last.snapshot[0] ?
				    json_string(a->last.snapshot) : json_null());
		json_set_name(l, "message", a->last.message, strlen(a->last.message));
		json_object_set_new(o, "last_push", l);
	} else {
		json_object_set_new(o, "last_push", json_null());
	}
	json_object_set_new(o, "bytes", opt_int(a->have_usage, (long long)a->bytes));
	json_object_set_new(o, "inodes", opt_int(a->have_usage, (long long)a->inodes));
	return o;
}

static int print_json(const struct acct_report *a, size_t n, time_t now)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, account_json(&a[i]));
	json_t *top = json_pack("{s:i, s:s, s:I, s:o}", "protocol", 1, "verb", "status",
				"now", (json_int_t)now, "accounts", arr);
	return emit_json(top);
}

/* ---------------------------------------------------------------- the verb */

static const char status_usage[] =
	"usage: hindsight-server status [--json] [--prometheus FILE] [--no-usage] [--now TIME]\n"
	"                               [--config FILE] [--root DIR]...\n";

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		STATUS_COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts o = { .now = time(NULL), .config = getenv("HINDSIGHT_SERVER_CONF"),
				 .roots = ARGV_INIT, .usage = 1 };
	const char *prom = NULL;
	struct acct_report *a;
	size_t n;
	int ch, json = 0, code = HS_EXIT_OK;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		int rc = status_common_opt(ch, optarg, &o);
		if (rc > 0) {
			argv_clear(&o.roots);
			return rc;
		}
		if (rc == 0)
			continue;
		switch (ch) {
		case 'j': json = 1; break;
		case 'P': prom = optarg; break;
		case 'h': fputs(status_usage, stdout); argv_clear(&o.roots); return HS_EXIT_OK;
		default: fputs(status_usage, stderr); argv_clear(&o.roots); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(status_usage, stderr);
		argv_clear(&o.roots);
		return HS_EXIT_USAGE;
	}
	code = status_gather_all(&o, &a, &n);
	argv_clear(&o.roots);
	if (code != HS_EXIT_OK)
		return code;
	if (prom) {
		int rc = write_prometheus(prom, a, n, o.now);
		if (rc < 0) {
			fprintf(stderr, "hindsight-server: cannot write %s: %s\n", prom, strerror(-rc));
			code = HS_EXIT_ERROR;
		}
	}
	if (json) {
		if (print_json(a, n, o.now) != HS_EXIT_OK)
			code = HS_EXIT_ERROR;
	} else {
		print_table(a, n, o.now, o.usage);
	}
	int notfound = 0, alarm = 0;
	for (size_t i = 0; i < n; i++) {
		notfound |= a[i].notfound;
		alarm |= report_alarming(&a[i]);
	}
	status_free_all(a, n);
	if (code == HS_EXIT_OK)
		code = notfound ? HS_EXIT_NOTFOUND : alarm ? HS_EXIT_ERROR : HS_EXIT_OK;
	return code;
}
