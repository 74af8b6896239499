#include "spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t spawn(const char *path, char *const argv[], char *const envp[], int keep_fd)
{
	struct spawn_opts o = SPAWN_OPTS_INIT;

	o.keep_fd = keep_fd;
	return spawn_with(path, argv, envp, &o);
}

pid_t spawn_with(const char *path, char *const argv[], char *const envp[],
		 const struct spawn_opts *o)
{
	int keep_fd = o->keep_fd;

	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* the child: restore default signal dispositions, then exec */
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (int s = 1; s < NSIG; s++)
			sigaction(s, &sa, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if ((o->in_fd >= 0 && dup2(o->in_fd, 0) < 0) ||
		    (o->out_fd >= 0 && dup2(o->out_fd, 1) < 0) ||
		    (o->err_fd >= 0 && dup2(o->err_fd, 2) < 0) ||
		    (o->cwd_fd >= 0 && fchdir(o->cwd_fd) < 0))
			_exit(127);
		if (keep_fd >= 0) {
			/* move it to 3 and close everything above */
			if (keep_fd != 3) {
				if (dup2(keep_fd, 3) < 0)
					_exit(127);
			} else {
				fcntl(3, F_SETFD, 0);
			}
			close_from(4);
		} else {
			close_from(3);
		}
		if (o->pre_exec && o->pre_exec(o->pre_exec_arg) < 0)
			_exit(127);
		if (strchr(path, '/'))
			execve(path, argv, envp);
		else
			execvpe(path, argv, envp);
		_exit(127);
	}
	return pid;
}

static volatile sig_atomic_t got_signal;
static volatile pid_t child_pid;

static void forward(int sig)
{
	got_signal = sig;
	if (child_pid > 0)
		kill(child_pid, sig);
}

int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int wait_child(pid_t pid, int *interrupted)
{
	struct sigaction sa, old[3];
	static const int sigs[3] = { SIGTERM, SIGHUP, SIGINT };
	int status, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	child_pid = pid;
	got_signal = 0;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	child_pid = 0;
	*interrupted = got_signal != 0;
	if (rc < 0)
		return -errno;
	return status_code(status);
}
