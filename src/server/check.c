/*
 * `hindsight-server check [--root DIR... | --all] [--repair]`: what this
 * server can promise. The rsync it runs (refused below 3.4.3, warned below
 * 3.5.0, which fixes the 2026 receiver and sender CVEs; --confine-root or
 * not), the Landlock ABI, the configuration, sealed mode's kernel settings
 * (check_sealed.c), and for each root given (--all: every root under base)
 * whether its layout is sound (check_root.c; check_sealed.c too for a
 * sealed root). One line per finding: "ok:", "warning:", "error:", and
 * with --repair "repaired:". Exit 0, 3 with warnings, 1 with errors, 10
 * for a root that does not exist, 11 when --repair finds a push or a prune
 * running. Without --repair it reads only and takes no lock. With it, a
 * sealed root's seal cut short is also finished or discarded, and its
 * sealed layout put right, as the sealer would.
 */
#include "check.h"
#include "../lib/fsops.h"
#include "../lib/exitcodes.h"
#include "../lib/landlock.h"
#include "../lib/srvconf.h"

#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void say(struct tally *t, const char *level, const char *fmt, ...)
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

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "repair", no_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: hindsight-server check [--root DIR... | --all] [--repair] [--config FILE]\n";
	const char *config = getenv("HINDSIGHT_SERVER_CONF");
	const char *rsync = RSYNC_PATH;
	struct tally t = { 0, 0 };
	struct argv roots = ARGV_INIT;
	int c, all = 0, repair = 0, code = HS_EXIT_OK;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': argv_push(&roots, optarg); break;
		case 'a': all = 1; break;
		case 'R': repair = 1; break;
		case 'C': config = optarg; break;
		case 'h': fputs(usage, stdout); argv_clear(&roots); return HS_EXIT_OK;
		default: fputs(usage, stderr); argv_clear(&roots); return HS_EXIT_USAGE;
		}
	}
	int relative = 0;
	for (size_t i = 0; i < roots.n; i++)
		relative |= roots.v[i][0] != '/';
	if (optind != argc || (all && roots.n) || relative || (repair && !all && !roots.n)) {
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
	check_sealed_kernel(config, &roots, &t);
	if (all) {
		struct srvconf conf;
		if ((code = load_conf(config, &conf)) == HS_EXIT_OK) {
			code = roots_under(conf.base, 0, &roots);
			srvconf_free(&conf);
		}
		if (code != HS_EXIT_OK) {
			argv_clear(&roots);
			return code;
		}
	}
	int notfound = 0, locked = 0;
	for (size_t i = 0; i < roots.n; i++) {
		int rc = check_root(roots.v[i], repair, config, &t);
		if (rc != HS_EXIT_NOTFOUND)
			check_sealed_root(roots.v[i], config, &t);
		notfound |= rc == HS_EXIT_NOTFOUND;
		locked |= rc == HS_EXIT_LOCKED;
		if (rc == HS_EXIT_ERROR)
			t.errors++;
	}
	argv_clear(&roots);
	if (notfound)
		return HS_EXIT_NOTFOUND;
	if (locked)
		return HS_EXIT_LOCKED;
	return t.errors ? HS_EXIT_ERROR : t.warnings ? HS_EXIT_WARNINGS : HS_EXIT_OK;
}
