/*
 * hindsight-server's verbs. To add one: write cmd_NAME() in NAME.c, add a
 * row to the table in main.c, document it in man/hindsight-server.8.
 * A verb returns the process exit code (exitcodes.h) and prints its own
 * one-line messages; main() only sanitises the process and dispatches.
 */
#ifndef HS_SERVER_H
#define HS_SERVER_H

#include <stddef.h>

#include "../lib/strbuf.h"
#include "../lib/util.h"

struct root;
struct snapmeta;

struct serve_opts {
	const char *root;    /* absolute backup root */
	int check;           /* print the verdict only */
	int push_only;
	int restore_only;
	const char *rsync;   /* absolute path of rsync */
	const char *config;  /* server.conf; NULL: SRVCONF_PATH */
};

/* Judge and run one client command against the backup root. */
int serve_command(const char *cmd, const struct serve_opts *o);

/* Answer a read-only query (words[0] is the verb) as JSON on stdout. */
int run_query(char *const words[], size_t n, const struct serve_opts *o);

/* Shared by serve.c and pull.c. */
struct request;
extern char *const rsync_envp[];
void audit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct rsync_info {
	int found;                 /* the version could be read */
	int major, minor, patch;
	int confine_root;          /* it has --confine-root */
	int insecure_links;        /* it has --insecure-links */
};
const struct rsync_info *rsync_probe(const char *rsync);
int refuse_cmd(const char *why, int check);
/* Something asked for does not exist: "refuse: MSG" on stdout under
 * --check (as every verdict), else "hindsight-server: MSG" on stderr. */
void say_missing(int check, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct ll_plan;
/* spawn_opts.pre_exec for rsync: Landlock per the plan (landlock.h). */
int confine_rsync(void *ll_plan);
/* Log once per invocation if the kernel has no Landlock. */
void warn_if_no_landlock(void);

#ifdef HS_TEST_HOOKS
void test_hook_argv(struct argv *argv);
#define TEST_HOOK_ARGV(a) test_hook_argv(a)
#else
#define TEST_HOOK_ARGV(a) ((void)0)
#endif

/* A restore: the sender role, reading one pinned snapshot. */
int run_pull(const struct request *req, const struct serve_opts *o);

/* retain.c: the account's settings, room before a push, thinning after. */
struct acct_conf;
int account_conf(const struct serve_opts *o, const struct root *r, struct acct_conf *out);
/* why: the reason a push cannot go on (also printed). */
int push_space(const struct root *r, const struct serve_opts *o, const struct acct_conf *a,
	       struct strbuf *why);
void push_retention(const struct root *r, const struct acct_conf *a);

/*
 * sealcall.c: serve's side of a sealed root. Ask the sealer to seal (m
 * NULL: only to finish and tidy, before a push), passing it the lock we
 * hold; prints the sealer's refusal. With m, m->name is what it published.
 * Returns an exit code; what went wrong is also kept in why (may be NULL).
 */
int sealer_call(const struct serve_opts *o, const struct root *r, struct snapmeta *m,
		struct strbuf *why);
/* Root pushing to a sealed root: refused, with a message. Exit 12. */
int sealed_root_refused(const struct root *r);

/* roots.c: the roots an admin verb works on. Each returns an exit code
 * after printing why it failed. */
struct srvconf;
/* The caller's home (the root of the account running the verb). */
int home_root(struct argv *roots);
/* Every backup root directly under base (a directory holding .hindsight/),
 * in name order; 10 if base does not exist. With homes, also the roots
 * adduser made that no push has used yet: a directory that is its owner's
 * home (status reports them as never). */
int roots_under(const char *base, int homes, struct argv *roots);
/* srvconf_load(), its error printed; 2 for a bad file (c is then freed). */
int load_conf(const char *path, struct srvconf *c);

int cmd_serve(int argc, char **argv);
int cmd_sealer(int argc, char **argv);
/* sealer_req.c: everything with one caller of the sealer, on fd. */
void sealer_connection(int fd, const char *config);
int cmd_prune(int argc, char **argv);
int cmd_pin(int argc, char **argv);
int cmd_unpin(int argc, char **argv);
int cmd_local(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_adduser(int argc, char **argv);
int cmd_deluser(int argc, char **argv);
int cmd_du(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_report(int argc, char **argv);

#endif
