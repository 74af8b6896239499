/*
 * `hindsight-server report --html FILE [--span DURATION] [--no-usage]
 * [--now T] [--config FILE] [--root DIR]...`: one self-contained HTML page
 * for people: the status table, then per account a timeline (inline SVG)
 * of the last --span (default 30d) showing every snapshot, the gaps
 * longer than the account's max_age, a push running now and a failed last
 * attempt. No script, no stylesheet, font or image from anywhere: the
 * page can be mailed or opened offline. The file is replaced atomically,
 * mode 0644. Exit 0 when it was written, whatever the accounts' states
 * (status is the check); 1 if it could not be written.
 */
#include "server.h"
#include "status.h"
#include "../lib/age.h"
#include "../lib/escape.h"
#include "../lib/exitcodes.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W 1000      /* the timeline's user units across */
#define TRACK_Y 8
#define TRACK_H 30

static const char style[] =
	"body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em;"
	"color:#222;background:#fff}\n"
	"h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.2em;margin:1.5em 0 .5em}"
	"h3{font-size:1em;margin:1.2em 0 .3em}\n"
	"p.meta{color:#555;margin:0 0 1em}\n"
	"table.status{border-collapse:collapse;width:100%}\n"
	"table.status th,table.status td{text-align:left;padding:.35em .7em;"
	"border-bottom:1px solid #ddd;white-space:nowrap}\n"
	"table.status td.num{text-align:right}\n"
	"table.status th{background:#f4f4f4}\n"
	".badge{display:inline-block;padding:.1em .6em;border-radius:.8em;font-size:.85em;"
	"font-weight:600}\n"
	".s-ok{background:#d9f2dd;color:#17602a}.s-stale{background:#fde7c8;color:#8a4b00}\n"
	".s-failing,.s-error{background:#f9d3d3;color:#8f1d1d}"
	".s-in-progress{background:#d6e6fb;color:#174a8f}.s-never{background:#e6e6e6;color:#444}\n"
	"p.why{margin:.2em 0;color:#8f1d1d}\n"
	"svg.timeline{display:block;width:100%;height:auto;max-width:1100px}\n"
	"svg .track{fill:#f4f4f4;stroke:#ccc}svg .grid{stroke:#ddd}"
	"svg .week{stroke:#aaa}\n"
	"svg .snap{fill:#2e8b57}svg .snap.errors{fill:#d18b00}"
	"svg .gap{fill:#e0525233}svg .running{fill:#3b7dd855}\n"
	"svg .failed{fill:#c62828}svg .now{stroke:#222;stroke-dasharray:3 2}\n"
	"svg text{font-size:11px;fill:#555}\n"
	".legend svg{vertical-align:middle}.legend span{margin-right:1.2em}\n";

static void esc(struct strbuf *sb, const char *s)
{
	html_escape(sb, s, strlen(s));
}

static double x_of(time_t t, time_t t0, long long span)
{
	double x = (double)(t - t0) * W / (double)span;
	return x < 0 ? 0 : x > W ? W : x;
}

static void iso_day(time_t t, char out[16])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 16, "%m-%d", &tm))
		snprintf(out, 16, "?");
}

/* Lines each UTC midnight, labelled each Monday (or each day for short spans). */
static void grid(struct strbuf *sb, time_t t0, time_t now, long long span)
{
	time_t day = t0 - t0 % 86400 + 86400;
	int every_day = span <= 14 * 86400LL;

	for (; day < now; day += 86400) {
		struct tm tm;
		char label[16];
		double x = x_of(day, t0, span);
		int week = gmtime_r(&day, &tm) && tm.tm_wday == 1;
		sb_addf(sb, "<line class=\"%s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>",
			week ? "week" : "grid", x, TRACK_Y, x, TRACK_Y + TRACK_H);
		/* a label centred on an edge would be cut in half */
		if ((week || every_day) && x > 20 && x < W - 20) {
			iso_day(day, label);
			sb_addf(sb, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>", x,
				TRACK_Y + TRACK_H + 14, label);
		}
	}
}

static void span_rect(struct strbuf *sb, const char *cls, time_t a, time_t b, time_t t0,
		      long long span, const char *title)
{
	double xa = x_of(a, t0, span), xb = x_of(b, t0, span);

	sb_addf(sb, "<rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\">"
		"<title>%s</title></rect>", cls, xa, TRACK_Y, xb - xa < 1 ? 1 : xb - xa, TRACK_H,
		title);
}

/* A gap from a to b: longer than the account's threshold. */
static void gap(struct strbuf *sb, time_t a, time_t b, time_t t0, long long span)
{
	char len[32], from[32], to[32], title[128];

	format_age((long long)(b - a), len, sizeof(len));
	format_iso_utc(a, from);
	format_iso_utc(b, to);
	snprintf(title, sizeof(title), "no snapshot for %s, %s to %s", len, from, to);
	span_rect(sb, "gap", a < t0 ? t0 : a, b, t0, span, title);
}

static void timeline(struct strbuf *sb, const struct acct_report *a, time_t now,
		     long long span)
{
	time_t t0 = now - (time_t)span;
	/* what counts as a gap: max_age, or a day and two hours where there is none */
	long long thr = a->max_age > 0 ? a->max_age : 26 * 3600LL;
	size_t before = 0;
	char when[32];

	sb_addstr(sb, "<svg class=\"timeline\" data-account=\"");
	esc(sb, a->account);
	sb_addf(sb, "\" viewBox=\"0 0 %d %d\" "
		"role=\"img\" aria-label=\"snapshots of ", W, TRACK_Y + TRACK_H + 20);
	esc(sb, a->account);
	sb_addstr(sb, "\">");
	sb_addf(sb, "<rect class=\"track\" x=\"0\" y=\"%d\" width=\"%d\" height=\"%d\"/>",
		TRACK_Y, W, TRACK_H);
	grid(sb, t0, now, span);
	for (size_t i = 0; i < a->snapshots && a->snap_t; i++) {
		time_t prev = i ? a->snap_t[i - 1] : 0;
		if (a->snap_t[i] < t0) {
			before++;
			continue;
		}
		if (i && a->snap_t[i] - prev > thr)
			gap(sb, prev, a->snap_t[i], t0, span);
	}
	if (a->snapshots && a->snap_t && now - a->snap_t[a->snapshots - 1] > thr)
		gap(sb, a->snap_t[a->snapshots - 1], now, t0, span);
	for (size_t i = before; i < a->snapshots && a->snap_t; i++) {
		if (a->snap_t[i] > now)
			break;
		double x = x_of(a->snap_t[i], t0, span);
		format_iso_utc(a->snap_t[i], when);
		sb_addf(sb, "<rect class=\"snap%s\" x=\"%.1f\" y=\"%d\" width=\"2\" height=\"%d\">"
			"<title>%s%s</title></rect>", a->snap_errors[i] ? " errors" : "",
			x > W - 2 ? W - 2 : x, TRACK_Y, TRACK_H, when,
			a->snap_errors[i] ? " (with errors)" : "");
	}
	if (a->in_progress && a->since) {
		format_iso_utc(a->since, when);
		char title[64];
		snprintf(title, sizeof(title), "a push running since %s", when);
		span_rect(sb, "running", a->since, now, t0, span, title);
	}
	if (a->have_last && a->last.result == PUSH_FAILED && a->last.end >= t0 &&
	    !a->in_progress) {
		double x = x_of(a->last.end, t0, span);
		format_iso_utc(a->last.end, when);
		sb_addf(sb, "<path class=\"failed\" d=\"M%.1f %d l5 -8 h-10 z\"><title>push failed "
			"at %s (exit %d)</title></path>", x, TRACK_Y, when, a->last.exit);
	}
	sb_addf(sb, "<line class=\"now\" x1=\"%d\" y1=\"2\" x2=\"%d\" y2=\"%d\"/>", W - 1, W - 1,
		TRACK_Y + TRACK_H + 4);
	sb_addstr(sb, "</svg>\n");
	if (!a->snapshots) {
		sb_addstr(sb, "<p class=\"meta\">No snapshot yet.</p>\n");
	} else if (before) {
		format_iso_utc(a->snap_t[0], when);
		sb_addf(sb, "<p class=\"meta\">%zu older snapshot%s, from %s.</p>\n", before,
			before == 1 ? "" : "s", when);
	}
}

static void badge(struct strbuf *sb, const char *state)
{
	sb_addstr(sb, "<span class=\"badge s-");
	for (const char *p = state; *p; p++)
		sb_addch(sb, *p == ' ' ? '-' : *p);
	sb_addf(sb, "\">%s</span>", state);
}

static void table(struct strbuf *sb, const struct acct_report *a, size_t n, time_t now,
		  int usage)
{
	sb_addstr(sb, "<table class=\"status\">\n<thead><tr><th>Account</th><th>State</th>"
		  "<th>Last snapshot</th><th>Age</th><th>Snapshots</th><th>Last push</th>");
	sb_addstr(sb, usage ? "<th>Used</th></tr></thead>\n<tbody>\n" : "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		struct strbuf last = STRBUF_INIT;
		char age[32] = "-", used[32] = "-";
		if (a[i].snapshots)
			format_age(a[i].v.age, age, sizeof(age));
		if (a[i].have_usage)
			format_bytes(a[i].bytes, used, sizeof(used));
		if (a[i].error)
			sb_addstr(&last, a[i].error);
		else
			status_last_push(&a[i], now, &last);
		sb_addf(sb, "<tr><td><a href=\"#acct-%zu\">", i);
		esc(sb, a[i].account);
		sb_addstr(sb, "</a></td><td>");
		badge(sb, report_state(&a[i]));
		sb_addf(sb, "</td><td>%s</td><td>%s</td><td class=\"num\">%zu</td><td>",
			a[i].snapshots ? a[i].newest : "-", age, a[i].snapshots);
		esc(sb, last.buf);
		sb_addstr(sb, "</td>");
		if (usage)
			sb_addf(sb, "<td class=\"num\">%s</td>", used);
		sb_addstr(sb, "</tr>\n");
		sb_release(&last);
	}
	sb_addstr(sb, "</tbody>\n</table>\n");
}

static void legend(struct strbuf *sb)
{
	static const struct { const char *cls, *what; } items[] = {
		{ "snap", "snapshot" }, { "snap errors", "snapshot with errors" },
		{ "gap", "gap longer than max_age" }, { "running", "push running" },
	};

	sb_addstr(sb, "<p class=\"legend\">");
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++)
		sb_addf(sb, "<span><svg width=\"14\" height=\"12\"><rect class=\"%s\" width=\"14\" "
			"height=\"12\"/></svg> %s</span>", items[i].cls, items[i].what);
	sb_addstr(sb, "<span><svg width=\"14\" height=\"12\"><path class=\"failed\" "
		  "d=\"M7 12 l5 -10 h-10 z\"/></svg> last push failed</span></p>\n");
}

static void page(struct strbuf *sb, const struct acct_report *a, size_t n, time_t now,
		 long long span, int usage)
{
	char when[32], spanfmt[32];
	size_t count[ACCT_NSTATES + 1] = { 0 };

	format_iso_utc(now, when);
	sb_addf(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		"<title>hindsight: %zu account%s at %s</title>\n<style>\n%s</style>\n</head>\n"
		"<body>\n<h1>hindsight backups</h1>\n", n, n == 1 ? "" : "s", when, style);
	for (size_t i = 0; i < n; i++)
		count[a[i].error ? ACCT_NSTATES : a[i].v.state]++;
	sb_addf(sb, "<p class=\"meta\">%s: %zu account%s", when, n, n == 1 ? "" : "s");
	for (int s = 0; s <= ACCT_NSTATES; s++)
		if (count[s])
			sb_addf(sb, ", %zu %s", count[s],
				s == ACCT_NSTATES ? "error" : acct_state_name((enum acct_state)s));
	sb_addstr(sb, ".</p>\n");
	table(sb, a, n, now, usage);
	for (size_t i = 0; i < n; i++) {
		if (!report_alarming(&a[i]))
			continue;
		sb_addstr(sb, "<p class=\"why\">");
		esc(sb, a[i].account);
		if (a[i].error) {
			sb_addstr(sb, ": ");
			esc(sb, a[i].error);
		} else if (a[i].v.failing && a[i].have_last && a[i].last.result == PUSH_FAILED) {
			sb_addf(sb, ": the last push ended with exit %d: ", a[i].last.exit);
			esc(sb, a[i].last.message);
		} else if (a[i].v.failing) {
			sb_addstr(sb, ": a push was cut off; the next one resumes from what arrived");
		} else {
			format_duration(a[i].max_age, spanfmt, sizeof(spanfmt));
			sb_addf(sb, ": the newest snapshot is older than max_age %s", spanfmt);
		}
		sb_addstr(sb, "</p>\n");
	}
	format_duration(span, spanfmt, sizeof(spanfmt));
	sb_addf(sb, "<h2>Timelines: the last %s (UTC)</h2>\n", spanfmt);
	legend(sb);
	for (size_t i = 0; i < n; i++) {
		sb_addf(sb, "<section class=\"account\" id=\"acct-%zu\">\n<h3>", i);
		esc(sb, a[i].account);
		sb_addstr(sb, " ");
		badge(sb, report_state(&a[i]));
		sb_addstr(sb, " <small>");
		esc(sb, a[i].root);
		sb_addstr(sb, "</small></h3>\n");
		timeline(sb, &a[i], now, span);
		sb_addstr(sb, "</section>\n");
	}
	sb_addstr(sb, "</body>\n</html>\n");
}

static const char report_usage[] =
	"usage: hindsight-server report --html FILE [--span DURATION] [--no-usage] [--now TIME]\n"
	"                               [--config FILE] [--root DIR]...\n";

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		STATUS_COMMON_LONGOPTS,
		{ "html", required_argument, NULL, 'H' },
		{ "span", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_opts o = { .now = time(NULL), .config = getenv("HINDSIGHT_SERVER_CONF"),
				 .roots = ARGV_INIT, .usage = 1, .per_snapshot = 1 };
	const char *html = NULL;
	long long span = 30 * 86400LL;
	struct acct_report *a;
	size_t n;
	int ch, code;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		int rc = status_common_opt(ch, optarg, &o);
		if (rc > 0) {
			argv_clear(&o.roots);
			return rc;
		}
		if (rc == 0)
			continue;
		switch (ch) {
		case 'H': html = optarg; break;
		case 'S':
			if (parse_duration(optarg, &span) < 0 || span < 3600 ||
			    span > 3660 * 86400LL) {
				fprintf(stderr, "hindsight-server: --span: \"%s\" is not a duration from "
					"1h to 10 years (e.g. 30d, 2w)\n", optarg);
				argv_clear(&o.roots);
				return HS_EXIT_USAGE;
			}
			break;
		case 'h': fputs(report_usage, stdout); argv_clear(&o.roots); return HS_EXIT_OK;
		default: fputs(report_usage, stderr); argv_clear(&o.roots); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc || !html) {
		fputs(report_usage, stderr);
		argv_clear(&o.roots);
		return HS_EXIT_USAGE;
	}
	code = status_gather_all(&o, &a, &n);
	argv_clear(&o.roots);
	if (code != HS_EXIT_OK)
		return code;
	struct strbuf sb = STRBUF_INIT;
	page(&sb, a, n, o.now, span, o.usage);
	int rc = replace_file(html, sb.buf, sb.len);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: cannot write %s: %s\n", html, strerror(-rc));
		code = HS_EXIT_ERROR;
	}
	sb_release(&sb);
	status_free_all(a, n);
	return code;
}
