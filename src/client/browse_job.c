/*
 * `hindsight browse`'s queries (browse_ui.h): each one runs in a forked
 * child, through the same run_query() as ls, versions and diff (a restore
 * through restore_one()), while the screen goes on; its answer comes back
 * through a pipe, read a little at a time between keys.
 */
#include "browse_ui.h"
#include "../lib/exitcodes.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Child side: never returns. The answer on out_fd, messages on err_fd. */
static void job_child(const struct repo *r, struct job *j, char *const words[], size_t n,
		      int out_fd, int err_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int code;

	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);

	/*
	 * ssh must not read our keys, nor write on the screen: not even a
	 * password prompt on /dev/tty, so no controlling terminal at all
	 * (ssh then fails, and says why on stderr, which we show)
	 */
	if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(err_fd, 2) < 0 ||
	    dup2(j->kind == JOB_RESTORE ? err_fd : null, 1) < 0)
		_exit(HS_EXIT_ERROR);
	if (j->kind == JOB_RESTORE) {
		struct restore_opts o = { 0 };
		code = restore_one(r, j->snap, j->path.buf, j->target.buf, &o);
		_exit(code);
	}
	char *text = NULL;
	code = run_query(r, words, n, ANSWER_MAX, &text);
	if (code == HS_EXIT_OK) {
		size_t len = strlen(text), off = 0;
		while (off < len) {
			ssize_t w = write(out_fd, text + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(HS_EXIT_ERROR);
			off += (size_t)w;
		}
	}
	_exit(code);
}

int job_start(struct job *j, const struct repo *r, char *const words[], size_t n)
{
	int out[2], err[2];

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	j->pid = fork();
	if (j->pid == 0) {
		close(out[0]);
		close(err[0]);
		job_child(r, j, words, n, out[1], err[1]);
	}
	close(out[1]);
	close(err[1]);
	if (j->pid < 0) {
		close(out[0]);
		close(err[0]);
		j->pid = 0;
		return -1;
	}
	j->out_fd = out[0];
	j->err_fd = err[0];
	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(j->err_fd, F_SETFL, O_NONBLOCK);
	sb_reset(&j->out);
	sb_reset(&j->err);
	return 0;
}

/* Read what is there; -1 at EOF (fd closed), else 0. */
static int drain(int *fd, struct strbuf *sb, size_t max)
{
	char buf[65536];

	while (*fd >= 0) {
		ssize_t got = read(*fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return 0;   /* EAGAIN: more later */
		if (got == 0) {
			close(*fd);
			*fd = -1;
			break;
		}
		if (sb->len + (size_t)got <= max)
			sb_add(sb, buf, (size_t)got);
	}
	return -1;
}

int job_poll(struct job *j, int *code)
{
	int st;

	drain(&j->out_fd, &j->out, ANSWER_MAX);
	drain(&j->err_fd, &j->err, 65536);
	if (j->out_fd >= 0 || j->err_fd >= 0)
		return 0;
	while (waitpid(j->pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = HS_EXIT_ERROR << 8;
			break;
		}
	}
	j->pid = 0;
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 1;
}

void job_kill(struct job *j)
{
	int code;

	if (j->pid <= 0)
		return;
	/* the child forwards SIGTERM to ssh (wait_child) and exits */
	kill(j->pid, SIGTERM);
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->err_fd >= 0)
		close(j->err_fd);
	j->out_fd = j->err_fd = -1;
	job_poll(j, &code);
}

void job_reason(const struct job *j, int code, struct strbuf *out)
{
	struct strbuf line = STRBUF_INIT;
	const char *l;

	sb_reset(out);
	last_line(j->err.buf, &line);
	l = line.buf;
	/* said on our screen, the program's name is noise */
	if (!strncmp(l, "hindsight: ", 11))
		l += 11;
	else if (!strncmp(l, "hindsight-server: ", 18))
		l += 18;
	sb_addstr(out, l);
	sb_release(&line);
	if (!out->len)
		sb_addf(out, "failed: %s (exit %d)", explain_exit(code), code);
}
