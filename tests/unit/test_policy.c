/*
 * The receiver's allowlist, as one table: an SSH_ORIGINAL_COMMAND as the
 * client's rsync sends it, and the exact verdict. Every row goes through
 * split_command() and judge_command() just as `serve` does; every allowed
 * row is then built into rsync's argv and compared word by word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdsplit.h"
#include "policy.h"
#include "strbuf.h"
#include "util.h"

enum verdict { ALLOW, REFUSE };

struct policy_row {
	const char *name;
	const char *cmd;        /* SSH_ORIGINAL_COMMAND, escaped as rsync sends it */
	enum verdict verdict;
	const char *reason;     /* REFUSE: the reason must contain this */
	const char *dest;       /* ALLOW: normalised destination */
	int dry_run;            /* ALLOW */
	const char *cluster;    /* ALLOW: the short-option word we pass on */
	const char *kept;       /* ALLOW: the options we pass on, space-separated */
};

#define ALLOWED(name, cmd, dest, dry, cluster, kept) \
	{ name, cmd, ALLOW, NULL, dest, dry, cluster, kept }
#define REFUSED(name, cmd, reason) \
	{ name, cmd, REFUSE, reason, NULL, 0, NULL, NULL }

/* What a stock rsync 3.5.0 sends for `rsync -a SRC server:x`. */
#define PUSH "rsync --server -logDtpre.iLsfxCIvu "
#define CAPS "e.iLsfxCIvu"

static struct policy_row rows[] = {
	/* ---- what stock clients send: allowed ---- */
	ALLOWED("allows the plain push of rsync -az --delete to server:",
		"rsync --server -logDtprze.iLsfxCIvu --delete . .",
		"", 0, "-logDtprz" CAPS, "--delete"),
	ALLOWED("allows a full-system push with hard links, ACLs, xattrs and --relative",
		"rsync --server -lHogDtpAXrRe.iLsfxCIvu --delete --numeric-ids . sub/dir",
		"sub/dir", 0, "-lHogDtpAXrR" CAPS, "--delete --numeric-ids"),
	ALLOWED("allows the itemized log format -i asks for",
		PUSH "--log-format=%i . x",
		"x", 0, "-logDtpr" CAPS, "--log-format=%i"),
	ALLOWED("allows the log format X that -v asks for",
		PUSH "--log-format=X . x",
		"x", 0, "-logDtpr" CAPS, "--log-format=X"),
	ALLOWED("allows size, speed and deletion limits",
		PUSH "--bwlimit=10240 --max-delete=5 --min-size=1024 "
		"--max-size=2147483648 --modify-window=2 . x",
		"x", 0, "-logDtpr" CAPS,
		"--bwlimit=10240 --max-delete=5 --min-size=1024 --max-size=2147483648 "
		"--modify-window=2"),
	ALLOWED("allows size suffixes and fractions",
		PUSH "--max-size=1.5G --min-size=10k --bwlimit=2M . x",
		"x", 0, "-logDtpr" CAPS, "--max-size=1.5G --min-size=10k --bwlimit=2M"),
	ALLOWED("allows -m -O -J -y -C among the short flags",
		"rsync --server -lmOJyogDtprCe.iLsfxCIvu . x",
		"x", 0, "-lmOJyogDtprC" CAPS, ""),
	ALLOWED("allows a compression level",
		"rsync --server -logDtprze.iLsfxCIvu --compress-level=3 . x",
		"x", 0, "-logDtprz" CAPS, "--compress-level=3"),
	ALLOWED("allows how files are written: delay-updates, fsync, preallocate, noatime",
		PUSH "--delay-updates --fsync --preallocate --open-noatime . x",
		"x", 0, "-logDtpr" CAPS,
		"--delay-updates --fsync --preallocate --open-noatime"),
	ALLOWED("allows --info flags",
		PUSH "--info=NAME,STATS2 . x",
		"x", 0, "-logDtpr" CAPS, "--info=NAME,STATS2"),
	ALLOWED("allows update, size-only, ignore-errors, numeric-ids and ignore-existing",
		"rsync --server -ulogDtprIe.iLsfxCIvu --size-only --ignore-errors "
		"--numeric-ids --ignore-existing . x",
		"x", 0, "-ulogDtprI" CAPS,
		"--size-only --ignore-errors --numeric-ids --ignore-existing"),
	ALLOWED("allows doubled flags, delete-delay, delete-excluded and force",
		"rsync --server -vlHHogDtpAXrxxSe.iLsfxCIvu --delete-delay "
		"--delete-excluded --force . x",
		"x", 0, "-vlHHogDtpAXrxxS" CAPS,
		"--delete-delay --delete-excluded --force"),
	ALLOWED("allows --iconv with a charset name",
		PUSH "--iconv=latin1 . x",
		"x", 0, "-logDtpr" CAPS, "--iconv=latin1"),
	ALLOWED("allows --mkpath",
		PUSH "--mkpath . x", "x", 0, "-logDtpr" CAPS, "--mkpath"),
	ALLOWED("allows --delete-missing-args",
		PUSH "--delete-missing-args . x",
		"x", 0, "-logDtpr" CAPS, "--delete-missing-args"),
	ALLOWED("allows --files-from=- with --from0, the list coming over the connection",
		PUSH "--files-from=- --from0 . x",
		"x", 0, "-logDtpr" CAPS, "--files-from=- --from0"),
	ALLOWED("allows --chmod rules",
		PUSH "--chmod=Du+rwx,Fgo-w,a+X . x",
		"x", 0, "-logDtpr" CAPS, "--chmod=Du+rwx,Fgo-w,a+X"),
	ALLOWED("allows --partial, since every push lands in a fresh tree",
		PUSH "--partial --stats . x", "x", 0, "-logDtpr" CAPS, "--partial --stats"),
	ALLOWED("allows choosing checksum and compression algorithms",
		PUSH "--checksum-choice=xxh128 --compress-choice=zstd . x",
		"x", 0, "-logDtpr" CAPS, "--checksum-choice=xxh128 --compress-choice=zstd"),
	ALLOWED("maps the destination ~/x to x",
		PUSH ". ~/x", "x", 0, "-logDtpr" CAPS, ""),
	ALLOWED("maps the escaped destination \\~/x to x",
		PUSH ". \\~/x", "x", 0, "-logDtpr" CAPS, ""),
	ALLOWED("maps the destination ~ to the top of the tree",
		PUSH ". ~", "", 0, "-logDtpr" CAPS, ""),
	ALLOWED("normalises a//b/./c/ to a/b/c",
		PUSH ". a//b/./c/", "a/b/c", 0, "-logDtpr" CAPS, ""),
	ALLOWED("normalises ./a to a",
		PUSH ". ./a", "a", 0, "-logDtpr" CAPS, ""),
	ALLOWED("keeps a destination with spaces as one path",
		PUSH ". my\\ docs/2024\\ tax", "my docs/2024 tax", 0, "-logDtpr" CAPS, ""),
	ALLOWED("allows a name that merely starts with dots",
		PUSH ". ..a/...", "..a/...", 0, "-logDtpr" CAPS, ""),
	ALLOWED("marks -n as a dry run",
		"rsync --server -nlogDtpre.iLsfxCIvu . x",
		"x", 1, "-nlogDtpr" CAPS, ""),
	ALLOWED("marks --dry-run as a dry run",
		PUSH "--dry-run . x", "x", 1, "-logDtpr" CAPS, "--dry-run"),
	ALLOWED("merges separate short option words into one",
		"rsync --server -r -v -e.iLsfxCIvu . x",
		"x", 0, "-rv" CAPS, ""),
	ALLOWED("accepts a value given as the next word and passes it on joined",
		PUSH "--max-delete 5 . x", "x", 0, "-logDtpr" CAPS, "--max-delete=5"),
	ALLOWED("accepts -- before the dot",
		PUSH "--delete -- . x", "x", 0, "-logDtpr" CAPS, "--delete"),
	ALLOWED("accepts a block size up to 131072",
		PUSH "--block-size=131072 . x", "x", 0, "-logDtpr" CAPS, "--block-size=131072"),
	ALLOWED("accepts --modify-window=-1, nanosecond mtime comparison",
		PUSH "--modify-window=-1 . x", "x", 0, "-logDtpr" CAPS, "--modify-window=-1"),
	ALLOWED("keeps a client's coarser --modify-window instead of the server's -1",
		PUSH "--modify-window=1 . x", "x", 0, "-logDtpr" CAPS, "--modify-window=1"),
	ALLOWED("accepts --timeout but passes on only its own",
		PUSH "--timeout=60 . x", "x", 0, "-logDtpr" CAPS, ""),
	ALLOWED("accepts client --fake-super and --max-alloc but does not keep them",
		PUSH "--fake-super --max-alloc=8G . x", "x", 0, "-logDtpr" CAPS, ""),

	/* ---- refused, each naming what was wrong ---- */
	REFUSED("refuses -s, which moves the arguments out of sight",
		"rsync --server -svlogDtpre.iLsfxCIvu", "-s (--secluded-args)"),
	REFUSED("refuses -s even with a destination",
		"rsync --server -svlogDtpre.iLsfxCIvu . x", "-s (--secluded-args)"),
	REFUSED("refuses --secluded-args", PUSH "--secluded-args . x", "--secluded-args"),
	REFUSED("refuses --protect-args", PUSH "--protect-args . x", "--protect-args"),
	REFUSED("refuses -M", "rsync --server -M--log-file=/tmp/x . x", "-M"),
	REFUSED("refuses --remote-option", PUSH "--remote-option=--log-file=/x . x",
		"--remote-option"),
	REFUSED("refuses -e ssh", "rsync --server -e ssh . x", "-e (--rsh)"),
	REFUSED("refuses -essh", "rsync --server -essh . x", "-e (--rsh)"),
	REFUSED("refuses -e inside a cluster without the capability dot",
		"rsync --server -rlessh . x", "-e (--rsh)"),
	REFUSED("refuses --rsh", PUSH "--rsh=x . x", "--rsh"),
	REFUSED("refuses --rsync-path", PUSH "--rsync-path=x . x", "--rsync-path"),
	REFUSED("refuses --daemon", "rsync --server --daemon . x", "--daemon"),
	REFUSED("refuses --config", PUSH "--config=x . x", "--config"),
	REFUSED("refuses --log-file", PUSH "--log-file=x . x", "--log-file:"),
	REFUSED("refuses --log-file-format", PUSH "--log-file-format=x . x",
		"--log-file-format"),
	REFUSED("refuses --write-batch", PUSH "--write-batch=x . x", "--write-batch"),
	REFUSED("refuses --read-batch", PUSH "--read-batch=x . x", "--read-batch"),
	REFUSED("refuses --only-write-batch", PUSH "--only-write-batch=x . x",
		"--only-write-batch"),
	REFUSED("refuses --temp-dir", PUSH "--temp-dir=x . x", "--temp-dir"),
	REFUSED("refuses -T", PUSH "-T /tmp . x", "-T (--temp-dir)"),
	REFUSED("refuses an absolute --partial-dir", PUSH "--partial-dir=/tmp/x . x", "--partial-dir"),
	REFUSED("refuses a --partial-dir that climbs out", PUSH "--partial-dir=.. . x", "--partial-dir"),
	REFUSED("refuses a --partial-dir with a slash", PUSH "--partial-dir=a/b . x", "--partial-dir"),
	REFUSED("refuses --partial-dir for a restore",
		"rsync --server --sender -logDtpre.iLsfxCIvu --partial-dir=x . current/x", "--partial-dir"),
	ALLOWED("accepts one relative --partial-dir name, which stays inside the tree",
		PUSH "--partial-dir=.rsync-partial . x", "x", 0, "-logDtpr" CAPS,
		"--partial-dir=.rsync-partial"),
	ALLOWED("accepts -B8192, how stock clients send --block-size",
		"rsync --server -B8192 -logDtpre.iLsfxCIvu . x", "x", 0, "-logDtpr" CAPS,
		"--block-size=8192"),
	REFUSED("refuses -b", "rsync --server -blogDtpre.iLsfxCIvu . x", "-b (--backup)"),
	REFUSED("refuses --backup", PUSH "--backup . x", "--backup"),
	REFUSED("refuses --backup-dir", PUSH "--backup-dir=x . x", "--backup-dir"),
	REFUSED("refuses --suffix", PUSH "--suffix=x . x", "--suffix"),
	REFUSED("refuses a client --link-dest", PUSH "--link-dest=/x . x", "--link-dest"),
	REFUSED("refuses a client --link-dest given as two words",
		PUSH "--link-dest /x . x", "--link-dest"),
	REFUSED("refuses --copy-dest", PUSH "--copy-dest=x . x", "--copy-dest"),
	REFUSED("refuses --compare-dest", PUSH "--compare-dest=x . x", "--compare-dest"),
	REFUSED("refuses --files-from naming a server file",
		PUSH "--files-from=/etc/passwd . x", "--files-from"),
	REFUSED("refuses --exclude-from", PUSH "--exclude-from=x . x", "--exclude-from"),
	REFUSED("refuses --include-from", PUSH "--include-from=x . x", "--include-from"),
	REFUSED("refuses --inplace", PUSH "--inplace . x", "--inplace"),
	REFUSED("refuses --append", PUSH "--append . x", "--append:"),
	REFUSED("refuses --append-verify", PUSH "--append-verify . x", "--append-verify"),
	REFUSED("refuses -K", "rsync --server -KlogDtpre.iLsfxCIvu . x", "-K (--keep-dirlinks)"),
	REFUSED("refuses --keep-dirlinks", PUSH "--keep-dirlinks . x", "--keep-dirlinks"),
	REFUSED("refuses -U", "rsync --server -UlogDtpre.iLsfxCIvu . x", "-U (--atimes)"),
	REFUSED("refuses --atimes", PUSH "--atimes . x", "--atimes"),
	REFUSED("refuses --remove-source-files", PUSH "--remove-source-files . x",
		"--remove-source-files"),
	REFUSED("refuses --super", PUSH "--super . x", "--super"),
	REFUSED("refuses --chown", PUSH "--chown=a:b . x", "--chown"),
	REFUSED("refuses --usermap", PUSH "--usermap=x . x", "--usermap"),
	REFUSED("refuses --groupmap", PUSH "--groupmap=x . x", "--groupmap"),
	REFUSED("refuses --copy-devices", PUSH "--copy-devices . x", "--copy-devices"),
	REFUSED("refuses --write-devices", PUSH "--write-devices . x", "--write-devices"),
	REFUSED("refuses --copy-as", PUSH "--copy-as=root . x", "--copy-as"),
	REFUSED("refuses a --sender that does not come right after --server",
		"rsync --server -logDtpre.iLsfxCIvu --sender . x", "--sender"),
	REFUSED("refuses --existing", PUSH "--existing . x", "--existing"),
	REFUSED("refuses --confine-root from the client", PUSH "--confine-root=/ . x",
		"--confine-root"),
	REFUSED("refuses --debug", PUSH "--debug=ALL . x", "--debug"),
	REFUSED("refuses --server given twice", PUSH "--server . x", "--server"),
	REFUSED("refuses -L", "rsync --server -Llogtpre.iLsfxCIvu . x", "-L (--copy-links)"),
	REFUSED("refuses an unknown long option by name", PUSH "--frobnicate . x",
		"unknown option --frobnicate"),
	REFUSED("refuses an unknown short option by name",
		"rsync --server -logZDtpre.iLsfxCIvu . x", "unknown option -Z"),
	REFUSED("refuses an absolute destination", PUSH ". /etc", "absolute destination /etc"),
	REFUSED("refuses a destination starting with ..", PUSH ". ../x", "'..'"),
	REFUSED("refuses a destination climbing out through ..", PUSH ". a/../../b", "'..'"),
	REFUSED("refuses a destination ending in ..", PUSH ". a/..", "'..'"),
	REFUSED("refuses another user's home", PUSH ". ~root/x", "another user's home"),
	REFUSED("refuses two destinations", PUSH ". x y", "more than one destination"),
	REFUSED("refuses an option after the destination", PUSH ". x --inplace",
		"more than one destination"),
	REFUSED("refuses a command without the dot", PUSH "x y", "expected '.'"),
	REFUSED("refuses a command with no destination", PUSH ".", "no destination"),
	REFUSED("refuses a command that ends in the options", PUSH "--delete",
		"expected '.'"),
	REFUSED("refuses scp", "scp -t /x", "command scp refused"),
	REFUSED("refuses a shell", "sh -c id", "command sh refused"),
	REFUSED("refuses sftp", "/usr/lib/openssh/sftp-server", "command /usr/lib/openssh"),
	REFUSED("refuses an empty command, an interactive login", "", "no command given"),
	REFUSED("refuses rsync without --server", "rsync", "only rsync in server mode"),
	REFUSED("refuses rsync as a client", "rsync -av /etc host:", "only rsync in server mode"),
	REFUSED("refuses a shell command in --bwlimit", PUSH "--bwlimit=1\\;id . x",
		"bad value for --bwlimit"),
	REFUSED("refuses a compression level above zstd's 22",
		PUSH "--compress-level=23 . x", "--compress-level"),
	REFUSED("refuses a block size above rsync's 131072",
		PUSH "--block-size=131073 . x", "--block-size"),
	REFUSED("refuses a block size with a suffix",
		PUSH "--block-size=1M . x", "--block-size"),
	REFUSED("refuses a negative --modify-window other than -1",
		PUSH "--modify-window=-2 . x", "--modify-window"),
	REFUSED("refuses a non-number --timeout", PUSH "--timeout=abc . x",
		"bad value for --timeout"),
	REFUSED("refuses a negative --timeout", PUSH "--timeout=-1 . x",
		"bad value for --timeout"),
	REFUSED("refuses --timeout with no value", PUSH "--timeout", "--timeout needs a value"),
	REFUSED("refuses a command substitution in --chmod", PUSH "--chmod=\\$\\(id\\) . x",
		"bad value for --chmod"),
	REFUSED("refuses a --log-format that is not rsync's own", PUSH "--log-format=%f . x",
		"bad value for --log-format"),
	REFUSED("refuses a bad --max-alloc even though it is dropped",
		PUSH "--max-alloc=8G\\;id . x", "bad value for --max-alloc"),
	REFUSED("refuses a bad capability block", "rsync --server -e.iL\\;x . x",
		"bad capability block"),
	REFUSED("refuses a capability block given twice",
		"rsync --server -re.iL -e.iL . x", "capability block given twice"),
	REFUSED("refuses a value for --fake-super, which takes none",
		PUSH "--fake-super=1 . x", "--fake-super takes no value"),
	REFUSED("refuses a value for --delete, which takes none",
		PUSH "--delete=yes . x", "--delete takes no value"),
	REFUSED("refuses a query with arguments it does not take",
		"hindsight list extra", "hindsight list takes no arguments"),
	REFUSED("refuses an unknown query verb", "hindsight frob", "unknown query verb frob"),
	REFUSED("refuses a query with no verb", "hindsight", "no query verb"),
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static const char *const bases[] = {
	"/srv/b/2026_11_29_09_00_03",
	"/srv/b/.hindsight/resume/1",
};

/* The plan serve uses on an unprivileged server with a new enough rsync. */
static const struct push_plan full_plan = {
	.rsync_path = "/usr/bin/rsync",
	.root = "/srv/b",
	.recv_dir = "/srv/b/inprogress",
	.link_dests = bases,
	.n_link_dests = 2,
	.log_file = "/srv/b/.hindsight/transfer.log",
	.fake_super = 1,
	.confine_root = 1,
};

/* Split and judge cmd. Returns judge_command's result; *why gets the reason. */
static int judge_string(const char *cmd, struct request *r, char *why, size_t whylen)
{
	struct argv words = ARGV_INIT;
	const char *serr = NULL;
	int rc;

	if (split_command(cmd, &words, &serr) < 0)
		fail_msg("split_command refused %s: %s", cmd, serr);
	rc = judge_command(words.n, words.v, r, why, whylen);
	argv_clear(&words);
	return rc;
}

static void assert_argv_equal(const struct argv *got, const struct argv *want)
{
	for (size_t i = 0; i < got->n && i < want->n; i++)
		if (strcmp(got->v[i], want->v[i]))
			fail_msg("argv word %zu is \"%s\", want \"%s\"", i,
				 got->v[i], want->v[i]);
	assert_int_equal(got->n, want->n);
	assert_null(got->v[got->n]);
}

/* The argv build_push_argv must give for an allowed row under full_plan. */
static void expected_argv(const struct policy_row *row, long timeout, struct argv *out)
{
	const char *slash = row->dest[0] ? "/" : "";
	char *kept = xstrdup(row->kept);

	argv_push(out, full_plan.rsync_path);
	argv_push(out, "--server");
	argv_push(out, row->cluster);
	for (char *save = NULL, *w = strtok_r(kept, " ", &save); w;
	     w = strtok_r(NULL, " ", &save))
		argv_push(out, w);
	/* the server compares mtimes to the nanosecond unless the client chose */
	if (!strstr(row->kept, "--modify-window="))
		argv_push(out, "--modify-window=-1");
	for (size_t i = 0; i < full_plan.n_link_dests; i++)
		argv_pushf(out, "--link-dest=%s%s%s", bases[i], slash, row->dest);
	argv_push(out, "--fake-super");
	argv_pushf(out, "--timeout=%ld", timeout);
	argv_push(out, "--max-alloc=1G");
	argv_push(out, "--confine-root=/srv/b");
	argv_push(out, "--log-file=/srv/b/.hindsight/transfer.log");
	argv_push(out, "--log-file-format=%i %b %l");
	argv_push(out, "--");
	argv_push(out, ".");
	argv_pushf(out, "/srv/b/inprogress%s%s", slash, row->dest);
	free(kept);
}

static void run_policy_row(void **state)
{
	const struct policy_row *row = *state;
	struct request r;
	char why[HS_REASON_MAX] = "";
	int rc = judge_string(row->cmd, &r, why, sizeof(why));

	if (row->verdict == REFUSE) {
		if (rc != -1) {
			request_free(&r);
			fail_msg("allowed, want refused with \"%s\"", row->reason);
		}
		if (!strstr(why, row->reason))
			fail_msg("reason \"%s\" does not contain \"%s\"", why, row->reason);
		assert_null(strchr(why, '\n'));
		/* a refusal leaves nothing behind to free or to misuse */
		assert_int_equal(r.role, ROLE_NONE);
		assert_null(r.dest);
		assert_int_equal(r.opts.n, 0);
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", why);
	assert_int_equal(r.role, ROLE_PUSH);
	assert_string_equal(r.dest, row->dest);
	assert_int_equal(r.dry_run, row->dry_run);

	struct argv got = ARGV_INIT, want = ARGV_INIT;
	build_push_argv(&r, &full_plan, &got);
	expected_argv(row, r.timeout, &want);
	assert_argv_equal(&got, &want);
	argv_clear(&got);
	argv_clear(&want);
	request_free(&r);
}

static void the_table_has_at_least_fifty_rows(void **state)
{
	(void)state;
	size_t allow = 0, refuse = 0;

	for (size_t i = 0; i < N_ROWS; i++)
		rows[i].verdict == ALLOW ? allow++ : refuse++;
	assert_true(allow + refuse >= 50);
	assert_true(allow >= 20);
	assert_true(refuse >= 40);
}

static void refusal_of_s_says_how_to_turn_it_off_on_the_client(void **state)
{
	(void)state;
	struct request r;
	char why[HS_REASON_MAX];

	assert_int_equal(judge_string("rsync --server -svlogDtpre.iLsfxCIvu . x",
				      &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "--no-secluded-args"));
}

static long judged_timeout(const char *cmd)
{
	struct request r;
	char why[HS_REASON_MAX];
	long t;

	if (judge_string(cmd, &r, why, sizeof(why)) != 0)
		fail_msg("refused %s: %s", cmd, why);
	t = r.timeout;
	request_free(&r);
	return t;
}

static void no_timeout_from_the_client_gives_the_default(void **state)
{
	(void)state;
	assert_int_equal(judged_timeout(PUSH ". x"), HS_TIMEOUT_DEFAULT);
}

static void a_huge_timeout_is_clamped_to_the_maximum(void **state)
{
	(void)state;
	assert_int_equal(judged_timeout(PUSH "--timeout=99999 . x"), HS_TIMEOUT_MAX);
	assert_int_equal(judged_timeout(PUSH "--timeout=9999999999 . x"), HS_TIMEOUT_MAX);
}

static void timeout_zero_meaning_none_is_bounded_too(void **state)
{
	(void)state;
	assert_int_equal(judged_timeout(PUSH "--timeout=0 . x"), HS_TIMEOUT_MAX);
}

static void a_short_timeout_is_honoured_and_passed_on_once(void **state)
{
	(void)state;
	struct request r;
	struct argv argv = ARGV_INIT;
	char why[HS_REASON_MAX];
	size_t seen = 0;

	assert_int_equal(judge_string(PUSH "--timeout=60 . x", &r, why, sizeof(why)), 0);
	assert_int_equal(r.timeout, 60);
	build_push_argv(&r, &full_plan, &argv);
	for (size_t i = 0; i < argv.n; i++)
		if (!strncmp(argv.v[i], "--timeout", 9)) {
			assert_string_equal(argv.v[i], "--timeout=60");
			seen++;
		}
	assert_int_equal(seen, 1);
	argv_clear(&argv);
	request_free(&r);
}

static void client_fake_super_and_max_alloc_are_not_passed_on(void **state)
{
	(void)state;
	struct request r;
	struct argv argv = ARGV_INIT;
	struct push_plan plan = full_plan;
	char why[HS_REASON_MAX];
	size_t alloc = 0;

	assert_int_equal(judge_string(PUSH "--fake-super --max-alloc=8G . x",
				      &r, why, sizeof(why)), 0);
	assert_int_equal(r.opts.n, 0);
	plan.fake_super = 0;   /* running as root: no --fake-super, whatever the client says */
	build_push_argv(&r, &plan, &argv);
	for (size_t i = 0; i < argv.n; i++) {
		assert_string_not_equal(argv.v[i], "--fake-super");
		if (!strncmp(argv.v[i], "--max-alloc", 11)) {
			assert_string_equal(argv.v[i], "--max-alloc=" HS_MAX_ALLOC);
			alloc++;
		}
	}
	assert_int_equal(alloc, 1);
	argv_clear(&argv);
	request_free(&r);
}

static void query_list_is_a_read_only_query(void **state)
{
	(void)state;
	struct request r;
	char why[HS_REASON_MAX];

	assert_int_equal(judge_string("hindsight list", &r, why, sizeof(why)), 0);
	assert_int_equal(r.role, ROLE_QUERY);
	assert_int_equal(r.query.n, 1);
	assert_string_equal(r.query.v[0], "list");
	request_free(&r);
}

/*
 * The read-only queries: each verb with its exact number of arguments, a
 * snapshot as an exact name or "current", paths normalised and never with
 * "..". want is the query argv the server acts on, words joined by '|'.
 */
struct query_row {
	const char *name;
	const char *cmd;
	enum verdict verdict;
	const char *want;       /* ALLOW: verb|arg|arg; REFUSE: in the reason */
};

#define Q_OK(name, cmd, want) { name, cmd, ALLOW, want }
#define Q_NO(name, cmd, reason) { name, cmd, REFUSE, reason }
#define SNAP "2026_11_29_09_00_03"

static const struct query_row query_rows[] = {
	Q_OK("allows list", "hindsight list", "list"),
	Q_OK("allows status", "hindsight status", "status"),
	Q_OK("allows versions of an absolute path, dropping the leading /",
	     "hindsight versions /home/me/report.odt", "versions|home/me/report.odt"),
	Q_OK("allows versions of a relative path", "hindsight versions etc/app.conf",
	     "versions|etc/app.conf"),
	Q_OK("normalises // and /./ in a versions path",
	     "hindsight versions //home/./me//x/", "versions|home/me/x"),
	Q_OK("allows versions of the top", "hindsight versions /", "versions|"),
	Q_OK("allows ls of current at the top", "hindsight ls current /", "ls|current|"),
	Q_OK("allows ls of a snapshot by exact name", "hindsight ls " SNAP " /etc",
	     "ls|" SNAP "|etc"),
	Q_OK("keeps a path with escaped spaces as one argument",
	     "hindsight ls current /home/me/my\\ docs", "ls|current|home/me/my docs"),
	Q_OK("keeps a path with shell characters as plain bytes",
	     "hindsight ls current /x/\\$\\(id\\)\\;\\*", "ls|current|x/$(id);*"),
	Q_OK("allows a name that only starts with two dots",
	     "hindsight ls current /x/..y", "ls|current|x/..y"),
	Q_OK("allows diff of two snapshots", "hindsight diff " SNAP " current",
	     "diff|" SNAP "|current"),
	Q_OK("allows diff of two snapshots below a path",
	     "hindsight diff " SNAP " current /home/me/", "diff|" SNAP "|current|home/me"),
	Q_NO("refuses list with an argument", "hindsight list extra",
	     "hindsight list takes no arguments"),
	Q_NO("refuses status with an argument", "hindsight status /", "hindsight status takes no arguments"),
	Q_NO("refuses versions without a path", "hindsight versions",
	     "usage is hindsight versions PATH"),
	Q_NO("refuses versions with two paths", "hindsight versions /a /b",
	     "usage is hindsight versions PATH"),
	Q_NO("refuses ls without a path", "hindsight ls current",
	     "usage is hindsight ls SNAPSHOT PATH"),
	Q_NO("refuses ls with three arguments", "hindsight ls current /a /b",
	     "usage is hindsight ls SNAPSHOT PATH"),
	Q_NO("refuses diff with one snapshot", "hindsight diff current",
	     "usage is hindsight diff SNAPSHOT_A SNAPSHOT_B [PATH]"),
	Q_NO("refuses diff with four arguments", "hindsight diff current current /a /b",
	     "usage is hindsight diff"),
	Q_NO("refuses versions ../x", "hindsight versions ../x", "'..'"),
	Q_NO("refuses versions of a/../../x", "hindsight versions /a/../../x", "'..'"),
	Q_NO("refuses ls current ../../etc", "hindsight ls current ../../etc", "'..'"),
	Q_NO("refuses diff current current ../x", "hindsight diff current current ../x", "'..'"),
	Q_NO("refuses ls of inprogress", "hindsight ls inprogress x", "not inprogress"),
	Q_NO("refuses ls of .hindsight", "hindsight ls .hindsight x", "not .hindsight"),
	Q_NO("refuses a snapshot given as a path", "hindsight ls current/.. x",
	     "YYYY_MM_DD_HH_MM_SS or current"),
	Q_NO("refuses another account's root as the snapshot",
	     "hindsight ls /home/other/current x", "YYYY_MM_DD_HH_MM_SS or current"),
	Q_NO("refuses ../other/current as the snapshot",
	     "hindsight ls ../other/current x", "YYYY_MM_DD_HH_MM_SS or current"),
	Q_NO("refuses a time expression as the snapshot (the client resolves times)",
	     "hindsight ls yesterday /", "YYYY_MM_DD_HH_MM_SS or current"),
	Q_NO("refuses an impossible snapshot name", "hindsight ls 2026_02_30_00_00_00 /",
	     "YYYY_MM_DD_HH_MM_SS or current"),
	Q_NO("refuses inprogress as diff's second snapshot",
	     "hindsight diff current inprogress", "not inprogress"),
	Q_NO("refuses a component longer than NAME_MAX", "hindsight versions /"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	     "aaaaaaaaaaaaaaaaaaaa", "path too long"),
	Q_NO("refuses an unknown verb", "hindsight frob", "unknown query verb frob"),
	Q_NO("refuses restore as a query verb", "hindsight restore /x", "unknown query verb restore"),
	Q_NO("refuses a verb in capitals", "hindsight LIST", "unknown query verb LIST"),
	Q_NO("refuses a query with no verb", "hindsight", "no query verb"),
};

#define N_QUERY_ROWS (sizeof(query_rows) / sizeof(query_rows[0]))

static void run_query_row(void **state)
{
	const struct query_row *row = *state;
	struct request r;
	char why[HS_REASON_MAX] = "";
	int rc = judge_string(row->cmd, &r, why, sizeof(why));

	if (row->verdict == REFUSE) {
		if (rc != -1) {
			request_free(&r);
			fail_msg("allowed, want refused with \"%s\"", row->want);
		}
		if (!strstr(why, row->want))
			fail_msg("reason \"%s\" does not contain \"%s\"", why, row->want);
		assert_null(strchr(why, '\n'));
		assert_int_equal(r.role, ROLE_NONE);
		assert_int_equal(r.query.n, 0);
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", why);
	assert_int_equal(r.role, ROLE_QUERY);
	struct strbuf got = STRBUF_INIT;
	for (size_t i = 0; i < r.query.n; i++)
		sb_addf(&got, "%s%s", i ? "|" : "", r.query.v[i]);
	assert_string_equal(got.buf, row->want);
	sb_release(&got);
	request_free(&r);
}

static void a_refusal_quotes_at_most_64_bytes_of_what_the_client_sent(void **state)
{
	(void)state;
	struct strbuf cmd = STRBUF_INIT;
	struct request r;
	char why[HS_REASON_MAX];
	char small[16];

	sb_addstr(&cmd, PUSH "--");
	for (int i = 0; i < 1000; i++)
		sb_addch(&cmd, 'q');
	sb_addstr(&cmd, " . x");
	assert_int_equal(judge_string(cmd.buf, &r, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown option --qqq"));
	assert_true(strlen(why) < 64 + 32);
	/* a short buffer gets a truncated, terminated reason */
	assert_int_equal(judge_string(cmd.buf, &r, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	sb_release(&cmd);
}

/* Judge cmd and build its argv under plan; caller clears *out. */
static void build_for(const char *cmd, const struct push_plan *plan, struct argv *out)
{
	struct request r;
	char why[HS_REASON_MAX];

	if (judge_string(cmd, &r, why, sizeof(why)) != 0)
		fail_msg("refused %s: %s", cmd, why);
	build_push_argv(&r, plan, out);
	request_free(&r);
}

static void check_argv(const struct argv *got, const char *const *want)
{
	struct argv w = ARGV_INIT;

	for (size_t i = 0; want[i]; i++)
		argv_push(&w, want[i]);
	assert_argv_equal(got, &w);
	argv_clear(&w);
}

static void push_argv_with_bases_fake_super_confinement_and_log_is_exact(void **state)
{
	(void)state;
	struct argv got = ARGV_INIT;
	static const char *const want[] = {
		"/usr/bin/rsync", "--server", "-lHogDtpAXrRe.iLsfxCIvu",
		"--delete", "--numeric-ids", "--log-format=%i", "--modify-window=-1",
		"--link-dest=/srv/b/2026_11_29_09_00_03/sub/dir",
		"--link-dest=/srv/b/.hindsight/resume/1/sub/dir",
		"--fake-super", "--timeout=120", "--max-alloc=1G",
		"--confine-root=/srv/b",
		"--log-file=/srv/b/.hindsight/transfer.log",
		"--log-file-format=%i %b %l",
		"--", ".", "/srv/b/inprogress/sub/dir", NULL,
	};

	build_for("rsync --server -lHogDtpAXrRe.iLsfxCIvu --delete --numeric-ids "
		  "--log-format=%i --timeout=120 --fake-super --max-alloc=8G . sub/dir",
		  &full_plan, &got);
	check_argv(&got, want);
	argv_clear(&got);
}

static void push_argv_for_the_top_links_against_the_bases_themselves(void **state)
{
	(void)state;
	struct argv got = ARGV_INIT;
	struct push_plan plan = full_plan;
	static const char *const want[] = {
		"/opt/rsync/bin/rsync", "--server", "-logDtprze.iLsfxCIvu", "--delete",
		"--modify-window=-1",
		"--link-dest=/srv/b/2026_11_29_09_00_03",
		"--link-dest=/srv/b/.hindsight/resume/1",
		"--timeout=3600", "--max-alloc=1G",
		"--", ".", "/srv/b/inprogress", NULL,
	};

	plan.rsync_path = "/opt/rsync/bin/rsync";
	plan.fake_super = 0;
	plan.confine_root = 0;
	plan.log_file = NULL;
	build_for("rsync --server -logDtprze.iLsfxCIvu --delete . .", &plan, &got);
	check_argv(&got, want);
	argv_clear(&got);
}

static void push_argv_of_a_first_push_has_no_link_dest(void **state)
{
	(void)state;
	struct argv got = ARGV_INIT;
	struct push_plan plan = full_plan;
	static const char *const want[] = {
		"/usr/bin/rsync", "--server", "-logDtpre.iLsfxCIvu", "--modify-window=-1",
		"--fake-super", "--timeout=3600", "--max-alloc=1G",
		"--confine-root=/srv/b",
		"--", ".", "/srv/b/inprogress/x", NULL,
	};

	plan.link_dests = NULL;
	plan.n_link_dests = 0;
	plan.log_file = NULL;
	build_for(PUSH ". ~/x", &plan, &got);
	check_argv(&got, want);
	argv_clear(&got);
}

static void a_destination_with_a_space_stays_one_argv_word(void **state)
{
	(void)state;
	struct argv got = ARGV_INIT;
	struct push_plan plan = full_plan;

	plan.n_link_dests = 1;
	build_for(PUSH ". my\\ docs/a\\ \\;b", &plan, &got);
	assert_true(got.n >= 3);
	assert_string_equal(got.v[got.n - 3], "--");
	assert_string_equal(got.v[got.n - 2], ".");
	assert_string_equal(got.v[got.n - 1], "/srv/b/inprogress/my docs/a ;b");
	assert_string_equal(got.v[3], "--modify-window=-1");
	assert_string_equal(got.v[4], "--link-dest=/srv/b/2026_11_29_09_00_03/my docs/a ;b");
	argv_clear(&got);
}

static void the_argv_ends_in_our_destination_whatever_the_client_sends(void **state)
{
	(void)state;
	/* tokens a client might hope to smuggle through as extra arguments */
	static const char *const cmds[] = {
		PUSH "-- . x",
		PUSH ". -x",
		PUSH ". --rsh=sh",
		"rsync --server -re.iLsfxCIvu --delete . \\~/--link-dest=/etc",
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct argv got = ARGV_INIT;
		size_t dashdash = 0;

		build_for(cmds[i], &full_plan, &got);
		for (size_t k = 0; k < got.n; k++)
			if (!strcmp(got.v[k], "--"))
				dashdash++;
		assert_int_equal(dashdash, 1);
		assert_string_equal(got.v[got.n - 3], "--");
		assert_string_equal(got.v[got.n - 2], ".");
		assert_true(!strncmp(got.v[got.n - 1], "/srv/b/inprogress/", 18));
		for (size_t k = 3; k + 3 < got.n; k++)
			if (strncmp(got.v[k], "--", 2))
				fail_msg("cmd %zu: argv word %zu \"%s\" is not an option",
					 i, k, got.v[k]);
		argv_clear(&got);
	}
}

/*
 * rsync's popt takes a lone "-" as an operand: rsync then changes into a
 * directory named "-" under its working directory and receives there,
 * instead of into the tree the server chose. A client that sends no short
 * options must therefore be refused, or get no such word.
 */
static void a_push_without_short_options_never_gives_rsync_a_lone_dash(void **state)
{
	(void)state;
	static const char *const cmds[] = {
		"rsync --server --delete . x",
		"rsync --server . x",
	};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct request r;
		struct argv got = ARGV_INIT;
		char why[HS_REASON_MAX];

		if (judge_string(cmds[i], &r, why, sizeof(why)) < 0)
			continue;   /* refusing it is one right answer */
		build_push_argv(&r, &full_plan, &got);
		size_t lone = 0;
		for (size_t k = 0; k < got.n; k++)
			if (!strcmp(got.v[k], "-"))
				lone = k;
		argv_clear(&got);
		request_free(&r);
		if (lone)
			fail_msg("\"%s\" gives rsync a lone \"-\" as word %zu", cmds[i], lone);
	}
}

static void judging_is_repeatable(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_ROWS; i++) {
		struct request a, b;
		char wa[HS_REASON_MAX] = "", wb[HS_REASON_MAX] = "";
		int ra = judge_string(rows[i].cmd, &a, wa, sizeof(wa));
		int rb = judge_string(rows[i].cmd, &b, wb, sizeof(wb));

		assert_int_equal(ra, rb);
		if (ra < 0) {
			assert_string_equal(wa, wb);
			continue;
		}
		struct argv x = ARGV_INIT, y = ARGV_INIT;
		build_push_argv(&a, &full_plan, &x);
		build_push_argv(&b, &full_plan, &y);
		assert_argv_equal(&x, &y);
		argv_clear(&x);
		argv_clear(&y);
		request_free(&a);
		request_free(&b);
	}
}

int main(void)
{
	struct CMUnitTest *table = xcalloc(N_ROWS, sizeof(*table));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_table_has_at_least_fifty_rows),
		cmocka_unit_test(refusal_of_s_says_how_to_turn_it_off_on_the_client),
		cmocka_unit_test(no_timeout_from_the_client_gives_the_default),
		cmocka_unit_test(a_huge_timeout_is_clamped_to_the_maximum),
		cmocka_unit_test(timeout_zero_meaning_none_is_bounded_too),
		cmocka_unit_test(a_short_timeout_is_honoured_and_passed_on_once),
		cmocka_unit_test(client_fake_super_and_max_alloc_are_not_passed_on),
		cmocka_unit_test(query_list_is_a_read_only_query),
		cmocka_unit_test(a_refusal_quotes_at_most_64_bytes_of_what_the_client_sent),
		cmocka_unit_test(push_argv_with_bases_fake_super_confinement_and_log_is_exact),
		cmocka_unit_test(push_argv_for_the_top_links_against_the_bases_themselves),
		cmocka_unit_test(push_argv_of_a_first_push_has_no_link_dest),
		cmocka_unit_test(a_destination_with_a_space_stays_one_argv_word),
		cmocka_unit_test(the_argv_ends_in_our_destination_whatever_the_client_sends),
		cmocka_unit_test(a_push_without_short_options_never_gives_rsync_a_lone_dash),
		cmocka_unit_test(judging_is_repeatable),
	};
	int failed;

	for (size_t i = 0; i < N_ROWS; i++) {
		table[i].name = rows[i].name;
		table[i].test_func = run_policy_row;
		table[i].initial_state = &rows[i];
	}
	failed = _cmocka_run_group_tests("allowlist table", table, N_ROWS, NULL, NULL);
	failed += cmocka_run_group_tests_name("timeouts, queries and rsync's argv",
					      tests, NULL, NULL);
	free(table);
	table = xcalloc(N_QUERY_ROWS, sizeof(*table));
	for (size_t i = 0; i < N_QUERY_ROWS; i++) {
		table[i].name = query_rows[i].name;
		table[i].test_func = run_query_row;
		table[i].initial_state = (void *)&query_rows[i];
	}
	failed += _cmocka_run_group_tests("query verbs", table, N_QUERY_ROWS, NULL, NULL);
	free(table);
	return failed ? 1 : 0;
}
