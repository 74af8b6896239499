/*
 * What rsync prints on stdout during a backup, read back: the
 * --info=progress2 lines (drawn as our own progress bar on a terminal)
 * and the --stats summary (our one closing line). Parsing and drawing
 * are pure, for the unit tests.
 */
#ifndef HS_CLIENT_PROGRESS_H
#define HS_CLIENT_PROGRESS_H

#include "../lib/strbuf.h"

/* One progress2 line: "  1,200,000  20%  1.96MB/s  0:00:00 (xfr#4, to-chk=16/21)" */
struct progress {
	long long bytes;       /* transferred so far */
	int percent;           /* of the bytes known so far */
	double rate;           /* bytes per second, as rsync measured it */
	long long xfr;         /* files transferred; -1 if the line did not say */
	long long left;        /* files still to check */
	long long total;       /* files known so far */
	int scanning;          /* ir-chk: the file list is still growing */
};

/* Parse a progress2 line (without its \r). Returns 0, or -1 if it is not one. */
int progress_parse(const char *line, struct progress *p);

/*
 * The bar for p, at most width columns: percent, bar, bytes, rate, ETA
 * and files. elapsed (seconds since the transfer began) gives the ETA,
 * shown only once the file list is complete.
 */
void progress_render(const struct progress *p, double elapsed, int width, struct strbuf *out);

/* The --stats figures we use; -1 where the line was not seen. */
struct rsync_stats {
	long long files;              /* "Number of files", the regular ones */
	long long files_transferred;  /* "Number of regular files transferred" */
	long long total_size;         /* "Total file size" */
	long long transferred_size;   /* "Total transferred file size" */
	long long bytes_sent;         /* "Total bytes sent" */
};
#define RSYNC_STATS_INIT { -1, -1, -1, -1, -1 }

/*
 * If line belongs to rsync's --stats block (or its "sent ... received"
 * and "total size is" lines), take what we use from it and return 1;
 * else 0.
 */
int stats_line(const char *line, struct rsync_stats *st);

/* "1.5s", "42s", "3m 12s", "1h 04m". */
void format_duration(double secs, char *out, size_t n);

#endif
