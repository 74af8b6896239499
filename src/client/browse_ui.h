/*
 * The inside of `hindsight browse`, shared by its three files: browse.c
 * (the verb, the keys, the actions), browse_draw.c (the screen, ncurses)
 * and browse_job.c (the queries, each in a forked child). What the browser
 * knows is browse.h's state machine.
 */
#ifndef HS_BROWSE_UI_H
#define HS_BROWSE_UI_H

#include <jansson.h>
#include <sys/types.h>

#include "browse.h"
#include "client.h"
#include "../lib/strbuf.h"
#include "../lib/util.h"

/* the most of an answer read (a directory of some 300k entries) */
#define ANSWER_MAX ((size_t)64 << 20)

enum job_kind { JOB_NONE, JOB_LS, JOB_VERSIONS, JOB_DIFF, JOB_RESTORE };

/* One query (or restore) run by a forked child; its answer read as it comes. */
struct job {
	enum job_kind kind;
	pid_t pid;
	int out_fd, err_fd;
	struct strbuf out, err;
	char snap[SNAPNAME_SIZE], prev[SNAPNAME_SIZE];
	struct strbuf path;     /* the cache key, the diffed dir, the restored item */
	struct strbuf target;   /* restore: where to */
};

/* What the screen shows over the listing: versions, changes or help. */
struct overlay {
	int on;
	struct strbuf title;
	struct argv lines;
	size_t top;
};

/* A one-line prompt at the bottom: the filter, or where to restore. */
enum prompt_kind { PROMPT_NONE, PROMPT_FILTER, PROMPT_RESTORE };

struct ui {
	const struct repo *repo;
	char *repo_name;
	struct browse b;
	struct job job;
	struct strbuf msg;            /* one line under the panes */
	int msg_tail;                 /* too long: show its end (it names a path) */
	struct overlay ov;
	struct strbuf want_versions;  /* `v` pressed: show these when fetched */
	int want_versions_on;
	enum prompt_kind prompt;
	struct strbuf input;          /* the prompt's raw bytes */
	struct strbuf restore_rel;    /* the item the restore prompt is for */
	char restore_snap[SNAPNAME_SIZE];
	int pending_diff, pending_restore;
	int quit_after_restore;       /* q during a restore: quit when it is done */
	int list_rows;                /* rows of the listing, from the last draw */
};

static inline void msg_clear(struct ui *u)
{
	sb_reset(&u->msg);
	u->msg_tail = 0;
}

/*
 * browse_job.c. job_start() runs j (kind, snap, path... filled in) in a
 * forked child: the query words through run_query(), or for JOB_RESTORE
 * restore_one(); 0, or -1 with errno. job_poll() reads what has come and
 * returns 1 with *code once the child is done, else 0. job_kill() ends a
 * running job and waits for it. job_reason() is the line that says why a
 * job failed.
 */
int job_start(struct job *j, const struct repo *r, char *const words[], size_t n);
int job_poll(struct job *j, int *code);
void job_kill(struct job *j);
void job_reason(const struct job *j, int code, struct strbuf *out);

/* browse_draw.c: the whole screen, from u; and the windows over the listing. */
void draw(struct ui *u);
void overlay_versions(struct ui *u, const char *path, const struct bversions *v);
void overlay_diff(struct ui *u, json_t *top);
void overlay_help(struct ui *u);
/* "/" + a raw path, in display form. */
void shown_path(struct strbuf *out, const char *raw);

#endif
