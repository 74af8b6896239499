/*
 * Running the helper programs the client needs (ssh-keygen, systemctl,
 * crontab) without a shell, reading what they print.
 */
#include "client.h"
#include "../lib/fsops.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

int run_program(char *const argv[], char **out, char **err)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 }, interrupted = 0, st;
	struct spawn_opts so = SPAWN_OPTS_INIT;
	struct strbuf sb[2] = { STRBUF_INIT, STRBUF_INIT };
	struct pollfd pf[2];
	pid_t pid;

	if ((out && pipe2(po, O_CLOEXEC) < 0) || (err && pipe2(pe, O_CLOEXEC) < 0)) {
		st = -errno;
		goto fail;
	}
	so.out_fd = po[1];
	so.err_fd = pe[1];
	pid = spawn_with(argv[0], argv, environ, &so);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[1] >= 0)
		close(pe[1]);
	po[1] = pe[1] = -1;
	if (pid < 0) {
		st = (int)pid;
		goto fail;
	}
	pf[0] = (struct pollfd){ po[0], POLLIN, 0 };
	pf[1] = (struct pollfd){ pe[0], POLLIN, 0 };
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		char buf[4096];
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			ssize_t n = read(pf[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
			} else if (sb[i].len < (1 << 20)) {
				sb_add(&sb[i], buf, (size_t)n);
			}
		}
	}
	po[0] = pe[0] = -1;
	st = wait_child(pid, &interrupted);
	if (out)
		*out = sb_detach(&sb[0]);
	if (err)
		*err = sb_detach(&sb[1]);
	return st;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	sb_release(&sb[0]);
	sb_release(&sb[1]);
	return st;
}

void last_line(const char *text, struct strbuf *out)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	sb_add(out, start, (size_t)(end - start));
}

int write_file_path(const char *path, const char *text, unsigned mode, unsigned dir_mode)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int dfd, rc;

	if (!slash || slash == path || !slash[1])
		return -EINVAL;
	dir = xmalloc((size_t)(slash - path) + 1);
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	rc = mkdir_p(dir, dir_mode);
	if (rc == 0) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			rc = -errno;
		} else {
			rc = write_file_atomic(dfd, slash + 1, text, strlen(text));
			if (rc == 0 && fchmodat(dfd, slash + 1, mode, 0) < 0)
				rc = -errno;
			close(dfd);
		}
	}
	free(dir);
	return rc;
}
