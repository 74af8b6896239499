/*
 * `hindsight-server check [--root DIR]...`: what this server can promise.
 * The rsync it runs (refused below 3.4.3, warned below 3.5.0, which fixes
 * the 2026 receiver and sender CVEs; --confine-root or not), the Landlock
 * ABI, sealed mode's kernel settings, and for each root given, whether its
 * layout is sound (check_sealed.c for sealed roots). One line per finding:
 * "ok:", "warning:" or "error:". Exit 0, 3 with warnings, 1 with errors, 10
 * for a root that does not exist. Reads only and takes no lock, unless
 * --repair: then each root is first repaired under its lock, as the next
 * push would (a seal cut short is finished or discarded).
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/landlock.h"
#include "../lib/root.h"
#include "../lib/snapname.h"
#include "../lib/srvconf.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tally {
	int warnings;
	int errors;
};

__attribute__((format(printf, 3, 4)))
static void say(struct tally *t, const char *level, const char *fmt, ...)
{
	va_list ap;

	if (!strcmp(level, "warning"))
		t->warnings++;
	else if (!strcmp(level, "error"))
		t->errors++;
	printf("%s: ", level);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void check_rsync(const char *rsync, struct tally *t)
{
	const struct rsync_info *ri = rsync_probe(rsync);
	long v = ri->major * 10000L + ri->minor * 100L + ri->patch;

	if (!ri->found) {
		say(t, "error", "cannot learn the version of %s: pushes and restores are refused",
		    rsync);
		return;
	}
	if (v < 30403)
		say(t, "error", "rsync %d.%d.%d at %s is older than 3.4.3: pushes and restores "
		    "are refused", ri->major, ri->minor, ri->patch, rsync);
	else if (v < 30500)
		say(t, "warning", "rsync %d.%d.%d at %s: 3.5.0 or newer fixes the 2026 "
		    "receiver and sender CVEs", ri->major, ri->minor, ri->patch, rsync);
	else
		say(t, "ok", "rsync %d.%d.%d at %s", ri->major, ri->minor, ri->patch, rsync);
	if (ri->confine_root)
		say(t, "ok", "rsync has --confine-root: it is passed on every push and restore");
	else
		say(t, "warning", "rsync has no --confine-root: filter merge files named by a "
		    "client are bounded by Landlock alone");
}

static void check_landlock(struct tally *t)
{
	int abi = landlock_abi();

	if (abi >= 2)
		say(t, "ok", "Landlock ABI %d: every rsync serve runs is confined", abi);
	else if (abi == 1)
		say(t, "warning", "Landlock ABI 1: restores are confined, pushes are not "
		    "(no REFER right for --link-dest)");
	else
		say(t, "warning", "this kernel has no Landlock: rsync is confined by its argv alone");
}

static void check_config(const char *path, struct tally *t)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT, keep = STRBUF_INIT;
	struct stat st;

	if (srvconf_load(path, &c, &err) < 0) {
		say(t, "error", "%s: pushes are refused until it is fixed", err.buf);
	} else {
		ret_format(&c.defaults.keep, &keep);
		say(t, "ok", "%s%s: keep %s, %zu account section%s", c.path,
		    stat(c.path, &st) == 0 ? "" : " (absent: the defaults)", keep.buf,
		    c.n_accounts, c.n_accounts == 1 ? "" : "s");
	}
	srvconf_free(&c);
	sb_release(&err);
	sb_release(&keep);
}

static int empty_dir_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int empty = 1;

	while (d && empty && (de = readdir(d)) != NULL)
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return empty;
}

/* The layout of one root: the same facts repair would act on, reported. */
static int check_root(const char *path, struct tally *t)
{
	struct root r;
	struct snaplist l;
	char target[64];
	struct stat st;
	int rc = root_open(path, 0, &r);

	if (rc < 0) {
		say(t, "error", "%s: no backup root: %s", path, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	if (r.metafd < 0)
		say(t, "warning", "%s: no .hindsight/ yet (made by the first push)", path);
	if (root_snapshots(r.fd, &l) < 0) {
		say(t, "error", "%s: cannot list snapshots", path);
		root_close(&r);
		return HS_EXIT_ERROR;
	}
	say(t, "ok", "%s: %zu snapshot%s", path, l.n, l.n == 1 ? "" : "s");
	ssize_t n = readlinkat(r.fd, HS_CURRENT, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	if (l.n && (n < 0 || strcmp(target, l.names[l.n - 1])))
		say(t, "warning", "%s: current does not name the newest snapshot %s "
		    "(the next push repairs it)", path, l.names[l.n - 1]);
	else if (!l.n && n >= 0)
		say(t, "warning", "%s: current names %s but there are no snapshots", path, target);
	if (r.metafd >= 0 && fstatat(r.metafd, "pending.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		say(t, "warning", "%s: a publish was interrupted (the next push finishes it)", path);
	/* a sealed root always has one, empty between pushes */
	if (fstatat(r.fd, HS_INPROGRESS, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(r.sealed && empty_dir_at(r.fd, HS_INPROGRESS)))
		say(t, "ok", "%s: an interrupted push left inprogress/ (the next push resumes from it)",
		    path);
	/* anything else in the root is not ours */
	int dfd = openat(r.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		const char *e = de->d_name;
		if (!strcmp(e, ".") || !strcmp(e, "..") || !strcmp(e, HS_CURRENT) ||
		    !strcmp(e, HS_INPROGRESS) || !strcmp(e, HS_META_DIR) ||
		    !strcmp(e, ".ssh") || snapname_parse(e, NULL) == 0)
			continue;
		say(t, "warning", "%s: %.200s is not part of the layout", path, e);
	}
	if (d)
		closedir(d);
	else if (dfd >= 0)
		close(dfd);
	snaplist_free(&l);
	root_close(&r);
	return HS_EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'C' },
		{ "repair", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: hindsight-server check [--root DIR]... [--repair] [--config FILE]\n";
	const char *config = getenv("HINDSIGHT_SERVER_CONF");
	const char *rsync = RSYNC_PATH;
	struct tally t = { 0, 0 };
	struct argv roots = ARGV_INIT;
	struct check_count sc = { 0, 0 };
	int c, code = HS_EXIT_OK, repair = 0;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': argv_push(&roots, optarg); break;
		case 'C': config = optarg; break;
		case 'R': repair = 1; break;
		case 'h': fputs(usage, stdout); argv_clear(&roots); return HS_EXIT_OK;
		default: fputs(usage, stderr); argv_clear(&roots); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(usage, stderr);
		argv_clear(&roots);
		return HS_EXIT_USAGE;
	}
#ifdef HS_TEST_HOOKS
	if (getenv("HS_TEST_RSYNC"))
		rsync = getenv("HS_TEST_RSYNC");
#endif
	check_rsync(rsync, &t);
	check_landlock(&t);
	check_config(config, &t);
	check_sealed_kernel(config, &roots, &sc);
	for (size_t i = 0; i < roots.n; i++) {
		if (repair && check_repair(roots.v[i], config, &sc) == HS_EXIT_LOCKED)
			code = HS_EXIT_LOCKED;
		int rc = check_root(roots.v[i], &t);
		if (rc == HS_EXIT_NOTFOUND)
			code = HS_EXIT_NOTFOUND;
		check_sealed_root(roots.v[i], config, &sc);
	}
	argv_clear(&roots);
	t.warnings += sc.warnings;
	t.errors += sc.errors;
	if (code == HS_EXIT_LOCKED)
		return code;
	if (code == HS_EXIT_NOTFOUND)
		return code;
	return t.errors ? HS_EXIT_ERROR : t.warnings ? HS_EXIT_WARNINGS : HS_EXIT_OK;
}
