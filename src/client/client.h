/*
 * hindsight's verbs. To add one: write cmd_NAME() in NAME.c, add a row to
 * the table in main.c, document it in man/hindsight.1. A verb returns the
 * process exit code (exitcodes.h) and prints its own one-line messages.
 */
#ifndef HS_CLIENT_H
#define HS_CLIENT_H

#include <stddef.h>

#include "../lib/util.h"

/* Where backups go: an ssh destination or a local directory. */
struct repo {
	int local;
	char *dir;     /* local: absolute directory */
	char *user;    /* remote: login name, or NULL */
	char *host;    /* remote: host as ssh knows it */
	char *ssh;     /* remote: the ssh command, split on spaces */
};

/*
 * Parse REPO (from --repo, else HINDSIGHT_REPO). Returns 0, or prints a
 * one-line message and returns an exit code.
 */
int repo_parse(const char *spec, const char *ssh, struct repo *r);
void repo_free(struct repo *r);

/* Absolute path of the hindsight-server program beside us (caller frees). */
char *server_program(void);

/*
 * The transport command for this repo, as argv words: what rsync -e runs
 * and what queries run (followed by host, then the command words).
 */
void repo_transport(const struct repo *r, struct argv *out);

/* Environment for the transport: ours, plus HINDSIGHT_ROOT for a local repo. */
char **repo_environ(const struct repo *r, const char *status_file);

/*
 * Map what we know of a failed remote call to our exit codes: the
 * transport's own exit status (ssh's 255 means unreachable).
 */
int remote_exit(int transport_status);

/*
 * Run `hindsight VERB ARGS...` on the repo's server and collect its stdout
 * (at most max bytes). Returns 0, or an exit code after printing why.
 */
int run_query(const struct repo *r, char *const words[], size_t n, size_t max, char **out);

/* Shared option parsing of --repo/--ssh: argv index handling in each verb. */
const char *default_repo(void);

int cmd_backup(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_transport(int argc, char **argv);

#endif
