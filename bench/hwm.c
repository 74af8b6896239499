/*
 * bench/hwm.so: preloaded into a process, appends its peak RSS at exit.
 *
 *   HWM_LOG=FILE LD_PRELOAD=.../hwm.so PROGRAM ARGS...
 *
 * At exit() the process reads VmHWM from /proc/self/status and appends
 * "PROGRAM PID KIB" to FILE. That is the process's own peak, apart from
 * its children: a child that execs gets a new address space (and, from
 * hindsight-server, an environment without LD_PRELOAD), and its pages are
 * never counted here. getrusage or /usr/bin/time cannot tell the two
 * apart, since a child's peak becomes the parent's RUSAGE_CHILDREN.
 * A process ended by a signal or _exit() writes nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char log_path[4096];

__attribute__((constructor)) static void hwm_init(void)
{
	const char *p = getenv("HWM_LOG");   /* read now: the program may clear its environment */
	if (p && strlen(p) < sizeof(log_path))
		strcpy(log_path, p);
}

__attribute__((destructor)) static void hwm_report(void)
{
	char buf[4096], line[256], exe[512];
	ssize_t n;
	int fd;
	long kib = -1;

	if (!log_path[0])
		return;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *h = strstr(buf, "\nVmHWM:");
	if (h)
		kib = strtol(h + 7, NULL, 10);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	n = snprintf(line, sizeof(line), "%s %ld %ld\n", strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe,
		     (long)getpid(), kib);
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n)
		n = 0;
	close(fd);
}
