/*
 * `hindsight backup [SOURCE...]`: one push of the sources (from the
 * command line, else the config) to the repo, with rsync -aAXH
 * --numeric-ids --delete --relative so the snapshot mirrors absolute
 * paths, leaving out what excludes.h lists. rsync runs `hindsight
 * __transport` as its remote shell, which tells us the server's exact
 * exit code (see repo.c); what rsync prints is read back (rsync.c): a
 * progress bar on a terminal, one closing line, one line for a failure.
 * Every real run is recorded in the state file (state.h), which
 * --if-due reads.
 */
#include "client.h"
#include "excludes.h"
#include "state.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char backup_usage[] =
	"usage: hindsight backup [--repo REPO] [--ssh CMD] [--config FILE] [-n|--dry-run]\n"
	"                        [-v|--verbose] [-q|--quiet] [--if-due] [--show-excludes]\n"
	"                        [SOURCE...]\n";

struct backup_opts {
	int dry, verbose, quiet, if_due, show_excludes;
};

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	struct strbuf sb = STRBUF_INIT;

	if (path[0] == '/')
		return xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	sb_addf(&sb, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	return sb_detach(&sb);
}

#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_CLASS_SHIFT 13

/*
 * Lower our CPU and I/O priority to the config's levels, in-process so
 * rsync and ssh inherit them; never raise either (a systemd unit may
 * have set them lower already).
 */
static void lower_priority(const struct config *c)
{
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if (!(cur == -1 && errno) && cur < c->nice && setpriority(PRIO_PROCESS, 0, c->nice) < 0)
		fprintf(stderr, "hindsight: cannot lower the CPU priority: %s\n", strerror(errno));
	if (c->ionice_class == IONICE_NONE)
		return;
	long now = syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0);
	if (now < 0)
		return;
	int klass = (int)(now >> IOPRIO_CLASS_SHIFT), level = (int)(now & 0xff);
	if (klass == 0) {   /* "none": best-effort at a level that follows nice */
		klass = IONICE_BEST_EFFORT;
		level = ((cur == -1 ? 0 : cur) + 20) / 5;
	}
	int lower = c->ionice_class == IONICE_IDLE ? klass != IONICE_IDLE
		: klass == 1 || (klass == IONICE_BEST_EFFORT && level < c->ionice_level);
	if (lower && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0,
			     (c->ionice_class << IOPRIO_CLASS_SHIFT) | c->ionice_level) < 0)
		fprintf(stderr, "hindsight: cannot lower the I/O priority: %s\n", strerror(errno));
}

/* Is path the same as dir or below it? */
static int is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 1;
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/*
 * The rules the backup adds to the user's exclude file: the defaults, a
 * local repository inside a source, the cache directories found. A
 * source that a default rule would leave out (/tmp/x, named on purpose)
 * is let in first: rsync judges the sources themselves by the rules too.
 */
static void our_rules(const struct repo *r, char *const sources[], size_t n,
		      struct argv *rules, size_t *ndefault)
{
	struct argv defaults = ARGV_INIT;
	char *swaps = NULL;

	if (read_file_at(AT_FDCWD, "/proc/swaps", 64 * 1024, &swaps) < 0)
		swaps = NULL;
	default_excludes(home_dir(), swaps, &defaults);
	free(swaps);
	for (size_t i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;
		sb_addstr(&sb, sources[i]);
		while (sb.len > 1 && sb.buf[sb.len - 1] == '/')
			sb.buf[--sb.len] = '\0';
		if (excluded_by(&defaults, sb.buf) && !strchr(sb.buf, '\n')) {
			char *path = sb_detach(&sb);
			sb_addstr(&sb, "+ ");
			filter_pattern(&sb, path);
			argv_push(rules, sb.buf);
			free(path);
		}
		sb_release(&sb);
	}
	for (size_t i = 0; i < defaults.n; i++)
		argv_push(rules, defaults.v[i]);
	argv_clear(&defaults);
	for (size_t i = 0; r->local && i < n; i++)
		if (is_below(r->dir, sources[i])) {
			/* a backup must not back up the backups */
			struct strbuf sb = STRBUF_INIT;
			sb_addstr(&sb, "- ");
			filter_pattern(&sb, r->dir);
			sb_addch(&sb, '/');
			argv_push(rules, sb.buf);
			sb_release(&sb);
			break;
		}
	*ndefault = rules->n;
	cachedir_excludes(sources, n, rules, rules);
}

static int show_excludes(const struct config *cfg, const struct argv *rules, size_t ndefault)
{
	if (cfg->exclude_file) {
		char *text = NULL;
		int rc = read_file_at(AT_FDCWD, cfg->exclude_file, 1 << 20, &text);
		printf("# exclude_file %s (read first: its + rules win)\n", cfg->exclude_file);
		if (rc < 0) {
			fprintf(stderr, "hindsight: exclude_file %s: %s\n", cfg->exclude_file,
				strerror(-rc));
			return HS_EXIT_NOTFOUND;
		}
		fputs(text, stdout);
		if (*text && text[strlen(text) - 1] != '\n')
			putchar('\n');
		free(text);
	}
	puts("# defaults (a source one of them would leave out is let in first)");
	for (size_t i = 0; i < rules->n; i++) {
		if (i == ndefault)
			puts("# directories with a CACHEDIR.TAG");
		puts(rules->v[i]);
	}
	return fflush(stdout) == EOF ? HS_EXIT_ERROR : HS_EXIT_OK;
}

/* Write the rules to a private temporary file for rsync's --filter=merge. */
static int write_rules(const struct argv *rules, char *path /* XXXXXX template */)
{
	struct strbuf sb = STRBUF_INIT;
	int fd = mkstemp(path), rc = 0;

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < rules->n; i++)
		sb_addf(&sb, "%s\n", rules->v[i]);
	for (size_t off = 0; off < sb.len;) {
		ssize_t w = write(fd, sb.buf + off, sb.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	sb_release(&sb);
	return rc;
}

/* "3 sources", "/home/me" */
static void describe_sources(char *const sources[], size_t n, struct strbuf *sb)
{
	if (n == 1)
		sb_addstr(sb, sources[0]);
	else
		sb_addf(sb, "%zu sources", n);
}

static void summary(const struct backup_opts *o, const struct rsync_io *io, const char *repo,
		    char *const sources[], size_t n, int code)
{
	struct strbuf sb = STRBUF_INIT;
	char took[32], sent[32], total[32];

	format_duration(io->seconds, took, sizeof(took));
	format_size(io->stats.transferred_size < 0 ? 0 : io->stats.transferred_size,
		    sent, sizeof(sent));
	format_size(io->stats.total_size < 0 ? 0 : io->stats.total_size, total, sizeof(total));
	if (o->dry) {
		sb_addf(&sb, "hindsight: dry run: would send %lld of %lld files (%s of %s)",
			io->stats.files_transferred, io->stats.files, sent, total);
	} else {
		sb_addstr(&sb, "hindsight: backed up ");
		describe_sources(sources, n, &sb);
		sb_addf(&sb, " to %s in %s%s: %lld of %lld files sent (%s of %s)", repo, took,
			code == HS_EXIT_WARNINGS ? ", with warnings" : "",
			io->stats.files_transferred, io->stats.files, sent, total);
	}
	puts(sb.buf);
	fflush(stdout);
	sb_release(&sb);
}

/* rsync's complaints about single files, after a backup that published. */
static void show_warnings(const struct rsync_io *io)
{
	size_t shown = 0;

	for (size_t i = 0; i < io->err.rsync.n; i++) {
		const char *l = io->err.rsync.v[i];
		if (!strncmp(l, "rsync error: ", 13))
			continue;   /* "some files/attrs were not transferred": we say that */
		fprintf(stderr, "%s\n", l);
		shown++;
	}
	if (io->err.rsync_more)
		fprintf(stderr, "hindsight: and %lld more messages from rsync (run with -v "
			"to see them all)\n", io->err.rsync_more);
	for (size_t i = 0; i < io->err.other.n; i++)
		fprintf(stderr, "%s\n", io->err.other.v[i]);
	(void)shown;
}

static void record(const char *repo, time_t start, int code, const char *message)
{
	struct backup_state st;
	char *file = state_file(repo);
	int rc = state_read(file, &st);

	if (rc < 0)
		memset(&st, 0, sizeof(st));   /* unreadable: start afresh */
	st.attempt_start = start;
	st.attempt_end = time(NULL);
	st.attempt_exit = code;
	snprintf(st.attempt_message, sizeof(st.attempt_message), "%s", message ? message : "");
	if (code == HS_EXIT_OK || code == HS_EXIT_WARNINGS) {
		st.success_start = start;
		st.success_end = st.attempt_end;
		st.success_exit = code;
	}
	rc = state_write(file, repo, &st);
	if (rc < 0)
		fprintf(stderr, "hindsight: cannot record the result in %s: %s\n", file,
			strerror(-rc));
	free(file);
}

/* --if-due: 0 to go on, or 1 after saying why not. */
static int not_due(const struct config *cfg, const char *repo, int quiet)
{
	struct backup_state st;
	char *file = state_file(repo);
	time_t now = time(NULL), next;
	char when[40];

	if (state_read(file, &st) < 0)
		memset(&st, 0, sizeof(st));
	free(file);
	if (!backup_due(&st, cfg->interval, now, &next)) {
		char ago[32], every[32];
		format_local(next, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		format_age(now - st.success_start, ago, sizeof(ago));
		format_duration((double)cfg->interval, every, sizeof(every));
		if (!quiet)
			printf("hindsight: no backup due: the last one started %s ago; the next "
			       "is due at %s (interval %s)\n", ago, when, every);
		return 1;
	}
	if (cfg->on_battery_skip && !on_ac_power("/sys/class/power_supply")) {
		if (!quiet)
			puts("hindsight: on battery power: backup skipped (on_battery = skip)");
		return 1;
	}
	return 0;
}

int cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "if-due", no_argument, NULL, 'D' },
		{ "show-excludes", no_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct backup_opts o = { 0 };
	struct common co;
	struct repo repo;
	struct argv cmd = ARGV_INIT, sources = ARGV_INIT, rules = ARGV_INIT;
	struct rsync_io io = RSYNC_IO_INIT;
	char filter[] = "/tmp/hindsight-filter.XXXXXX";
	char *name = NULL;
	int c, code, have_filter = 0;
	size_t ndefault = 0;
	time_t start = time(NULL);

	common_init(&co);
	while ((c = getopt_long(argc, argv, "nvq", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o.dry = 1; break;
		case 'v': o.verbose = 1; break;
		case 'q': o.quiet = 1; break;
		case 'D': o.if_due = 1; break;
		case 'E': o.show_excludes = 1; break;
		case 'h': fputs(backup_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(backup_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if ((code = common_load(&co)) != HS_EXIT_OK)
		return code;
	if (optind == argc && co.cfg.sources.n == 0) {
		fputs("hindsight: backup: name at least one SOURCE, or set sources in the "
		      "config\n", stderr);
		fputs(backup_usage, stderr);
		common_free(&co);
		return HS_EXIT_USAGE;
	}
	if ((code = common_repo(&co, &repo, 0)) != 0)
		return code;
	name = repo_name(&repo);
	code = HS_EXIT_ERROR;
	if (o.if_due && !o.dry && !o.show_excludes && not_due(&co.cfg, name, o.quiet)) {
		code = HS_EXIT_OK;
		goto out;
	}
	/* sources named here replace the config's */
	for (int i = optind; i < argc; i++) {
		char *abs = absolute(argv[i]);
		if (!abs) {
			fprintf(stderr, "hindsight: source %s: %s\n", argv[i], strerror(ENAMETOOLONG));
			code = HS_EXIT_NOTFOUND;
			goto out;
		}
		argv_push(&sources, abs);
		free(abs);
	}
	if (optind == argc)
		for (size_t i = 0; i < co.cfg.sources.n; i++)
			argv_push(&sources, co.cfg.sources.v[i]);
	for (size_t i = 0; i < sources.n; i++) {
		struct stat st;
		if (lstat(sources.v[i], &st) < 0) {
			fprintf(stderr, "hindsight: source %s: %s\n", sources.v[i], strerror(errno));
			code = HS_EXIT_NOTFOUND;
			goto out;
		}
	}
	if (co.cfg.exclude_file && access(co.cfg.exclude_file, R_OK) < 0) {
		fprintf(stderr, "hindsight: exclude_file %s: %s\n", co.cfg.exclude_file,
			strerror(errno));
		code = HS_EXIT_NOTFOUND;
		goto out;
	}
	our_rules(&repo, sources.v, sources.n, &rules, &ndefault);
	if (o.show_excludes) {
		code = show_excludes(&co.cfg, &rules, ndefault);
		goto out;
	}
	int rc = write_rules(&rules, filter);
	if (rc < 0) {
		fprintf(stderr, "hindsight: cannot write the exclude list: %s\n", strerror(-rc));
		goto out;
	}
	have_filter = 1;
	if (repo.local) {
		rc = mkdir_p(repo.dir, 0700);   /* backups are private */
		if (rc < 0) {
			fprintf(stderr, "hindsight: cannot create backup root %s: %s\n",
				repo.dir, strerror(-rc));
			code = rc == -ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
			goto out;
		}
	}
	lower_priority(&co.cfg);

	argv_push(&cmd, "-aAXHS");
	argv_push(&cmd, "--numeric-ids");
	argv_push(&cmd, "--delete");
	/* what is excluded now goes too: a sealed server receives into a
	 * copy of the last snapshot (docs/FASTPUSH.md) */
	argv_push(&cmd, "--delete-excluded");
	argv_push(&cmd, "--relative");
	if (co.cfg.bwlimit)
		argv_pushf(&cmd, "--bwlimit=%s", co.cfg.bwlimit);
	/* the user's rules first: a + rule there brings back what ours leave out */
	if (co.cfg.exclude_file)
		argv_pushf(&cmd, "--filter=. %s", co.cfg.exclude_file);
	argv_pushf(&cmd, "--filter=. %s", filter);
	argv_push(&cmd, "--stats");
	io.verbose = o.verbose;
	io.progress = !o.verbose && !o.dry && !o.quiet && isatty(1);
	if (o.dry) {
		argv_push(&cmd, "--dry-run");
		argv_push(&cmd, "-i");
	} else if (o.verbose) {
		argv_push(&cmd, "-i");
	} else if (io.progress) {
		argv_push(&cmd, "--info=progress2");
	}
	argv_push(&cmd, "--");
	for (size_t i = 0; i < sources.n; i++)
		argv_push(&cmd, sources.v[i]);
	char *dest = repo_rsync_spec(&repo, "");
	argv_push(&cmd, dest);
	free(dest);

	code = run_rsync_io(&repo, cmd.v, cmd.n, &io);
	if (code == HS_EXIT_AGAIN && !o.dry) {
		/*
		 * A sealed server gave the files whose attributes alone changed
		 * fresh inodes and published nothing: the same push again applies
		 * the attributes (what rsync said about them the first time is moot).
		 */
		int progress = io.progress;
		errlog_free(&io.err);
		io = (struct rsync_io)RSYNC_IO_INIT;
		io.verbose = o.verbose;
		io.progress = progress;
		code = run_rsync_io(&repo, cmd.v, cmd.n, &io);
	}
	struct strbuf why = STRBUF_INIT;
	if (code == HS_EXIT_OK || code == HS_EXIT_WARNINGS) {
		show_warnings(&io);
		if (!o.quiet || code == HS_EXIT_WARNINGS)
			summary(&o, &io, name, sources.v, sources.n, code);
		if (code == HS_EXIT_WARNINGS)
			fprintf(stderr, "hindsight: some files could not be read; the snapshot "
				"is published and marked \"with errors\" (exit 3)\n");
	} else {
		if (o.verbose) {
			for (size_t i = 0; i < io.err.server.n; i++)
				fprintf(stderr, "hindsight-server: %s\n", io.err.server.v[i]);
			show_warnings(&io);
		}
		explain_failure("backup", code, &io.err, name, &why);
		fprintf(stderr, "hindsight: %s\n", why.buf);
	}
	if (!o.dry)
		record(name, start, code, why.buf);
	sb_release(&why);
out:
	if (have_filter)
		unlink(filter);
	errlog_free(&io.err);
	argv_clear(&cmd);
	argv_clear(&sources);
	argv_clear(&rules);
	free(name);
	repo_free(&repo);
	common_free(&co);
	return code;
}
