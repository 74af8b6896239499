/*
 * Running a program without a shell: an absolute path, an argv we built,
 * an environment built from scratch, fds 0-2 as given and everything else
 * closed (except keep_fd, if >= 0). No function here prints.
 */
#ifndef HS_SPAWN_H
#define HS_SPAWN_H

#include <sys/types.h>

/*
 * Fork and exec path: absolute, or (client side only, for ssh) a bare name
 * looked up in PATH. Returns the child's pid, or a negative errno value; a
 * failed exec shows as exit status 127 of the child.
 */
pid_t spawn(const char *path, char *const argv[], char *const envp[], int keep_fd);

/*
 * Like spawn(), with options; every field -1 means "as the parent has it".
 * The parent's own fds and cwd are never touched.
 */
struct spawn_opts {
	int out_fd;   /* the child's stdout */
	int err_fd;   /* the child's stderr */
	int keep_fd;  /* kept open in the child as fd 3 */
	int cwd_fd;   /* the child fchdir()s here: a directory pinned by fd */
	/* run in the child last thing before execve; a negative return makes
	 * the child exit 127 without exec (fail closed) */
	int (*pre_exec)(void *arg);
	void *pre_exec_arg;
	int in_fd;    /* the child's stdin */
};
#define SPAWN_OPTS_INIT { -1, -1, -1, -1, NULL, NULL, -1 }
pid_t spawn_with(const char *path, char *const argv[], char *const envp[],
		 const struct spawn_opts *o);

/*
 * Wait for pid, forwarding SIGTERM, SIGHUP and SIGINT to it. Returns the
 * exit status (0-255), 128+signal if it was killed, or a negative errno.
 * *interrupted is set if we got one of those signals ourselves.
 */
int wait_child(pid_t pid, int *interrupted);

/* Exit code of a wait status as shells report it. */
int status_code(int status);

#endif
