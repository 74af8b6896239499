#include "accounts.h"
#include "../lib/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

char *const tool_envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };

int run_tool(char *const argv[])
{
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int interrupted;
	pid_t pid;

	o.in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (o.in_fd < 0)
		return -errno;
	o.out_fd = 2;
	fflush(stdout);
	pid = spawn_with(argv[0], argv, tool_envp, &o);
	close(o.in_fd);
	if (pid < 0)
		return (int)pid;
	return wait_child(pid, &interrupted);
}

int in_hindsight_group(const struct passwd *pw)
{
	const struct group *gr = getgrnam(HS_GROUP);

	if (!gr)
		return 0;
	if (pw->pw_gid == gr->gr_gid)
		return 1;
	for (char **m = gr->gr_mem; m && *m; m++)
		if (!strcmp(*m, pw->pw_name))
			return 1;
	return 0;
}

const char *home_base(const struct passwd *pw, struct strbuf *base)
{
	const char *home = pw->pw_dir, *slash;
	struct strbuf tmp = STRBUF_INIT;
	const char *why;

	if (!home || home[0] != '/')
		return "its home is not an absolute path";
	slash = strrchr(home, '/');
	if (strcmp(slash + 1, pw->pw_name))
		return "its home is not BASE/NAME";
	sb_add(&tmp, home, (size_t)(slash - home));
	why = slash == home ? "its home is directly below /" : base_path_check(tmp.buf, base);
	sb_release(&tmp);
	return why;
}

static const char *root_owned(const struct stat *st, int need_search)
{
	if (!S_ISDIR(st->st_mode))
		return "is not a directory";
	if (st->st_uid != 0)
		return "is not owned by root";
	if (st->st_mode & 022)
		return "is writable by group or others";
	if (need_search && !(st->st_mode & 01))
		return "is not searchable by others (the accounts must reach their roots)";
	return NULL;
}

const char *root_owned_dir(const char *path, int need_search, int follow)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return errno == ENOENT ? NULL : "cannot be examined";
	if (S_ISLNK(st.st_mode))
		return "is a symlink";
	return root_owned(&st, need_search);
}

const char *root_owned_fd(int fd, int need_search)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return "cannot be examined";
	return root_owned(&st, need_search);
}

void did(struct strbuf *done, const char *fmt, ...)
{
	struct strbuf line = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&line, fmt, ap);
	va_end(ap);
	printf("%s\n", line.buf);
	if (done->len < 1200)
		sb_addf(done, "%s%s", done->len ? "; " : "", line.buf);
	sb_release(&line);
}

void admin_log(const char *verb, const char *name, int code, const struct strbuf *done)
{
	const struct passwd *pw = getpwuid(getuid());

	syslog(code == 0 ? LOG_INFO : LOG_NOTICE, "%s %s by %s: exit=%d %.1500s", verb, name,
	       pw ? pw->pw_name : "?", code, done->len ? done->buf : "nothing changed");
}
