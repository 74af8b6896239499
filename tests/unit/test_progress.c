/*
 * Reading rsync back: its --info=progress2 lines and our bar, its --stats
 * block, and the one line that explains a failed backup from what rsync,
 * ssh and the server wrote on stderr (samples as they really come).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "outcome.h"
#include "progress.h"
#include "strbuf.h"
#include "util.h"

struct progress_row {
	const char *line;
	int ok;
	long long bytes;
	int percent;
	double rate;
	long long xfr, left, total;
	int scanning;
};

static const struct progress_row progress_rows[] = {
	{ "      1,200,000  20%    1.96MB/s    0:00:00 (xfr#4, to-chk=16/21)", 1,
	  1200000, 20, 1.96 * 1048576, 4, 16, 21, 0 },
	{ "         32,768   0%    0.00kB/s    0:00:00  ", 1, 32768, 0, 0, -1, 0, 0, 0 },
	{ "  6,000,000 100%  569.08MB/s    0:00:00 (xfr#20, to-chk=0/21) ", 1,
	  6000000, 100, 569.08 * 1048576, 20, 0, 21, 0 },
	{ "    123,456,789  45%   12.50MB/s    0:01:12 (xfr#1,234, ir-chk=1,000/5,678)", 1,
	  123456789, 45, 12.5 * 1048576, 1234, 1000, 5678, 1 },
	{ "        512   3%  512.00B/s    0:00:10", 1, 512, 3, 512, -1, 0, 0, 0 },
	{ "  1.234.567  50%    2,00GB/s    0:00:01 (xfr#2, to-chk=1/3)", 1,
	  1234567, 50, 2.0 * 1073741824, 2, 1, 3, 0 },
	{ "sending incremental file list", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "Number of files: 21 (reg: 20, dir: 1)", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "  100 101%  1.00kB/s  0:00:00", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ "  100  10%  1.00kB/s  0:00:00 (xfr#1, to-chk=1)", 0, 0, 0, 0, 0, 0, 0, 0 },
	{ ">f+++++++++ home/me/file", 0, 0, 0, 0, 0, 0, 0, 0 },
};

static void progress_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(progress_rows) / sizeof(progress_rows[0]); i++) {
		const struct progress_row *r = &progress_rows[i];
		struct progress p;
		int rc = progress_parse(r->line, &p);
		if (!r->ok) {
			if (rc != -1)
				fail_msg("'%s' parsed as progress", r->line);
			continue;
		}
		if (rc != 0)
			fail_msg("'%s' did not parse", r->line);
		assert_int_equal(p.bytes, r->bytes);
		assert_int_equal(p.percent, r->percent);
		assert_true(p.rate > r->rate - 1 && p.rate < r->rate + 1);
		assert_int_equal(p.xfr, r->xfr);
		assert_int_equal(p.left, r->left);
		assert_int_equal(p.total, r->total);
		assert_int_equal(p.scanning, r->scanning);
	}
}

static void the_bar(void **state)
{
	(void)state;
	struct progress p = { 1200000, 20, 2 * 1048576.0, 4, 16, 21, 0 };
	struct strbuf sb = STRBUF_INIT;

	progress_render(&p, 10.0, 79, &sb);
	assert_string_equal(sb.buf, " 20% [#######-------------------------------] 1.1M  2.0M/s  "
			    "ETA 40s  files 5/21");
	assert_true(sb.len <= 79);
	sb_reset(&sb);
	p.scanning = 1;
	progress_render(&p, 10.0, 79, &sb);
	assert_string_equal(sb.buf, " 20% [#######-----------------------------] 1.1M  2.0M/s  "
			    "scanning  files 5/21+");
	sb_reset(&sb);
	/* a narrow terminal: no bar, and the line never wraps */
	p.scanning = 0;
	progress_render(&p, 10.0, 30, &sb);
	assert_string_equal(sb.buf, " 20% 1.1M  2.0M/s  ETA 40s  fi");
	sb_reset(&sb);
	struct progress done = { 6000000, 100, 500 * 1048576.0, 20, 0, 21, 0 };
	progress_render(&done, 3.0, 79, &sb);
	assert_string_equal(sb.buf, "100% [########################################] 5.7M  "
			    "500M/s  files 21/21");
	sb_release(&sb);
}

static void stats_block(void **state)
{
	(void)state;
	static const char *const block[] = {
		"Number of files: 1,021 (reg: 1,000, dir: 21)",
		"Number of created files: 10 (reg: 10)",
		"Number of deleted files: 0",
		"Number of regular files transferred: 12",
		"Total file size: 6,000,000 bytes",
		"Total transferred file size: 345,678 bytes",
		"Literal data: 345,678 bytes",
		"Matched data: 0 bytes",
		"File list size: 0",
		"File list generation time: 0.001 seconds",
		"File list transfer time: 0.000 seconds",
		"Total bytes sent: 350,001",
		"Total bytes received: 399",
		"sent 350,001 bytes  received 399 bytes  12,006,046.00 bytes/sec",
		"total size is 6,000,000  speedup is 17.14 (DRY RUN)",
	};
	struct rsync_stats st = RSYNC_STATS_INIT;

	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		if (!stats_line(block[i], &st))
			fail_msg("not taken as a stats line: %s", block[i]);
	assert_int_equal(st.files, 1000);
	assert_int_equal(st.files_transferred, 12);
	assert_int_equal(st.total_size, 6000000);
	assert_int_equal(st.transferred_size, 345678);
	assert_int_equal(st.bytes_sent, 350001);
	assert_int_equal(stats_line(">f+++++++++ home/me/Number of files", &st), 0);
	assert_int_equal(stats_line("rsync: [sender] send_files failed", &st), 0);
}

static void durations(void **state)
{
	(void)state;
	char s[32];

	format_duration(0.1234, s, sizeof(s));
	assert_string_equal(s, "0.1s");
	format_duration(42, s, sizeof(s));
	assert_string_equal(s, "42s");
	format_duration(192, s, sizeof(s));
	assert_string_equal(s, "3m 12s");
	format_duration(3840, s, sizeof(s));
	assert_string_equal(s, "1h 04m");
	format_duration(3600, s, sizeof(s));
	assert_string_equal(s, "1h");
	format_duration(1800, s, sizeof(s));
	assert_string_equal(s, "30m");
}

struct explain_row {
	const char *name;
	int code;
	const char *stderr_text;
	const char *want;
};

static const struct explain_row explain_rows[] = {
	{ "refused: the server's reason", HS_EXIT_REFUSED,
	  "hindsight-server: refused: this key may only restore (serve --restore-only)\n"
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n"
	  "rsync error: error in rsync protocol data stream (code 12) at io.c(232) "
	  "[sender=3.2.7]\n",
	  "backup refused by the server: this key may only restore (serve --restore-only)" },
	{ "locked: since when, retry later", HS_EXIT_LOCKED,
	  "hindsight-server: backup already in progress since 2026-11-29T09:00:03Z; "
	  "retry later\n"
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n",
	  "backup not started: a backup to u@h: is already in progress since "
	  "2026-11-29T09:00:03Z; retry later" },
	{ "locked, without the server's line", HS_EXIT_LOCKED, "",
	  "backup not started: a backup to u@h: is already in progress; retry later" },
	{ "unreachable: ssh's own line", HS_EXIT_UNREACHABLE,
	  "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n"
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n"
	  "rsync error: unexplained error (code 255) at io.c(232) [sender=3.2.7]\n",
	  "cannot reach u@h: ssh: connect to host 127.0.0.1 port 1: Connection refused "
	  "(retry later)" },
	{ "unreachable: a key the server does not know", HS_EXIT_UNREACHABLE,
	  "u@h: Permission denied (publickey).\n"
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n",
	  "cannot reach u@h: u@h: Permission denied (publickey) (retry later)" },
	{ "unreachable: an unknown host key", HS_EXIT_UNREACHABLE,
	  "Host key verification failed.\n", "cannot reach u@h: Host key verification failed "
	  "(retry later)" },
	{ "unreachable with nothing said", HS_EXIT_UNREACHABLE, "",
	  "cannot reach u@h (retry later)" },
	{ "out of space", HS_EXIT_NOSPACE,
	  "rsync: [receiver] write failed on \"/x/inprogress/f\": No space left on device (28)\n"
	  "hindsight-server: push not completed (rsync exit 11, out of space); what arrived "
	  "is kept and the next push resumes from it\n",
	  "backup failed: out of space on u@h:; what arrived is kept and the next backup "
	  "resumes from it" },
	{ "out of space before it started: the server's reason", HS_EXIT_NOSPACE,
	  "hindsight-server: out of space in /srv/x: 1.0 GiB free, min_free needs 5.0 GiB (5%); "
	  "nothing else may be deleted\n"
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n",
	  "backup not started: out of space in /srv/x: 1.0 GiB free, min_free needs 5.0 GiB (5%); "
	  "nothing else may be deleted" },
	{ "interrupted", HS_EXIT_INTERRUPTED, "rsync error: received SIGINT\n",
	  "backup interrupted; what arrived is kept and the next backup resumes from it" },
	{ "no backup root", HS_EXIT_NOTFOUND,
	  "hindsight-server: cannot open backup root /srv/x: No such file or directory\n",
	  "backup failed: u@h:: cannot open backup root /srv/x: No such file or directory" },
	{ "any other failure: the server's line first", HS_EXIT_ERROR,
	  "rsync: something\nhindsight-server: cannot start /usr/bin/rsync: Permission denied\n",
	  "backup failed: cannot start /usr/bin/rsync: Permission denied" },
	{ "any other failure: rsync's most telling line", HS_EXIT_ERROR,
	  "rsync: connection unexpectedly closed (0 bytes received so far) [sender]\n"
	  "rsync: [sender] change_dir \"/x\" failed: Permission denied (13)\n"
	  "rsync error: some files could not be transferred (code 23)\n",
	  "backup failed: rsync: [sender] change_dir \"/x\" failed: Permission denied (13)" },
	{ "a last line without a newline still counts", HS_EXIT_REFUSED,
	  "hindsight-server: refused: --inplace would write into a snapshot",
	  "backup refused by the server: --inplace would write into a snapshot" },
};

static void explain(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(explain_rows) / sizeof(explain_rows[0]); i++) {
		const struct explain_row *r = &explain_rows[i];
		struct errlog e = ERRLOG_INIT;
		struct strbuf out = STRBUF_INIT;
		/* in two pieces, split mid-line, as a pipe may deliver it */
		size_t len = strlen(r->stderr_text), half = len / 2;
		errlog_feed(&e, r->stderr_text, half);
		errlog_feed(&e, r->stderr_text + half, len - half);
		errlog_finish(&e);
		explain_failure("backup", r->code, &e, "u@h:", &out);
		if (strcmp(out.buf, r->want))
			fail_msg("%s:\n got: %s\nwant: %s", r->name, out.buf, r->want);
		assert_null(strchr(out.buf, '\n'));
		errlog_free(&e);
		sb_release(&out);
	}
}

static void the_errlog_is_bounded(void **state)
{
	(void)state;
	struct errlog e = ERRLOG_INIT;
	struct strbuf big = STRBUF_INIT;

	for (int i = 0; i < 10000; i++)
		sb_addf(&big, "rsync: [sender] send_files failed to open \"/f%d\": "
			"Permission denied (13)\n", i);
	for (int i = 0; i < 100; i++)
		sb_addf(&big, "ssh line %d\n", i);
	for (int i = 0; i < 3000; i++)
		sb_addch(&big, 'x');
	sb_addch(&big, '\n');
	errlog_feed(&e, big.buf, big.len);
	errlog_finish(&e);
	assert_int_equal(e.rsync.n, ERRLOG_RSYNC_LINES);
	assert_int_equal(e.rsync_more, 10000 - ERRLOG_RSYNC_LINES);
	assert_int_equal(e.other.n, ERRLOG_OTHER_LINES);
	assert_string_equal(e.other.v[ERRLOG_OTHER_LINES - 2], "ssh line 99");
	assert_int_equal(strlen(e.other.v[ERRLOG_OTHER_LINES - 1]), ERRLOG_LINE_MAX);
	errlog_free(&e);
	sb_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(progress_lines),
		cmocka_unit_test(the_bar),
		cmocka_unit_test(stats_block),
		cmocka_unit_test(durations),
		cmocka_unit_test(explain),
		cmocka_unit_test(the_errlog_is_bounded),
	};
	return cmocka_run_group_tests_name("progress, stats and failures", tests, NULL, NULL);
}
