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

#ifndef RSYNC_PATH
#define RSYNC_PATH "/usr/bin/rsync"
#endif

static const char backup_usage[] =
	"usage: hindsight backup [--repo REPO] [--ssh CMD] [-n|--dry-run] [-v] SOURCE...\n";

/* The rsync -e value that runs us as the transport, quoted for rsync's splitter. */
static char *transport_rsh(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct strbuf sb = STRBUF_INIT;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if (strchr(self, '\''))
		return NULL;
	sb_addf(&sb, "'%s' __transport", self);
	return sb_detach(&sb);
}

static int make_local_root(const char *dir)
{
	/* mkdir -p, 0700: backups are private */
	char *copy = xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(copy, 0700) < 0 && errno != EEXIST) {
				rc = -errno;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(copy);
	return rc;
}

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

static int read_status(const char *file)
{
	char *text = NULL;
	int st = -1;

	if (read_file_at(AT_FDCWD, file, 64, &text) == 0 && text[0]) {
		char *end;
		long v = strtol(text, &end, 10);
		if (end != text && v >= 0 && v < 256)
			st = (int)v;
	}
	free(text);
	return st;
}

static const char *explain(int code)
{
	switch (code) {
	case HS_EXIT_WARNINGS: return "completed with warnings: some files were not backed up";
	case HS_EXIT_NOTFOUND: return "no such backup root";
	case HS_EXIT_LOCKED: return "another backup is in progress; retry later";
	case HS_EXIT_REFUSED: return "refused by the server";
	case HS_EXIT_UNREACHABLE: return "server unreachable or ssh failed";
	case HS_EXIT_NOSPACE: return "out of space on the backup server";
	case HS_EXIT_INTERRUPTED: return "interrupted";
	default: return "failed";
	}
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
	char status_file[] = "/tmp/hindsight-status.XXXXXX";
	char *rsh = NULL, **env = NULL;
	int sfd = -1;

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
		int rc = make_local_root(repo.dir);
		if (rc < 0) {
			fprintf(stderr, "hindsight: cannot create backup root %s: %s\n",
				repo.dir, strerror(-rc));
			code = rc == -ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
			goto out;
		}
	}
	rsh = transport_rsh();
	if (!rsh) {
		fputs("hindsight: cannot find my own program path\n", stderr);
		goto out;
	}
	sfd = mkstemp(status_file);
	if (sfd < 0) {
		fprintf(stderr, "hindsight: cannot create a temporary file: %s\n", strerror(errno));
		goto out;
	}
	close(sfd);
	env = repo_environ(&repo, status_file);

	argv_push(&cmd, RSYNC_PATH);
	argv_push(&cmd, "-aAXH");
	argv_push(&cmd, "--numeric-ids");
	argv_push(&cmd, "--delete");
	argv_push(&cmd, "--relative");
	if (dry)
		argv_push(&cmd, "--dry-run");
	if (verbose) {
		argv_push(&cmd, "-i");
		argv_push(&cmd, "--stats");
	}
	argv_pushf(&cmd, "--rsh=%s", rsh);
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
	if (repo.local)
		argv_push(&cmd, "hindsight:");
	else if (repo.user)
		argv_pushf(&cmd, "%s@%s:", repo.user, repo.host);
	else
		argv_pushf(&cmd, "%s:", repo.host);

	int interrupted = 0;
	pid_t pid = spawn(RSYNC_PATH, cmd.v, env, -1);
	if (pid < 0) {
		fprintf(stderr, "hindsight: cannot run %s: %s\n", RSYNC_PATH, strerror(-pid));
		goto out;
	}
	int rsync_st = wait_child(pid, &interrupted);
	int remote_st = read_status(status_file);

	if (interrupted)
		code = HS_EXIT_INTERRUPTED;
	else if (remote_st > 0)
		code = remote_exit(remote_st);   /* the server said what went wrong */
	else if (rsync_st == 0 || rsync_st == 24)
		code = HS_EXIT_OK;               /* 24: files vanished while we read */
	else if (rsync_st == 23)
		code = HS_EXIT_WARNINGS;
	else if (remote_st < 0 && rsync_st != 0)
		code = HS_EXIT_UNREACHABLE;      /* the transport never ran */
	else
		code = HS_EXIT_ERROR;
	if (code != HS_EXIT_OK)
		fprintf(stderr, "hindsight: backup %s%s (exit %d)\n",
			code == HS_EXIT_WARNINGS ? "" : "failed: ", explain(code), code);
out:
	if (sfd >= 0)
		unlink(status_file);
	if (env) {
		for (char **e = env; *e; e++)
			free(*e);
		free(env);
	}
	free(rsh);
	argv_clear(&cmd);
	repo_free(&repo);
	return code;
}
