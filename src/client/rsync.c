/*
 * Running the local rsync against a repo: rsync's remote shell is
 * `hindsight __transport` (repo.c), which records the exit status of ssh
 * or of the server in a private file, so that a refused, locked,
 * unreachable or missing answer gets its own exit code although rsync
 * itself reports most of them as 12.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

/*
 * The transport's exit status, once it has exited: it holds a lock on the
 * file while it runs (repo.c), and rsync may have exited without waiting.
 */
static int read_status(const char *file)
{
	char *text = NULL;
	int st = -1;
	int fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
		close(fd);
	}

	if (read_file_at(AT_FDCWD, file, 64, &text) == 0 && text[0]) {
		char *end;
		long v = strtol(text, &end, 10);
		if (end != text && v >= 0 && v < 256)
			st = (int)v;
	}
	free(text);
	return st;
}

char *repo_rsync_spec(const struct repo *r, const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	if (r->local)
		sb_addstr(&sb, "hindsight:");
	else if (r->user)
		sb_addf(&sb, "%s@%s:", r->user, r->host);
	else
		sb_addf(&sb, "%s:", r->host);
	sb_addstr(&sb, path);
	return sb_detach(&sb);
}

int run_rsync(const struct repo *r, char *const args[], size_t n)
{
	char status_file[] = "/tmp/hindsight-status.XXXXXX";
	struct argv cmd = ARGV_INIT;
	char **env = NULL;
	char *rsh = transport_rsh();
	int code = HS_EXIT_ERROR, interrupted = 0;
	int sfd = -1;

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
	env = repo_environ(r, status_file);
	argv_push(&cmd, RSYNC_PATH);
	argv_pushf(&cmd, "--rsh=%s", rsh);
	for (size_t i = 0; i < n; i++)
		argv_push(&cmd, args[i]);

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
	else if (remote_st < 0 && (rsync_st == 12 || rsync_st == 14 || rsync_st == 255))
		code = HS_EXIT_UNREACHABLE;      /* the transport could not be started */
	else
		code = HS_EXIT_ERROR;            /* rsync itself failed, here */
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
	return code;
}

const char *explain_exit(int code)
{
	switch (code) {
	case HS_EXIT_OK: return "done";
	case HS_EXIT_WARNINGS: return "completed with warnings: some files were not transferred";
	case HS_EXIT_NOTFOUND: return "no such backup root, snapshot or path";
	case HS_EXIT_LOCKED: return "another backup is in progress; retry later";
	case HS_EXIT_REFUSED: return "refused by the server";
	case HS_EXIT_UNREACHABLE: return "server unreachable or ssh failed";
	case HS_EXIT_NOSPACE: return "out of space";
	case HS_EXIT_INTERRUPTED: return "interrupted";
	default: return "rsync failed (see its message above)";
	}
}
