/*
 * `hindsight-server sealer [--listen PATH] [--config FILE]`: the root
 * service of sealed mode (docs/SECURITY.md). It listens on a UNIX socket,
 * either inherited from systemd (hindsight-sealer.socket: LISTEN_FDS=1,
 * the socket as fd 3) or made at PATH (in the foreground, logging to
 * stderr too: tests, and systems without systemd), and forks one child per
 * connection, which does everything with that caller (sealer_req.c) and
 * exits. At most MAX_CHILDREN at a time; more are told to retry later.
 * Under systemd it exits after IDLE_EXIT seconds without a connection and
 * is started again by the next one.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/srvconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 64
#define IDLE_EXIT 600

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/* fd 3 from systemd: a listening UNIX stream socket. */
static int inherited(void)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);
	struct sockaddr_un sa;
	socklen_t salen = sizeof(sa);

	if (getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM)
		return -1;
	len = sizeof(listening);
	if (getsockopt(3, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0 || !listening)
		return -1;
	if (getsockname(3, (struct sockaddr *)&sa, &salen) < 0 || sa.sun_family != AF_UNIX)
		return -1;
	fcntl(3, F_SETFD, FD_CLOEXEC);
	return 3;
}

/* Make the socket at path (replacing a stale socket, nothing else). */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlcpy_chk(sa.sun_path, path, sizeof(sa.sun_path)) < 0) {
		fprintf(stderr, "hindsight-server: sealer: socket path too long: %s\n", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "hindsight-server: sealer: %s exists and is not a socket\n", path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0 ||
	    chmod(path, 0666) < 0) {
		fprintf(stderr, "hindsight-server: sealer: cannot listen on %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void busy(int fd)
{
	static const char msg[] = "error 11 the sealer is busy: retry later\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* the caller learns it from the closed connection */
	}
}

static int serve_forever(int lfd, const char *config, int idle_exit)
{
	int children = 0;
	time_t last = time(NULL);

	while (!stopping) {
		struct pollfd p = { lfd, POLLIN, 0 };
		int n = poll(&p, 1, 1000);
		while (children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
			children--;
		if (n < 0 && errno != EINTR) {
			syslog(LOG_ERR, "sealer: poll: %m");
			return HS_EXIT_ERROR;
		}
		if (n <= 0) {
			if (idle_exit && !children && time(NULL) - last > idle_exit)
				break;
			continue;
		}
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		last = time(NULL);
		if (children >= MAX_CHILDREN) {
			busy(fd);
			close(fd);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0) {
			close(lfd);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			sealer_connection(fd, config);
			close(fd);
			_exit(0);
		}
		if (pid > 0)
			children++;
		else
			syslog(LOG_ERR, "sealer: fork: %m");
		close(fd);
	}
	/* let the seals under way finish */
	while (children > 0 && waitpid(-1, NULL, 0) > 0)
		children--;
	return HS_EXIT_OK;
}

int cmd_sealer(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] =
		"usage: hindsight-server sealer [--listen PATH] [--config FILE]\n";
	const char *listen_path = NULL, *config = SRVCONF_PATH;
	int c, lfd;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': listen_path = optarg; break;
		case 'C': config = optarg; break;
		case 'h': fputs(usage, stdout); return HS_EXIT_OK;
		default: fputs(usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc || (config[0] != '/')) {
		fputs(usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "hindsight-server: sealer: must run as root\n");
		return HS_EXIT_ERROR;
	}
	if (listen_path) {
		/* in the foreground: what is logged shows on stderr too */
		closelog();
		openlog("hindsight-server", LOG_PID | LOG_PERROR, LOG_DAEMON);
		lfd = listen_at(listen_path);
	} else {
		lfd = inherited();
		if (lfd < 0)
			fprintf(stderr, "hindsight-server: sealer: no socket from systemd "
				"(hindsight-sealer.socket); give --listen PATH\n");
	}
	if (lfd < 0)
		return HS_EXIT_ERROR;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	struct sigaction sa = { .sa_handler = on_stop };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	syslog(LOG_INFO, "sealer: listening%s%s", listen_path ? " on " : " (socket-activated)",
	       listen_path ? listen_path : "");
	int code = serve_forever(lfd, config, listen_path ? 0 : IDLE_EXIT);
	close(lfd);
	if (listen_path)
		unlink(listen_path);
	return code;
}
