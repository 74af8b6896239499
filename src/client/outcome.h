/*
 * Turning what rsync, ssh and the server wrote on stderr into one line
 * that says why a transfer failed. rsync reports a refused command, a held
 * lock and a failed ssh all as "connection unexpectedly closed"; the exit
 * code (from the transport, see repo.c) says which, and the server's or
 * ssh's own line says the rest.
 */
#ifndef HS_CLIENT_OUTCOME_H
#define HS_CLIENT_OUTCOME_H

#include <stddef.h>

#include "../lib/strbuf.h"
#include "../lib/util.h"

#define ERRLOG_SERVER_LINES 32    /* "hindsight-server: " lines kept, the first */
#define ERRLOG_RSYNC_LINES 50     /* rsync's lines kept, the first */
#define ERRLOG_OTHER_LINES 8      /* other lines (ssh's) kept, the last */
#define ERRLOG_LINE_MAX 1000      /* longer lines are cut */

/* stderr, sorted by who wrote it, bounded. ERRLOG_INIT or zeroed. */
struct errlog {
	struct argv server;       /* without the "hindsight-server: " prefix */
	struct argv rsync;        /* "rsync: ..." and "rsync error: ..." */
	long long rsync_more;     /* rsync lines past the first ERRLOG_RSYNC_LINES */
	struct argv other;
	struct strbuf partial;    /* the start of a line not ended yet */
};
#define ERRLOG_INIT { ARGV_INIT, ARGV_INIT, 0, ARGV_INIT, STRBUF_INIT }

void errlog_feed(struct errlog *e, const char *buf, size_t n);
/* Take a last line that had no newline. */
void errlog_finish(struct errlog *e);
void errlog_free(struct errlog *e);

/*
 * The line (no "hindsight: " prefix, no newline) that explains why `what`
 * ("backup", "restore") ended with exit code code (exitcodes.h) to repo.
 * Pure.
 */
void explain_failure(const char *what, int code, const struct errlog *e,
		     const char *repo, struct strbuf *out);

#endif
