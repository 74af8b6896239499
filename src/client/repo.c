/*
 * Destinations and transports. A remote repo is reached with ssh; a local
 * one with `hindsight-server local`, the same serve code with no ssh in
 * between. Both are run by `hindsight __transport`, which records the exit
 * status of ssh (or of the server) so that we can tell "locked" from
 * "refused" from "unreachable" although rsync reports all three as 12.
 */
#include "client.h"
#include "../lib/cmdsplit.h"
#include "../lib/exitcodes.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *default_repo(void)
{
	return getenv("HINDSIGHT_REPO");
}

int repo_parse(const char *spec, const char *ssh, struct repo *r)
{
	memset(r, 0, sizeof(*r));
	if (!spec || !*spec) {
		fputs("hindsight: no repository: give --repo, set HINDSIGHT_REPO, or run hindsight init\n", stderr);
		return HS_EXIT_USAGE;
	}
	const char *colon = strchr(spec, ':');
	const char *slash = strchr(spec, '/');
	if (colon && (!slash || colon < slash)) {
		if (colon[1]) {
			fprintf(stderr, "hindsight: repository %s: a remote repository is "
				"[user@]host: with nothing after the colon\n", spec);
			return HS_EXIT_USAGE;
		}
		const char *at = memchr(spec, '@', (size_t)(colon - spec));
		const char *host = at ? at + 1 : spec;
		if (host == colon || (at && at == spec) || host[0] == '-') {
			fprintf(stderr, "hindsight: repository %s: bad host\n", spec);
			return HS_EXIT_USAGE;
		}
		r->host = xmalloc((size_t)(colon - host) + 1);
		memcpy(r->host, host, (size_t)(colon - host));
		r->host[colon - host] = '\0';
		if (at) {
			r->user = xmalloc((size_t)(at - spec) + 1);
			memcpy(r->user, spec, (size_t)(at - spec));
			r->user[at - spec] = '\0';
		}
		if (!ssh)
			ssh = getenv("HINDSIGHT_SSH");
		r->ssh = xstrdup(ssh && *ssh ? ssh : "ssh");
		return 0;
	}
	r->local = 1;
	if (spec[0] == '/') {
		r->dir = xstrdup(spec);
	} else {
		char cwd[PATH_MAX];
		struct strbuf sb = STRBUF_INIT;
		if (!getcwd(cwd, sizeof(cwd))) {
			fprintf(stderr, "hindsight: cannot find the current directory: %s\n",
				strerror(errno));
			return HS_EXIT_ERROR;
		}
		sb_addf(&sb, "%s/%s", cwd, spec);
		r->dir = sb_detach(&sb);
	}
	return 0;
}

/* The name a repo goes by in messages and in the state file's name. */
char *repo_name(const struct repo *r)
{
	struct strbuf sb = STRBUF_INIT;

	if (r->local)
		sb_addstr(&sb, r->dir);
	else if (r->user)
		sb_addf(&sb, "%s@%s:", r->user, r->host);
	else
		sb_addf(&sb, "%s:", r->host);
	return sb_detach(&sb);
}

void repo_free(struct repo *r)
{
	free(r->dir);
	free(r->user);
	free(r->host);
	free(r->ssh);
	memset(r, 0, sizeof(*r));
}

char *server_program(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			struct strbuf sb = STRBUF_INIT;
			sb_add(&sb, self, (size_t)(slash - self));
			sb_addstr(&sb, "/hindsight-server");
			if (access(sb.buf, X_OK) == 0)
				return sb_detach(&sb);
			sb_release(&sb);
		}
	}
	return xstrdup(BINDIR "/hindsight-server");
}

void repo_transport(const struct repo *r, struct argv *out)
{
	if (r->local) {
		char *server = server_program();
		argv_push(out, server);
		argv_push(out, "local");
		free(server);
		return;
	}
	const char *why;
	struct argv words = ARGV_INIT;
	if (split_command(r->ssh, &words, &why) < 0 || words.n == 0)
		argv_push(out, "ssh");
	for (size_t i = 0; i < words.n; i++)
		argv_push(out, words.v[i]);
	argv_clear(&words);
}

char **repo_environ(const struct repo *r, const char *status_file)
{
	struct argv env = ARGV_INIT;

	for (char **e = environ; *e; e++) {
		/* ours are set below; secluded args would hide the command from serve */
		if (!strncmp(*e, "HINDSIGHT_ROOT=", 15) ||
		    !strncmp(*e, "HINDSIGHT_STATUS_FILE=", 22) ||
		    !strncmp(*e, "HINDSIGHT_TRANSPORT=", 20) ||
		    !strncmp(*e, "RSYNC_PROTECT_ARGS=", 19))
			continue;
		argv_push(&env, *e);
	}
	if (r->local)
		argv_pushf(&env, "HINDSIGHT_ROOT=%s", r->dir);
	if (status_file)
		argv_pushf(&env, "HINDSIGHT_STATUS_FILE=%s", status_file);
	/* the transport's own argv, one word per line (words hold no newline) */
	struct argv t = ARGV_INIT;
	struct strbuf sb = STRBUF_INIT;
	repo_transport(r, &t);
	for (size_t i = 0; i < t.n; i++)
		sb_addf(&sb, "%s%s", i ? "\n" : "", t.v[i]);
	argv_pushf(&env, "HINDSIGHT_TRANSPORT=%s", sb.buf);
	sb_release(&sb);
	argv_clear(&t);
	char **v = env.v;   /* handed over: the caller frees with free_environ */
	return v ? v : xcalloc(1, sizeof(char *));
}

int remote_exit(int status)
{
	switch (status) {
	case 255:
		return HS_EXIT_UNREACHABLE;   /* ssh's own failure */
	case HS_EXIT_WARNINGS:
	case HS_EXIT_USAGE:
	case HS_EXIT_NOTFOUND:
	case HS_EXIT_LOCKED:
	case HS_EXIT_REFUSED:
	case HS_EXIT_NOSPACE:
	case HS_EXIT_AGAIN:
	case HS_EXIT_INTERRUPTED:
		return status;
	case 127:
		return HS_EXIT_UNREACHABLE;   /* the transport could not be run */
	default:
		return HS_EXIT_ERROR;
	}
}

/*
 * `hindsight __transport [-l USER] HOST WORDS...`: what rsync -e runs.
 * Runs the transport from HINDSIGHT_TRANSPORT with our arguments, passes
 * stdin/stdout through, and writes its exit status to HINDSIGHT_STATUS_FILE.
 */
int cmd_transport(int argc, char **argv)
{
	const char *t = getenv("HINDSIGHT_TRANSPORT");
	const char *status_file = getenv("HINDSIGHT_STATUS_FILE");
	struct argv cmd = ARGV_INIT;
	int interrupted = 0, st;

	if (!t || !*t || argc < 2) {
		fputs("hindsight: __transport is run by hindsight itself\n", stderr);
		return HS_EXIT_USAGE;
	}
	for (const char *p = t; *p;) {
		size_t len = strcspn(p, "\n");
		struct strbuf w = STRBUF_INIT;
		sb_add(&w, p, len);
		argv_push(&cmd, w.buf);
		sb_release(&w);
		p += len;
		if (*p)
			p++;
	}
	for (int i = 1; i < argc; i++)
		argv_push(&cmd, argv[i]);
	/*
	 * Hold a lock on the status file for as long as we live: on an error
	 * rsync exits without waiting for us, and the client takes this lock
	 * before it reads the status, so it waits until the server is done.
	 */
	int sfd = status_file ? open(status_file, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (sfd >= 0)
		flock(sfd, LOCK_EX);
	pid_t pid = spawn(cmd.v[0], cmd.v, environ, -1);
	st = pid < 0 ? 127 : wait_child(pid, &interrupted);
	if (st < 0)
		st = 127;
	if (sfd >= 0) {
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%d\n", st);
		if (ftruncate(sfd, 0) < 0 || pwrite(sfd, buf, (size_t)n, 0) != n) {
			/* the caller then falls back on rsync's own code */
		}
		close(sfd);
	}
	argv_clear(&cmd);
	return st;
}

int run_query(const struct repo *r, char *const words[], size_t n, size_t max, char **out)
{
	struct argv cmd = ARGV_INIT;
	struct strbuf sb = STRBUF_INIT;
	char **env = repo_environ(r, NULL);
	int pfd[2], interrupted = 0, code = HS_EXIT_OK;

	repo_transport(r, &cmd);
	if (r->local) {
		argv_push(&cmd, "hindsight");
	} else {
		if (r->user) {
			argv_push(&cmd, "-l");
			argv_push(&cmd, r->user);
		}
		argv_push(&cmd, r->host);
	}
	argv_push(&cmd, "hindsight");
	for (size_t i = 0; i < n; i++) {
		struct strbuf q = STRBUF_INIT;
		quote_word(&q, words[i]);   /* as rsync would: ssh joins with spaces */
		argv_push(&cmd, q.buf);
		sb_release(&q);
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		code = HS_EXIT_ERROR;
		goto out;
	}
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.out_fd = pfd[1];
	pid_t pid = spawn_with(cmd.v[0], cmd.v, env, &so);
	close(pfd[1]);
	if (pid < 0) {
		fprintf(stderr, "hindsight: cannot run %s: %s\n", cmd.v[0], strerror(-pid));
		close(pfd[0]);
		code = HS_EXIT_UNREACHABLE;
		goto out;
	}
	char buf[8192];
	ssize_t got;
	while ((got = read(pfd[0], buf, sizeof(buf))) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (sb.len + (size_t)got > max) {
			fputs("hindsight: server answer too large\n", stderr);
			code = HS_EXIT_ERROR;
			break;
		}
		sb_add(&sb, buf, (size_t)got);
	}
	close(pfd[0]);
	int st = wait_child(pid, &interrupted);
	if (interrupted)
		code = HS_EXIT_INTERRUPTED;
	else if (st != 0 && code == HS_EXIT_OK)
		code = remote_exit(st);
	if (code == HS_EXIT_OK)
		*out = sb_detach(&sb);
out:
	sb_release(&sb);
	argv_clear(&cmd);
	for (char **e = env; *e; e++)
		free(*e);
	free(env);
	return code;
}
