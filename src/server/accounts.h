/*
 * What adduser.c and deluser.c share: running the Debian account tools
 * (passwd package) without a shell, telling a hindsight account from any
 * other, and logging what was done. Messages go to stderr as
 * "hindsight-server: VERB: ...", what was done to stdout, one line each.
 */
#ifndef HS_ACCOUNTS_H
#define HS_ACCOUNTS_H

#include <pwd.h>
#include <sys/types.h>

#include "../lib/account.h"
#include "../lib/strbuf.h"

#define USERADD "/usr/sbin/useradd"
#define USERMOD "/usr/sbin/usermod"
#define USERDEL "/usr/sbin/userdel"
#define GROUPADD "/usr/sbin/groupadd"
#define SSH_KEYGEN "/usr/bin/ssh-keygen"

/* The environment every tool gets: nothing of ours. */
extern char *const tool_envp[];

/*
 * Run the tool argv[0] (an absolute path) with tool_envp, stdin from
 * /dev/null, its stdout and stderr on our stderr. Returns its exit status
 * (128+N if killed by signal N), or a negative errno if it could not run.
 */
int run_tool(char *const argv[]);

/* Is pw in the group hindsight (as its primary or a supplementary group)? */
int in_hindsight_group(const struct passwd *pw);

/*
 * The backup base of an account: its home must be BASE/NAME with BASE a
 * base adduser accepts. Returns NULL and sets *base, or a reason.
 */
const char *home_base(const struct passwd *pw, struct strbuf *base);

/*
 * NULL if path is missing (to be made) or a directory that only root can
 * change, searchable by others if need_search; else why not. follow: a
 * symlink to such a directory will do (the base an admin chose), else it
 * is refused.
 */
const char *root_owned_dir(const char *path, int need_search, int follow);

/* The same for a directory already open (after the open, no race). */
const char *root_owned_fd(int fd, int need_search);

/* One syslog line for an admin verb: who ran it, on what, what it did. */
void admin_log(const char *verb, const char *name, int code, const struct strbuf *done);

/* Note something done: a line on stdout, and a phrase for the log. */
void did(struct strbuf *done, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
