/*
 * The client's config file: good files and what they set, bad files and
 * the exact error lines (file:line: message) they give, one row each; and
 * the duration grammar of `interval`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "strbuf.h"
#include "util.h"

#define HOME "/home/me"

/* Everything a config holds, in one line, for comparing with a row. */
static char *render(const struct config *c)
{
	struct strbuf sb = STRBUF_INIT;

	sb_addf(&sb, "repo=%s", c->repo ? c->repo : "-");
	sb_addstr(&sb, " sources=");
	for (size_t i = 0; i < c->sources.n; i++)
		sb_addf(&sb, "%s%s@%d", i ? "," : "", c->sources.v[i], c->source_line[i]);
	if (!c->sources.n)
		sb_addch(&sb, '-');
	sb_addf(&sb, " ssh_command=%s ssh_key=%s ssh_options=%s exclude_file=%s bwlimit=%s",
		c->ssh_command ? c->ssh_command : "-", c->ssh_key ? c->ssh_key : "-",
		c->ssh_options ? c->ssh_options : "-", c->exclude_file ? c->exclude_file : "-",
		c->bwlimit ? c->bwlimit : "-");
	sb_addf(&sb, " nice=%d ionice=%d:%d interval=%lld on_battery=%s", c->nice,
		c->ionice_class, c->ionice_level, c->interval, c->on_battery_skip ? "skip" : "run");
	return sb_detach(&sb);
}

#define DEFAULTS_TAIL "nice=10 ionice=2:7 interval=3600 on_battery=skip"
#define NOSSH "ssh_command=- ssh_key=- ssh_options=- exclude_file=- bwlimit=-"

struct good_row {
	const char *name;
	const char *text;
	const char *want;
};

static const struct good_row good_rows[] = {
	{ "an empty file gives the defaults", "",
	  "repo=- sources=- " NOSSH " " DEFAULTS_TAIL },
	{ "comments and blank lines only",
	  "# hindsight\n\n; another comment\n   \n\t# indented comment\n",
	  "repo=- sources=- " NOSSH " " DEFAULTS_TAIL },
	{ "a remote repo and two sources on their own lines",
	  "repo = laptop@backup.example.org:\nsources = /home/me\nsources = /etc\n",
	  "repo=laptop@backup.example.org: sources=/home/me@2,/etc@3 " NOSSH " " DEFAULTS_TAIL },
	{ "sources continued on indented lines",
	  "sources = /home/me\n    /etc\n\t/srv/data\nnice = 5\n",
	  "repo=- sources=/home/me@1,/etc@2,/srv/data@3 " NOSSH
	  " nice=5 ionice=2:7 interval=3600 on_battery=skip" },
	{ "~/ paths are taken from the home directory",
	  "sources = ~/\nsources = ~/Documents\nssh_key = ~/.config/hindsight/id_ed25519\n"
	  "exclude_file = ~/.config/hindsight/excludes\n",
	  "repo=- sources=/home/me@1,/home/me/Documents@2 ssh_command=- "
	  "ssh_key=/home/me/.config/hindsight/id_ed25519 ssh_options=- "
	  "exclude_file=/home/me/.config/hindsight/excludes bwlimit=- " DEFAULTS_TAIL },
	{ "a local repo is an absolute directory", "repo = /mnt/backup/laptop\n",
	  "repo=/mnt/backup/laptop sources=- " NOSSH " " DEFAULTS_TAIL },
	{ "a host without a user", "repo = backupserver:\n",
	  "repo=backupserver: sources=- " NOSSH " " DEFAULTS_TAIL },
	{ "every key at once",
	  "repo = u@h:\nssh_command = ssh -F /etc/hindsight/ssh_config\n"
	  "ssh_key = /etc/hindsight/id_ed25519\nssh_options = -p 2222 -o ConnectTimeout=20\n"
	  "sources = /\nexclude_file = /etc/hindsight/excludes\nbwlimit = 5M\nnice = 19\n"
	  "ionice = idle\ninterval = 30m\non_battery = run\n",
	  "repo=u@h: sources=/@5 ssh_command=ssh -F /etc/hindsight/ssh_config "
	  "ssh_key=/etc/hindsight/id_ed25519 ssh_options=-p 2222 -o ConnectTimeout=20 "
	  "exclude_file=/etc/hindsight/excludes bwlimit=5M nice=19 ionice=3:0 interval=1800 "
	  "on_battery=run" },
	{ "spaces around = are optional, and a : works as well",
	  "repo=u@h:\nnice:3\ninterval   =   2h\n",
	  "repo=u@h: sources=- " NOSSH " nice=3 ionice=2:7 interval=7200 on_battery=skip" },
	{ "an inline comment after ' ;' is dropped", "nice = 4 ; lower than the default\n",
	  "repo=- sources=- " NOSSH " nice=4 ionice=2:7 interval=3600 on_battery=skip" },
	{ "CRLF line ends", "nice = 0\r\ninterval = daily\r\n",
	  "repo=- sources=- " NOSSH " nice=0 ionice=2:7 interval=86400 on_battery=skip" },
	{ "a UTF-8 byte order mark", "\xef\xbb\xbfnice = 1\n",
	  "repo=- sources=- " NOSSH " nice=1 ionice=2:7 interval=3600 on_battery=skip" },
	{ "no newline at the end", "nice = 2",
	  "repo=- sources=- " NOSSH " nice=2 ionice=2:7 interval=3600 on_battery=skip" },
	{ "best-effort with a level", "ionice = best-effort:4\n",
	  "repo=- sources=- " NOSSH " nice=10 ionice=2:4 interval=3600 on_battery=skip" },
	{ "ionice none leaves the I/O class alone", "ionice = none\n",
	  "repo=- sources=- " NOSSH " nice=10 ionice=0:0 interval=3600 on_battery=skip" },
	{ "bwlimit 0 (no limit) and fractions",
	  "bwlimit = 0\n",
	  "repo=- sources=- ssh_command=- ssh_key=- ssh_options=- exclude_file=- bwlimit=0 "
	  DEFAULTS_TAIL },
	{ "interval 0: every scheduled run backs up", "interval = 0\n",
	  "repo=- sources=- " NOSSH " nice=10 ionice=2:7 interval=0 on_battery=skip" },
};

static void run_good_row(void **state)
{
	const struct good_row *row = *state;
	struct config c;
	struct argv errors = ARGV_INIT;

	config_init(&c);
	int n = config_parse("t.conf", row->text, strlen(row->text), HOME, &c, &errors);
	for (size_t i = 0; i < errors.n; i++)
		print_message("unexpected: %s\n", errors.v[i]);
	assert_int_equal(n, 0);
	char *got = render(&c);
	assert_string_equal(got, row->want);
	free(got);
	config_free(&c);
	argv_clear(&errors);
}

struct bad_row {
	const char *name;
	const char *text;
	const char *errors;   /* every error line, each ending in \n */
};

static const struct bad_row bad_rows[] = {
	{ "an unknown key", "repo = h:\nfoo = bar\n", "t.conf:2: unknown key 'foo'\n" },
	{ "a misspelt key gets a suggestion", "\n\nbwlimt = 100\n",
	  "t.conf:3: unknown key 'bwlimt' (did you mean bwlimit?)\n" },
	{ "keys are case-sensitive", "Repo = h:\n", "t.conf:1: unknown key 'Repo' (did you mean repo?)\n" },
	{ "a line that is not KEY = VALUE", "nice = 1\njust words\n",
	  "t.conf:2: expected KEY = VALUE\n" },
	{ "a section", "[client]\nnice = 1\n",
	  "t.conf:1: sections are not used: every key goes at the top level\n" },
	{ "a key set twice", "nice = 1\n\nnice = 2\n",
	  "t.conf:3: nice is set twice (first on line 1)\n" },
	{ "an empty value", "repo =\n", "t.conf:1: repo has no value\n" },
	{ "nice out of range", "nice = 20\n", "t.conf:1: bad nice '20': a whole number from 0 to 19\n" },
	{ "nice negative", "nice = -5\n", "t.conf:1: bad nice '-5': a whole number from 0 to 19\n" },
	{ "nice not a number", "nice = low\n", "t.conf:1: bad nice 'low': a whole number from 0 to 19\n" },
	{ "ionice realtime is not for backups", "ionice = realtime\n",
	  "t.conf:1: bad ionice 'realtime': idle, best-effort, best-effort:N (N from 0 to 7, "
	  "7 the lowest) or none\n" },
	{ "ionice level 8", "ionice = best-effort:8\n",
	  "t.conf:1: bad ionice 'best-effort:8': idle, best-effort, best-effort:N (N from 0 to 7, "
	  "7 the lowest) or none\n" },
	{ "interval without a unit", "interval = 60\n",
	  "t.conf:1: bad interval '60': a duration such as 1h, 30m, 1d, 1h30m or hourly, "
	  "at most a year\n" },
	{ "interval of two years", "interval = 730d\n",
	  "t.conf:1: bad interval '730d': a duration such as 1h, 30m, 1d, 1h30m or hourly, "
	  "at most a year\n" },
	{ "on_battery yes", "on_battery = yes\n", "t.conf:1: bad on_battery 'yes': skip or run\n" },
	{ "bwlimit with a bad suffix", "bwlimit = 5X\n",
	  "t.conf:1: bad bwlimit '5X': a rate in KiB/s, or with a suffix K, M or G (0: no limit)\n" },
	{ "a relative source", "sources = Documents\n",
	  "t.conf:1: bad sources 'Documents': not an absolute path (or one starting with ~/)\n" },
	{ "a relative ssh_key", "ssh_key = id_ed25519\n",
	  "t.conf:1: bad ssh_key 'id_ed25519': not an absolute path (or one starting with ~/)\n" },
	{ "~user is not expanded", "exclude_file = ~bob/x\n",
	  "t.conf:1: bad exclude_file '~bob/x': not an absolute path (or one starting with ~/)\n" },
	{ "a remote repo with a path after the colon", "repo = u@h:backups\n",
	  "t.conf:1: bad repo 'u@h:backups': a remote repository is [user@]host: with nothing "
	  "after the colon\n" },
	{ "a relative local repo", "repo = backups\n",
	  "t.conf:1: bad repo 'backups': a remote repository is [user@]host:, a local one an "
	  "absolute path\n" },
	{ "a repo with an empty user", "repo = @h:\n", "t.conf:1: bad repo '@h:': bad user or host\n" },
	{ "a repo whose host looks like an option", "repo = -oProxyCommand=x:\n",
	  "t.conf:1: bad repo '-oProxyCommand=x:': bad user or host\n" },
	{ "ssh_options with a trailing backslash", "ssh_options = -p 22 \\\n",
	  "t.conf:1: bad ssh_options '-p 22 \\': trailing backslash in command\n" },
	{ "an indented line under a one-value key", "repo = h:\n  other:\n",
	  "t.conf:2: an indented line continues repo, which takes one value (only sources "
	  "takes more lines)\n" },
	{ "a NUL byte", "nice = 1\nrepo = h\0:\n", "t.conf:2: a NUL byte in the line\n" },
	{ "a line too long for the parser",
	  "sources = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaa\nnice = 1\n",
	  "t.conf:1: line longer than 198 bytes\n" },
	{ "every error is reported, each with its line",
	  "repo = h:\nnice = 99\n[x]\ninterval = soon\nbogus = 1\non_battery = maybe\n",
	  "t.conf:2: bad nice '99': a whole number from 0 to 19\n"
	  "t.conf:3: sections are not used: every key goes at the top level\n"
	  "t.conf:4: bad interval 'soon': a duration such as 1h, 30m, 1d, 1h30m or hourly, "
	  "at most a year\n"
	  "t.conf:5: unknown key 'bogus'\n"
	  "t.conf:6: bad on_battery 'maybe': skip or run\n" },
	{ "control characters in a value are not echoed", "nice = \x1b[31m\n",
	  "t.conf:1: bad nice '?[31m': a whole number from 0 to 19\n" },
};

static void run_bad_row(void **state)
{
	const struct bad_row *row = *state;
	struct config c;
	struct argv errors = ARGV_INIT;
	struct strbuf got = STRBUF_INIT;
	size_t len = strlen(row->text);

	if (strstr(row->name, "NUL"))
		len = strlen(row->text) + 1 + strlen(row->text + strlen(row->text) + 1);
	config_init(&c);
	int n = config_parse("t.conf", row->text, len, HOME, &c, &errors);
	for (size_t i = 0; i < errors.n; i++)
		sb_addf(&got, "%s\n", errors.v[i]);
	assert_string_equal(got.buf, row->errors);
	assert_int_equal(n, (int)errors.n);
	assert_true(n > 0);
	config_free(&c);
	argv_clear(&errors);
	sb_release(&got);
}

static void a_bad_value_keeps_the_default(void **state)
{
	(void)state;
	struct config c;
	struct argv errors = ARGV_INIT;
	const char *text = "nice = 25\ninterval = 2h\n";

	config_init(&c);
	assert_int_equal(config_parse("t", text, strlen(text), HOME, &c, &errors), 1);
	assert_int_equal(c.nice, 10);
	assert_int_equal(c.interval, 7200);
	assert_int_equal(c.line[CFG_NICE], 0);
	assert_int_equal(c.line[CFG_INTERVAL], 2);
	config_free(&c);
	argv_clear(&errors);
}

static void a_file_over_64k_is_refused(void **state)
{
	(void)state;
	struct config c;
	struct argv errors = ARGV_INIT;
	size_t len = CONFIG_MAX_BYTES + 1;
	char *text = xmalloc(len);

	memset(text, '\n', len);
	config_init(&c);
	assert_int_equal(config_parse("big", text, len, HOME, &c, &errors), 1);
	assert_string_equal(errors.v[0], "big: larger than 64 KiB");
	free(text);
	config_free(&c);
	argv_clear(&errors);
}

static void at_most_256_sources(void **state)
{
	(void)state;
	struct config c;
	struct argv errors = ARGV_INIT;
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i <= CONFIG_MAX_SOURCES; i++)
		sb_addf(&sb, "sources = /s%d\n", i);
	config_init(&c);
	assert_int_equal(config_parse("t", sb.buf, sb.len, HOME, &c, &errors), 1);
	assert_string_equal(errors.v[0], "t:257: too many sources (at most 256)");
	assert_int_equal(c.sources.n, CONFIG_MAX_SOURCES);
	config_free(&c);
	argv_clear(&errors);
	sb_release(&sb);
}

struct duration_row {
	const char *s;
	long long secs;   /* -1: refused */
};

static const struct duration_row duration_rows[] = {
	{ "1h", 3600 }, { "90m", 5400 }, { "1h30m", 5400 }, { "1h 30m", 5400 },
	{ "2 days", 172800 }, { "1 hour", 3600 }, { "45s", 45 }, { "1w", 604800 },
	{ "hourly", 3600 }, { "daily", 86400 }, { "weekly", 604800 }, { "0", 0 },
	{ "366d", 366 * 86400LL }, { "1H", 3600 }, { "3 Minutes", 180 },
	{ "", -1 }, { "h", -1 }, { "1", -1 }, { "60", -1 }, { "-1h", -1 }, { "1.5h", -1 },
	{ "367d", -1 }, { "99999999999999999999s", -1 }, { "1 fortnight", -1 },
	{ "1h30", -1 }, { "Hourly", -1 }, { "1hh", -1 },
};

static void durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(duration_rows) / sizeof(duration_rows[0]); i++) {
		long long v = -42;
		int rc = parse_duration(duration_rows[i].s, &v);
		if (duration_rows[i].secs < 0) {
			if (rc != -1)
				fail_msg("'%s' should be refused, got %lld", duration_rows[i].s, v);
		} else if (rc != 0 || v != duration_rows[i].secs) {
			fail_msg("'%s': got rc %d, %lld; wanted %lld", duration_rows[i].s, rc, v,
				 duration_rows[i].secs);
		}
	}
}

int main(void)
{
	size_t ngood = sizeof(good_rows) / sizeof(good_rows[0]);
	size_t nbad = sizeof(bad_rows) / sizeof(bad_rows[0]);
	struct CMUnitTest *good = xcalloc(ngood, sizeof(*good));
	struct CMUnitTest *bad = xcalloc(nbad, sizeof(*bad));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_bad_value_keeps_the_default),
		cmocka_unit_test(a_file_over_64k_is_refused),
		cmocka_unit_test(at_most_256_sources),
		cmocka_unit_test(durations),
	};
	int failed;

	for (size_t i = 0; i < ngood; i++) {
		good[i].name = good_rows[i].name;
		good[i].test_func = run_good_row;
		good[i].initial_state = (void *)&good_rows[i];
	}
	for (size_t i = 0; i < nbad; i++) {
		bad[i].name = bad_rows[i].name;
		bad[i].test_func = run_bad_row;
		bad[i].initial_state = (void *)&bad_rows[i];
	}
	failed = _cmocka_run_group_tests("good config files", good, ngood, NULL, NULL);
	failed += _cmocka_run_group_tests("bad config files, with file:line", bad, nbad, NULL, NULL);
	failed += cmocka_run_group_tests_name("config", tests, NULL, NULL);
	free(good);
	free(bad);
	return failed ? 1 : 0;
}
