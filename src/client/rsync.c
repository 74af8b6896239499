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
#include "outcome.h"
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <time.h>
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

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int terminal_width(void)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col > 200 ? 200 : ws.ws_col;
	return 80;
}

/* What rsync's stdout is turned into, a piece at a time (see rsync_io). */
struct out_state {
	struct rsync_io *io;
	struct strbuf piece;
	double start, drawn;
	int bar_shown;
};

static void clear_bar(struct out_state *os)
{
	if (os->bar_shown) {
		fputs("\r\033[K", stdout);
		fflush(stdout);
		os->bar_shown = 0;
	}
}

/* One piece of rsync's stdout, ended by \r (progress) or \n (a line). */
static void out_piece(struct out_state *os, int cr)
{
	struct rsync_io *io = os->io;
	struct progress p;
	const char *line = os->piece.buf;

	if (progress_parse(line, &p) == 0) {
		double t = now_seconds();
		/* at most ten frames a second, but always the last one */
		if (io->progress && (t - os->drawn >= 0.1 || p.percent == 100)) {
			struct strbuf bar = STRBUF_INIT;
			progress_render(&p, t - os->start, terminal_width() - 1, &bar);
			printf("\r%s\033[K", bar.buf);
			fflush(stdout);
			sb_release(&bar);
			os->drawn = t;
			os->bar_shown = 1;
		}
		return;
	}
	if (cr && !line[0])
		return;
	if (stats_line(line, &io->stats) && !io->verbose)
		return;
	if (!line[0] && !io->verbose)
		return;
	clear_bar(os);
	puts(line);
	fflush(stdout);
}

static void out_feed(struct out_state *os, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\r' || buf[i] == '\n') {
			out_piece(os, buf[i] == '\r');
			sb_reset(&os->piece);
		} else if (os->piece.len < 4096) {
			sb_addch(&os->piece, buf[i]);
		}
	}
}

static volatile sig_atomic_t io_signal;
static volatile pid_t io_child;

static void io_forward(int sig)
{
	io_signal = sig;
	if (io_child > 0)
		kill(io_child, sig);
}

/*
 * Read rsync's stdout and stderr until both are closed (by rsync, the
 * transport and ssh: so the server has finished too), forwarding the
 * signals that would otherwise kill us first.
 */
static void pump(pid_t pid, int out_fd, int err_fd, struct rsync_io *io, int *interrupted)
{
	static const int sigs[3] = { SIGTERM, SIGHUP, SIGINT };
	struct sigaction sa, old[3];
	struct out_state os = { io, STRBUF_INIT, now_seconds(), 0, 0 };
	struct pollfd pf[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	char buf[16384];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = io_forward;
	sigemptyset(&sa.sa_mask);
	io_signal = 0;
	io_child = pid;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			ssize_t got = read(pf[i].fd, buf, sizeof(buf));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				continue;
			}
			if (i == 0)
				out_feed(&os, buf, (size_t)got);
			else
				errlog_feed(&io->err, buf, (size_t)got);
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	if (os.piece.len)
		out_piece(&os, 0);
	clear_bar(&os);
	errlog_finish(&io->err);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	io_child = 0;
	*interrupted = io_signal != 0;
	io->seconds = now_seconds() - os.start;
	sb_release(&os.piece);
}

int run_rsync(const struct repo *r, char *const args[], size_t n)
{
	return run_rsync_io(r, args, n, NULL);
}

int run_rsync_io(const struct repo *r, char *const args[], size_t n, struct rsync_io *io)
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

	int pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	if (io) {
		if (pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0) {
			fprintf(stderr, "hindsight: cannot make a pipe: %s\n", strerror(errno));
			for (int i = 0; i < 2; i++) {
				if (pout[i] >= 0)
					close(pout[i]);
				if (perr[i] >= 0)
					close(perr[i]);
			}
			goto out;
		}
		so.out_fd = pout[1];
		so.err_fd = perr[1];
	}
	pid_t pid = spawn_with(RSYNC_PATH, cmd.v, env, &so);
	if (io) {
		close(pout[1]);
		close(perr[1]);
	}
	if (pid < 0) {
		fprintf(stderr, "hindsight: cannot run %s: %s\n", RSYNC_PATH, strerror(-pid));
		if (io) {
			close(pout[0]);
			close(perr[0]);
		}
		goto out;
	}
	int pumped_signal = 0;
	if (io)
		pump(pid, pout[0], perr[0], io, &pumped_signal);
	int rsync_st = wait_child(pid, &interrupted);
	interrupted |= pumped_signal;
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
	case HS_EXIT_AGAIN: return "not published yet: run the backup again to finish";
	case HS_EXIT_INTERRUPTED: return "interrupted";
	default: return "rsync failed (see its message above)";
	}
}
