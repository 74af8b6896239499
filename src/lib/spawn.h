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

/* Like spawn(), with the child's stdout (and stderr) replaced by out_fd
 * (err_fd) where those are >= 0. The parent's own fds are never touched. */
pid_t spawn_redirect(const char *path, char *const argv[], char *const envp[],
		     int out_fd, int err_fd, int keep_fd);

/*
 * Wait for pid, forwarding SIGTERM, SIGHUP and SIGINT to it. Returns the
 * exit status (0-255), 128+signal if it was killed, or a negative errno.
 * *interrupted is set if we got one of those signals ourselves.
 */
int wait_child(pid_t pid, int *interrupted);

/* Exit code of a wait status as shells report it. */
int status_code(int status);

#endif
