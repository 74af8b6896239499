/*
 * The diff walk, shared by query_diff.c (the verb: planning, threads,
 * answer) and query_diffwalk.c (comparing two trees).
 */
#ifndef HS_QUERY_DIFF_H
#define HS_QUERY_DIFF_H

#include "query.h"

#include <stdint.h>
#include <sys/types.h>

/* One name from getdents64. */
struct dent {
	const char *name;      /* set once the listing is complete */
	size_t off;            /* of the name in the listing's arena */
	uint64_t ino;
	unsigned char type;    /* DT_*, DT_UNKNOWN when not to be trusted */
};

struct task;

/* The output of the planning walk, in order: changes, or a task. */
struct slot {
	json_t *changes;
	struct task *task;
};

struct slots {
	struct slot *v;
	size_t n, alloc;
	size_t tasks;
};

/* A directory pair still to compare, with what comparing it found. */
struct task {
	int afd, bfd;
	dev_t adev, bdev;
	char *path;
	json_t *changes;
	int err;
	char *err_path;
};

struct diff {
	json_t *changes;       /* where report() appends */
	struct slots *split;   /* planning: directory pairs become tasks here */
	struct strbuf path;    /* of the name being compared, inside the snapshot */
	int trust_dirent;      /* d_ino == st_ino and d_type exact on this filesystem */
	int err;               /* first error, negative errno */
	struct strbuf err_path;
	char buf[32768];       /* getdents64 buffer: one directory is read at a time */
};

/* Append a slot: changes already found, or a task. */
void add_slot(struct slots *s, json_t *changes, struct task *t);
/* Planning: what d reported so far becomes a slot of its own. */
void flush_changes(struct diff *d);
void task_free(struct task *t);
void slots_free(struct slots *s);

/*
 * Compare the directories afd and bfd (their names in d->path), or one
 * name in them: ae/be are its entries (NULL where it is absent). Changes go
 * to d->changes; with d->split, subdirectory pairs become tasks there
 * instead of being descended into. Errors: d->err, d->err_path.
 */
void diff_dirs(struct diff *d, int afd, dev_t adev, int bfd, dev_t bdev);
void diff_name(struct diff *d, int afd, dev_t adev, const struct dent *ae,
	       int bfd, dev_t bdev, const struct dent *be);

#endif
