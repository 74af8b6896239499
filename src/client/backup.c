/*
 * `hindsight backup SOURCE...`: one push of the sources to the repo, with
 * rsync -aAXH --numeric-ids --delete --relative so the snapshot mirrors
 * absolute paths. rsync runs `hindsight __transport` as its remote shell,
 * which tells us the server's exact exit code (see repo.c).
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char backup_usage[] =
	"usage: hindsight backup [--repo REPO] [--ssh CMD] [-n|--dry-run] [-v] SOURCE...\n";

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

int cmd_backup(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "ssh", required_argument, NULL, 's' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = default_repo(), *ssh = NULL;
	int dry = 0, verbose = 0, c, code = HS_EXIT_ERROR;
	struct repo repo;
	struct argv cmd = ARGV_INIT;

	while ((c = getopt_long(argc, argv, "nv", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': spec = optarg; break;
		case 's': ssh = optarg; break;
		case 'n': dry = 1; break;
		case 'v': verbose = 1; break;
		case 'h': fputs(backup_usage, stdout); return HS_EXIT_OK;
		default: fputs(backup_usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("hindsight: backup: name at least one SOURCE\n", stderr);
		fputs(backup_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = repo_parse(spec, ssh, &repo)) != 0)
		return code;
	code = HS_EXIT_ERROR;
	if (repo.local) {
		int rc = mkdir_p(repo.dir, 0700);   /* backups are private */
		if (rc < 0) {
			fprintf(stderr, "hindsight: cannot create backup root %s: %s\n",
				repo.dir, strerror(-rc));
			code = rc == -ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
			goto out;
		}
	}
	argv_push(&cmd, "-aAXHS");
	argv_push(&cmd, "--numeric-ids");
	argv_push(&cmd, "--delete");
	argv_push(&cmd, "--relative");
	if (dry)
		argv_push(&cmd, "--dry-run");
	if (verbose) {
		argv_push(&cmd, "-i");
		argv_push(&cmd, "--stats");
	}
	argv_push(&cmd, "--");
	for (int i = optind; i < argc; i++) {
		char *abs = absolute(argv[i]);
		struct stat st;
		if (!abs || lstat(abs, &st) < 0) {
			fprintf(stderr, "hindsight: source %s: %s\n", argv[i],
				strerror(abs ? errno : ENAMETOOLONG));
			free(abs);
			code = HS_EXIT_NOTFOUND;
			goto out;
		}
		argv_push(&cmd, abs);
		free(abs);
	}
	char *dest = repo_rsync_spec(&repo, "");
	argv_push(&cmd, dest);
	free(dest);
	code = run_rsync(&repo, cmd.v, cmd.n);
	if (code != HS_EXIT_OK)
		fprintf(stderr, "hindsight: backup %s%s (exit %d)\n",
			code == HS_EXIT_WARNINGS ? "" : "failed: ", explain_exit(code), code);
out:
	argv_clear(&cmd);
	repo_free(&repo);
	return code;
}
