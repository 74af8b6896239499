/*
 * hindsight's verbs. To add one: write cmd_NAME() in NAME.c, add a row to
 * the table in main.c, document it in man/hindsight.1. A verb returns the
 * process exit code (exitcodes.h) and prints its own one-line messages.
 */
#ifndef HS_CLIENT_H
#define HS_CLIENT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "../lib/util.h"
#include "config.h"
#include "outcome.h"
#include "progress.h"

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

/* "user@host:" or the directory: how messages and the state file name a repo. */
char *repo_name(const struct repo *r);

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

/* HINDSIGHT_REPO, or NULL. */
const char *default_repo(void);

/*
 * The options of every verb that reaches a repository (common.c): put
 * COMMON_LONGOPTS in the verb's getopt table and offer every option it
 * does not know itself to common_option() before calling it bad.
 */
struct common {
	const char *repo;      /* --repo */
	const char *ssh;       /* --ssh */
	const char *config;    /* --config */
	struct config cfg;     /* read by common_load() */
	int loaded;
};
#define COMMON_LONGOPTS \
	{ "repo", required_argument, NULL, 'r' }, \
	{ "ssh", required_argument, NULL, 's' }, \
	{ "config", required_argument, NULL, 'C' }
void common_init(struct common *co);
/* 1 if c (getopt_long's answer) is a common option, now recorded; else 0. */
int common_option(struct common *co, int c, const char *arg);
/* Read the config (once). Returns 0 or an exit code after printing why. */
int common_load(struct common *co);
/*
 * The repository: --repo, else HINDSIGHT_REPO, else the config's repo.
 * The ssh command: --ssh, else HINDSIGHT_SSH, else ssh_command, else ssh;
 * then -i ssh_key and ssh_options from the config. must_exist: a local
 * repository must be there already (exit 10). Returns 0 or an exit code
 * after printing why.
 */
int common_repo(struct common *co, struct repo *r, int must_exist);
/* The ssh command common_repo() would use (caller frees). */
char *common_ssh(struct common *co);
void common_free(struct common *co);

struct snaplist;
/* The repo's snapshots, oldest first (via `hindsight list`). Returns an exit code. */
int fetch_snapshots(const struct repo *r, struct snaplist *out);

/*
 * Resolve a time expression (timespec.h; NULL = latest) against the repo's
 * snapshots and say which one on stderr. Returns 0, or an exit code after
 * printing why: 2 for an expression we do not understand, 10 for no
 * snapshot at that time or an ambiguous prefix.
 */
int pick_snapshot(const struct repo *r, const char *spec, char name[20]);

/*
 * Map a local path (absolute, or relative to the current directory) to its
 * path inside a snapshot, which mirrors absolute paths: "/home/me/x" ->
 * "home/me/x", "/" -> "". Symlinks are not resolved. Caller frees; NULL if
 * the current directory cannot be found.
 */
char *snapshot_path(const char *local);

/* "host:PATH" as rsync should name PATH on the repo's server. Caller frees. */
char *repo_rsync_spec(const struct repo *r, const char *path);

/*
 * Run the local rsync with args (after its own path and --rsh) against the
 * repo, and map what happened to our exit codes (see rsync.c).
 */
int run_rsync(const struct repo *r, char *const args[], size_t n);

/*
 * run_rsync() with rsync's output read by us instead of shown as it is:
 * stdout's --info=progress2 lines become our bar (progress, on a
 * terminal) or nothing, its --stats block goes into stats, other lines
 * are shown (all of them with verbose); stderr (rsync's, ssh's and the
 * server's) is kept in err, for one line that explains a failure.
 * Zero it (or RSYNC_IO_INIT) before; errlog_free(&io->err) after.
 */
struct rsync_io {
	int progress;
	int verbose;
	struct errlog err;
	struct rsync_stats stats;
	double seconds;           /* how long rsync ran */
};
#define RSYNC_IO_INIT { 0, 0, ERRLOG_INIT, RSYNC_STATS_INIT, 0 }
int run_rsync_io(const struct repo *r, char *const args[], size_t n, struct rsync_io *io);

/* A few words for an exit code, for "hindsight: backup failed: ..." lines. */
const char *explain_exit(int code);

/*
 * Run a helper program (argv[0] looked up in PATH) with our environment
 * and no shell. Its stdout goes into *out and its stderr into *err (each
 * up to 1 MiB, caller frees) when they are given, else to ours. Returns
 * its exit status (0-255, 128+signal) or a negative errno if it could
 * not be run.
 */
int run_program(char *const argv[], char **out, char **err);
/*
 * Write text to path atomically with mode, making missing parent
 * directories with dir_mode. Returns 0 or a negative errno.
 */
int write_file_path(const char *path, const char *text, unsigned mode, unsigned dir_mode);
/* Append the last non-empty line of text. */
void last_line(const char *text, struct strbuf *out);

int cmd_backup(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_schedule(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_transport(int argc, char **argv);

/*
 * The history queries (answer.c). open_repo() is repo_parse() plus, for a
 * local repo, the check that it exists (exit 10). ask() runs the query
 * words[0..n) and, with json, prints the answer unchanged; else it parses
 * it, checks protocol 1 and the verb, and gives it in *answer (caller
 * decrefs). Both return an exit code after printing why.
 */
struct strbuf;
int open_repo(const char *spec, const char *ssh, struct repo *r);
int ask(const struct repo *r, char *const words[], size_t n, int json, json_t **answer);
/*
 * ask()'s check of an answer's text: JSON, protocol 1, this verb. Returns
 * the answer (caller decrefs), or NULL, silently, if it is not one.
 */
json_t *answer_parse(const char *text, const char *verb);

/* The raw bytes of obj[key], a name in the wire form of names.h; -1 if bad. */
int answer_name(json_t *obj, const char *key, struct strbuf *out);
/*
 * One change of a diff answer as `hindsight diff` shows it: "M /path",
 * "+ /dir/" (diff.c). Returns 0, or -1 for a malformed change.
 */
int diff_line(json_t *change, struct strbuf *out);
/* Append raw bytes as they may be shown on a terminal (names.h). */
void show_name(struct strbuf *sb, const char *raw, size_t len);
/* 1023, 1.0K, 12M ...: binary units. */
void format_size(long long bytes, char *out, size_t n);
/* Epoch seconds as local time, strftime format. */
void format_local(long long t, const char *fmt, char *out, size_t n);
/* 42s, 5m, 3h 12m, 2d 4h. */
void format_age(long long secs, char *out, size_t n);

/*
 * This machine's side of a repo's status (status.c): the repo, the last
 * success and its age, when the next is due, the last error.
 */
struct backup_state;
void render_local(const struct backup_state *st, const struct config *cfg,
		  const char *name, time_t now);

int cmd_versions(int argc, char **argv);
int cmd_ls(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_browse(int argc, char **argv);

/*
 * Restoring one path (restore.c). rel is the path inside snapshot name
 * ("home/me/x"); target an absolute local path. Never replaces an existing
 * target unless o->overwrite. Prints its own messages on stderr; returns
 * an exit code.
 */
struct restore_opts {
	const char *to;
	int overwrite;
	int dry_run;
	int progress;
};
int restore_one(const struct repo *r, const char *name, const char *rel,
		const char *target, const struct restore_opts *o);
/* Where `hindsight restore` puts rel by default: "/REL.restored-SNAPSHOT". */
void restore_default_target(const char *rel, const char *name, struct strbuf *out);

#endif
