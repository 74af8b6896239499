/*
 * Per-snapshot metadata, stored as JSON in ROOT/.hindsight/snapshots/NAME.json
 * (and, while a publish is under way, in ROOT/.hindsight/pending.json).
 */
#ifndef HS_META_H
#define HS_META_H

#include <time.h>

#include "snapname.h"

struct snapmeta {
	char name[SNAPNAME_SIZE];
	time_t start;          /* when the push that completed it started */
	time_t end;            /* when rsync finished */
	int rsync_exit;        /* 0, 23 or 24 */
	long long files;       /* files transferred (not linked) */
	long long bytes;       /* bytes rsync moved for them (its %b: wire bytes) */
	int resumed;           /* interrupted attempts it was built on */
	int reconstructed;     /* rebuilt by `check --repair` after it was lost:
				  end, exit and counts from the log, or unknown */
};

/* "with errors" for rsync exit 23, else "complete". */
const char *meta_status(const struct snapmeta *m);

/* Caller frees. */
char *meta_to_json(const struct snapmeta *m);

/* Returns 0, or -EINVAL if text is not valid metadata. */
int meta_from_json(const char *text, struct snapmeta *m);

/*
 * What a line of ROOT/.hindsight/log says about the publish of snapshot
 * name ("TIME published NAME status=\"...\" rsync_exit=N files=N bytes=N
 * resumed=N"): 0 with m filled (start from the name, end the line's
 * time), or -ENOENT if the line is not that. For rebuilding lost metadata.
 */
int meta_from_log_line(const char *line, const char *name, struct snapmeta *m);

#endif
