/*
 * `hindsight browse [--at TIME] [PATH]`: a Time Machine-like browser in the
 * terminal. The directory PATH (default: the current one) as the chosen
 * snapshot holds it, a timeline of every snapshot beside it, and keys to
 * walk the tree, step through time, see versions and changes, and restore.
 *
 * This file is the thin layer: ncurses drawing and keys, and the queries,
 * each run by a forked child with run_query() (or restore_one()) so that the
 * screen never freezes while ssh works. What the browser knows lives in
 * browse_state.c (browse.h), which is unit-tested without a terminal.
 */
#define NCURSES_WIDECHAR 1

#include "browse.h"
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/strbuf.h"
#include "../lib/timespec.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

static const char browse_usage[] =
	"usage: hindsight browse [--at TIME] [--repo REPO] [--ssh CMD] [--config FILE] [PATH]\n";

#define TIMELINE_W 22   /* mark, space, "YYYY-MM-DD HH:MM:SS", space */
#define ANSWER_MAX ((size_t)64 << 20)

/* SIGTERM, SIGHUP or SIGINT: leave as after q, with the terminal restored. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* ---------------------------------------------------------------- jobs */

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

static void msg_clear(struct ui *u)
{
	sb_reset(&u->msg);
	u->msg_tail = 0;
}

/* Child side: never returns. The answer on out_fd, messages on err_fd. */
static void job_child(const struct repo *r, struct job *j, char *const words[], size_t n,
		      int out_fd, int err_fd)
{
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	int code;

	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);

	/*
	 * ssh must not read our keys, nor write on the screen: not even a
	 * password prompt on /dev/tty, so no controlling terminal at all
	 * (ssh then fails, and says why on stderr, which we show)
	 */
	if (setsid() < 0 || null < 0 || dup2(null, 0) < 0 || dup2(err_fd, 2) < 0 ||
	    dup2(j->kind == JOB_RESTORE ? err_fd : null, 1) < 0)
		_exit(HS_EXIT_ERROR);
	if (j->kind == JOB_RESTORE) {
		struct restore_opts o = { 0 };
		code = restore_one(r, j->snap, j->path.buf, j->target.buf, &o);
		_exit(code);
	}
	char *text = NULL;
	code = run_query(r, words, n, ANSWER_MAX, &text);
	if (code == HS_EXIT_OK) {
		size_t len = strlen(text), off = 0;
		while (off < len) {
			ssize_t w = write(out_fd, text + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				_exit(HS_EXIT_ERROR);
			off += (size_t)w;
		}
	}
	_exit(code);
}

/* Start j (kind, snap, path... filled in) with the query words. Returns 0 or -1. */
static int job_start(struct ui *u, char *const words[], size_t n)
{
	struct job *j = &u->job;
	int out[2], err[2];

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	j->pid = fork();
	if (j->pid == 0) {
		close(out[0]);
		close(err[0]);
		job_child(u->repo, j, words, n, out[1], err[1]);
	}
	close(out[1]);
	close(err[1]);
	if (j->pid < 0) {
		close(out[0]);
		close(err[0]);
		j->pid = 0;
		return -1;
	}
	j->out_fd = out[0];
	j->err_fd = err[0];
	fcntl(j->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(j->err_fd, F_SETFL, O_NONBLOCK);
	sb_reset(&j->out);
	sb_reset(&j->err);
	return 0;
}

/* Read what is there; -1 at EOF (fd closed), else 0. */
static int drain(int *fd, struct strbuf *sb, size_t max)
{
	char buf[65536];

	while (*fd >= 0) {
		ssize_t got = read(*fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return 0;   /* EAGAIN: more later */
		if (got == 0) {
			close(*fd);
			*fd = -1;
			break;
		}
		if (sb->len + (size_t)got <= max)
			sb_add(sb, buf, (size_t)got);
	}
	return -1;
}

/* Poll the running job: 1 when it is done (*code set), else 0. */
static int job_poll(struct job *j, int *code)
{
	int st;

	drain(&j->out_fd, &j->out, ANSWER_MAX);
	drain(&j->err_fd, &j->err, 65536);
	if (j->out_fd >= 0 || j->err_fd >= 0)
		return 0;
	while (waitpid(j->pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = HS_EXIT_ERROR << 8;
			break;
		}
	}
	j->pid = 0;
	*code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 1;
}

static void job_kill(struct job *j)
{
	int code;

	if (j->pid <= 0)
		return;
	/* the child forwards SIGTERM to ssh (wait_child) and exits */
	kill(j->pid, SIGTERM);
	if (j->out_fd >= 0)
		close(j->out_fd);
	if (j->err_fd >= 0)
		close(j->err_fd);
	j->out_fd = j->err_fd = -1;
	job_poll(j, &code);
}

/* The line that says why a job failed. */
static void job_reason(const struct job *j, int code, struct strbuf *out)
{
	struct strbuf line = STRBUF_INIT;
	const char *l;

	sb_reset(out);
	last_line(j->err.buf, &line);
	l = line.buf;
	/* said on our screen, the program's name is noise */
	if (!strncmp(l, "hindsight: ", 11))
		l += 11;
	else if (!strncmp(l, "hindsight-server: ", 18))
		l += 18;
	sb_addstr(out, l);
	sb_release(&line);
	if (!out->len)
		sb_addf(out, "failed: %s (exit %d)", explain_exit(code), code);
}

/* ---------------------------------------------------------------- text */

/* Snapshot name as local time. */
static void snap_local(const char *name, char *out, size_t n)
{
	time_t t;

	if (snapname_parse(name, &t) == 0)
		format_local((long long)t, "%Y-%m-%d %H:%M:%S", out, n);
	else
		snprintf(out, n, "%s", name);
}

/* "/" + a raw path, in display form. */
static void shown_path(struct strbuf *out, const char *raw)
{
	sb_reset(out);
	sb_addch(out, '/');
	show_name(out, raw, strlen(raw));
}

/*
 * Put s at (y, x), at most maxw columns, as characters the terminal can
 * show: anything that does not decode or is not printable becomes '?'
 * (display forms never hold such, but a server's message might). Returns
 * the columns used.
 */
static int put_cols(int y, int x, const char *s, int maxw)
{
	mbstate_t st;
	size_t len = strlen(s);
	int used = 0;

	memset(&st, 0, sizeof(st));
	if (maxw <= 0)
		return 0;
	move(y, x);
	while (len && used < maxw) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, len, &st);
		int w;
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			wc = L'?';
			k = 1;
			memset(&st, 0, sizeof(st));
		}
		w = wcwidth(wc);
		if (w <= 0 || !iswprint((wint_t)wc)) {
			wc = L'?';
			w = 1;
		}
		if (used + w > maxw)
			break;
		addnwstr(&wc, 1);
		used += w;
		s += k;
		len -= k;
	}
	return used;
}

/* The columns s takes on the screen, as put_cols() would draw it. */
static int cols_of(const char *s)
{
	mbstate_t st;
	size_t len = strlen(s);
	int cols = 0;

	memset(&st, 0, sizeof(st));
	while (len) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s, len, &st);
		int w = 1;
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			k = 1;
			memset(&st, 0, sizeof(st));
		} else if ((w = wcwidth(wc)) <= 0 || !iswprint((wint_t)wc)) {
			w = 1;
		}
		cols += w;
		s += k;
		len -= k;
	}
	return cols;
}

/*
 * s as it fits in maxw columns keeping its end, where a path's interesting
 * part is: "<" and the tail when it is too long.
 */
static const char *tail_fit(const char *s, int maxw)
{
	if (maxw < 2 || cols_of(s) <= maxw)
		return s;
	while (*s && cols_of(s) > maxw - 1) {
		s++;
		while (((unsigned char)*s & 0xc0) == 0x80)
			s++;
	}
	return s;
}

/* put_cols of a path: its tail, after a "<", when it does not fit. */
static int put_path(int y, int x, const char *s, int maxw)
{
	const char *t = tail_fit(s, maxw);

	if (t == s)
		return put_cols(y, x, s, maxw);
	put_cols(y, x, "<", 1);
	return 1 + put_cols(y, x + 1, t, maxw - 1);
}

/* put_cols, then blanks up to maxw. */
static void put_padded(int y, int x, const char *s, int maxw)
{
	int used = put_cols(y, x, s, maxw);

	for (; used < maxw; used++)
		addch(' ');
}

static char spinner(void)
{
	static const char frames[] = "|/-\\";
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return frames[(ts.tv_sec * 10 + ts.tv_nsec / 100000000) % 4];
}

/* ---------------------------------------------------------------- overlays */

static void overlay_open(struct overlay *ov, const char *title)
{
	ov->on = 1;
	ov->top = 0;
	sb_reset(&ov->title);
	sb_addstr(&ov->title, title);
	argv_clear(&ov->lines);
}

static void overlay_versions(struct ui *u, const char *path, const struct bversions *v)
{
	struct strbuf t = STRBUF_INIT;

	shown_path(&t, path);
	if (v->code != 0) {
		msg_clear(u);
		sb_addstr(&u->msg, v->msg ? v->msg : "no versions");
		sb_release(&t);
		return;
	}
	sb_addf(&t, ": %zu version%s", v->n, v->n == 1 ? "" : "s");
	if (v->missing)
		sb_addf(&t, ", absent from %zu snapshot%s", v->missing, v->missing == 1 ? "" : "s");
	overlay_open(&u->ov, t.buf);
	argv_pushf(&u->ov.lines, "%-2s %-19s %-19s %5s %6s  %s", "#", "FIRST", "LAST", "SNAPS",
		   "SIZE", "MODIFIED");
	for (size_t i = 0; i < v->n; i++) {
		char first[40], last[40], size[16], mtime[32];
		snap_local(v->v[i].first, first, sizeof(first));
		snap_local(v->v[i].last, last, sizeof(last));
		format_size(v->v[i].size, size, sizeof(size));
		format_local(v->v[i].mtime, "%Y-%m-%d %H:%M", mtime, sizeof(mtime));
		argv_pushf(&u->ov.lines, "%-2zu %-19s %-19s %5lld %6s  %s%s%s%s", i + 1, first,
			   last, v->v[i].count, size, mtime, strcmp(v->v[i].type, "file") ? "  (" : "",
			   strcmp(v->v[i].type, "file") ? v->v[i].type : "",
			   strcmp(v->v[i].type, "file") ? ")" : "");
	}
	sb_release(&t);
}

static void overlay_diff(struct ui *u, json_t *top)
{
	json_t *changes = json_object_get(top, "changes"), *c;
	struct strbuf t = STRBUF_INIT, raw = STRBUF_INIT, line = STRBUF_INIT;
	char a[40], b[40];
	size_t i;

	snap_local(u->job.prev, a, sizeof(a));
	snap_local(u->job.snap, b, sizeof(b));
	shown_path(&t, u->job.path.buf);
	sb_addf(&t, ": %zu change%s from %s to %s", json_array_size(changes),
		json_array_size(changes) == 1 ? "" : "s", a, b);
	overlay_open(&u->ov, t.buf);
	json_array_foreach(changes, i, c) {
		const char *op = json_string_value(json_object_get(c, "op"));
		const char *type = json_string_value(json_object_get(c, "type"));
		sb_reset(&raw);
		sb_reset(&line);
		if (!op || answer_name(c, "path", &raw) < 0)
			continue;
		/* as `hindsight diff` shows it */
		sb_addf(&line, "%s /", op);
		show_name(&line, raw.buf, raw.len);
		if (type && !strcmp(type, "dir"))
			sb_addch(&line, '/');
		argv_push(&u->ov.lines, line.buf);
	}
	if (!json_array_size(changes))
		argv_push(&u->ov.lines, "(nothing changed)");
	sb_release(&t);
	sb_release(&raw);
	sb_release(&line);
}

static void overlay_help(struct ui *u)
{
	static const char *const help[] = {
		"Up/Down, j/k       move the selection",
		"PgUp/PgDn, Home/End  move by a page, to the first or last",
		"Enter              open the selected directory",
		"Backspace, h       go up to the parent directory",
		"Left/Right, [/]    one snapshot older / newer, same path",
		"v                  versions of the selected item",
		"d                  changes in the selected directory since the",
		"                   previous snapshot (else in this directory)",
		"r                  restore the selected item (asks where; never",
		"                   replaces anything)",
		"/                  filter by name (Esc clears the filter)",
		"Ctrl-L             redraw, and try again what failed",
		"?                  this help",
		"q                  quit",
		"",
		"Timeline: * the selected item changed (or appeared) in that snapshot,",
		"          x it was gone from that one; > the snapshot shown.",
		"",
		"Any key closes a window like this one; Up/Down scroll it.",
	};

	overlay_open(&u->ov, "hindsight browse: keys");
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
		argv_push(&u->ov.lines, help[i]);
}

/* ---------------------------------------------------------------- drawing */

static void draw_listing(struct ui *u, int y0, int rows, int w)
{
	const struct blisting *l = browse_listing(&u->b);
	struct strbuf line = STRBUF_INIT, p = STRBUF_INIT;
	int namew = w - 2 - (w >= 44 ? 26 : 0);
	char local[40];

	snap_local(u->b.snaps[u->b.cur], local, sizeof(local));
	shown_path(&p, u->b.path.buf);
	attron(A_BOLD);
	put_padded(y0, 0, "", w);
	put_path(y0, 0, p.buf, w);
	attroff(A_BOLD);
	y0++;
	rows--;
	if (!l) {
		sb_addf(&line, "  %c loading the snapshot of %s", spinner(), local);
		put_padded(y0, 0, line.buf, w);
	} else if (l->code == HS_EXIT_NOTFOUND) {
		sb_addf(&line, "  this path %s (%s)", browse_absence(&u->b), local);
		put_padded(y0, 0, line.buf, w);
		if (rows > 2)
			put_padded(y0 + 2, 0, "  Left/Right: other snapshots   h: up", w);
	} else if (l->code != 0) {
		sb_addf(&line, "  cannot list this path: %s", l->msg ? l->msg : "error");
		put_padded(y0, 0, line.buf, w);
		if (rows > 2)
			put_padded(y0 + 2, 0, "  Ctrl-L: try again", w);
	} else if (!l->is_dir) {
		sb_addf(&line, "  this path is not a directory in the snapshot of %s", local);
		put_padded(y0, 0, line.buf, w);
	} else if (u->b.nview == 0) {
		put_padded(y0, 0, u->b.filter.len ? "  (no name matches the filter)" : "  (empty)", w);
	} else {
		browse_scroll(&u->b, (size_t)rows);
		for (int r = 0; r < rows; r++) {
			size_t vi = u->b.top + (size_t)r;
			const struct bentry *e = browse_entry(&u->b, vi);
			if (!e)
				break;
			int is_sel = vi == u->b.cursor;
			if (is_sel)
				attron(A_REVERSE);
			sb_reset(&line);
			sb_addstr(&line, is_sel ? "> " : "  ");
			sb_add(&line, e->shown.buf, e->shown.len);
			if (!strcmp(e->type, "dir"))
				sb_addch(&line, '/');
			put_padded(y0 + r, 0, line.buf, namew + 2);
			if (w >= 44) {
				char size[16], mtime[32], cols[64];
				if (!strcmp(e->type, "dir"))
					snprintf(size, sizeof(size), "-");
				else
					format_size(e->size, size, sizeof(size));
				format_local(e->mtime, "%Y-%m-%d %H:%M", mtime, sizeof(mtime));
				snprintf(cols, sizeof(cols), " %7s  %-16s", size, mtime);
				put_padded(y0 + r, namew + 2, cols, w - namew - 2);
			}
			if (is_sel)
				attroff(A_REVERSE);
		}
	}
	sb_release(&line);
	sb_release(&p);
}

static void draw_overlay(struct ui *u, int y0, int rows, int w)
{
	struct overlay *ov = &u->ov;
	size_t n = ov->lines.n;

	attron(A_BOLD);
	put_padded(y0, 0, "", w);
	put_path(y0, 0, ov->title.buf, w);
	attroff(A_BOLD);
	rows--;
	if (rows <= 0)
		return;
	if (n > (size_t)rows && ov->top > n - (size_t)rows)
		ov->top = n - (size_t)rows;
	if (n <= (size_t)rows)
		ov->top = 0;
	for (int r = 0; r < rows && ov->top + (size_t)r < n; r++)
		put_padded(y0 + 1 + r, 0, ov->lines.v[ov->top + (size_t)r], w);
}

static void draw_timeline(struct ui *u, int y0, int rows, int x)
{
	size_t top = browse_timeline_top(u->b.cur, u->b.nsnaps, (size_t)(rows - 1));

	attron(A_BOLD);
	put_padded(y0, x, "SNAPSHOTS", TIMELINE_W);
	attroff(A_BOLD);
	for (int r = 0; r < rows - 1; r++) {
		size_t i = top + (size_t)r;
		char local[40], line[64];
		if (i >= u->b.nsnaps)
			break;
		snap_local(u->b.snaps[i], local, sizeof(local));
		snprintf(line, sizeof(line), "%c%c%s", i == u->b.cur ? '>' : ' ',
			 browse_mark(&u->b, i), local);
		if (i == u->b.cur)
			attron(A_REVERSE);
		put_padded(y0 + 1 + r, x, line, TIMELINE_W);
		if (i == u->b.cur)
			attroff(A_REVERSE);
	}
}

static void draw_status(struct ui *u, int y, int w)
{
	/* as many hints as fit after the snapshot and the path */
	static const char *const hints[] = {
		"Left/Right:time Enter:open h:up v:versions d:diff r:restore /:filter ?:help q:quit",
		"<-/->:time Enter:open h:up v:versions d:diff r:restore ?:help q:quit",
		"<-/->:time v:versions r:restore ?:help q:quit",
		"?:help q:quit",
	};
	struct strbuf s = STRBUF_INIT, p = STRBUF_INIT;
	char local[40];

	snap_local(u->b.snaps[u->b.cur], local, sizeof(local));
	shown_path(&p, u->b.path.buf);
	sb_addf(&s, "%c %s (%zu/%zu) ", u->job.pid > 0 ? spinner() : ' ', local, u->b.cur + 1,
		u->b.nsnaps);
	if (u->b.filter.len && u->prompt != PROMPT_FILTER) {
		sb_addstr(&p, " [filter: ");
		show_name(&p, u->b.filter.buf, u->b.filter.len);
		sb_addch(&p, ']');
	}
	attron(A_REVERSE);
	put_padded(y, 0, "", w);
	int x = put_cols(y, 0, s.buf, w);
	int pathw = cols_of(p.buf), room = w - x - pathw - 2;
	const char *h = NULL;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]) && !h; i++)
		if ((int)strlen(hints[i]) <= room)
			h = hints[i];
	if (!h && w - x - 16 >= 10)
		h = hints[sizeof(hints) / sizeof(hints[0]) - 1];   /* the path gives way */
	int hw = h ? (int)strlen(h) + 1 : 0;
	put_path(y, x, p.buf, w - x - hw - 1);
	if (h)
		put_cols(y, w - hw, h, hw - 1);
	attroff(A_REVERSE);
	sb_release(&s);
	sb_release(&p);
}

static void draw(struct ui *u)
{
	int rows = LINES, cols = COLS;

	erase();
	if (rows < 6 || cols < 30) {
		put_cols(0, 0, "terminal too small", cols);
		refresh();
		return;
	}
	int tl = cols >= 60 ? TIMELINE_W : 0;
	int mainw = cols - (tl ? tl + 1 : 0);
	int pane = rows - 2;   /* rows 0 .. rows-3 */

	if (u->ov.on)
		draw_overlay(u, 0, pane, mainw);
	else
		draw_listing(u, 0, pane, mainw);
	u->list_rows = pane - 1;
	if (tl) {
		mvvline(0, mainw, ACS_VLINE, pane);
		draw_timeline(u, 0, pane, mainw + 1);
	}
	/* the message line, or the prompt */
	if (u->prompt != PROMPT_NONE) {
		struct strbuf s = STRBUF_INIT;
		const char *label = u->prompt == PROMPT_FILTER ? "filter: " : "restore to (Esc: cancel): ";
		show_name(&s, u->input.buf, u->input.len);
		put_padded(rows - 2, 0, label, cols);
		/* the end of what is typed stays in sight */
		put_path(rows - 2, (int)strlen(label), s.buf, cols - (int)strlen(label) - 1);
		sb_release(&s);
	} else {
		put_padded(rows - 2, 0, "", cols);
		if (u->msg_tail)
			put_path(rows - 2, 0, u->msg.buf, cols);
		else
			put_cols(rows - 2, 0, u->msg.buf, cols);
	}
	draw_status(u, rows - 1, cols);
	refresh();
}

/* ---------------------------------------------------------------- actions */

static void say(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	msg_clear(u);
	va_start(ap, fmt);
	sb_vaddf(&u->msg, fmt, ap);
	va_end(ap);
}

/* Start the next job: what the user asked for first, then what the view wants. */
static void next_job(struct ui *u)
{
	struct job *j = &u->job;
	struct strbuf word = STRBUF_INIT;
	struct bquery q;

	if (j->pid > 0)
		return;
	if (u->pending_restore) {
		u->pending_restore = 0;
		j->kind = JOB_RESTORE;
		if (job_start(u, NULL, 0) < 0)
			say(u, "cannot start the restore: %s", strerror(errno));
		return;
	}
	if (u->pending_diff) {
		u->pending_diff = 0;
		j->kind = JOB_DIFF;
		sb_addf(&word, "/%s", j->path.buf);
		char *words[] = { "diff", j->prev, j->snap, word.buf };
		if (job_start(u, words, 4) < 0)
			say(u, "cannot start the diff: %s", strerror(errno));
		sb_release(&word);
		return;
	}
	if (!browse_next_query(&u->b, &q))
		return;
	/* "/" + path: an empty word would vanish on its way through ssh */
	sb_addf(&word, "/%s", q.path.buf);
	sb_reset(&j->path);
	sb_add(&j->path, q.path.buf, q.path.len);
	if (q.kind == BQ_LS) {
		j->kind = JOB_LS;
		memcpy(j->snap, q.snap, SNAPNAME_SIZE);
		char *words[] = { "ls", j->snap, word.buf };
		if (job_start(u, words, 3) < 0) {
			struct blisting l;
			blisting_failed(&l, HS_EXIT_ERROR, strerror(errno));
			browse_put_ls(&u->b, j->snap, j->path.buf, &l);
		}
	} else {
		j->kind = JOB_VERSIONS;
		char *words[] = { "versions", word.buf };
		if (job_start(u, words, 2) < 0) {
			struct bversions v;
			bversions_failed(&v, HS_EXIT_ERROR, strerror(errno));
			browse_put_versions(&u->b, j->path.buf, &v);
		}
	}
	bquery_free(&q);
	sb_release(&word);
}

static void job_done(struct ui *u, int code)
{
	struct job *j = &u->job;
	struct strbuf why = STRBUF_INIT, shown = STRBUF_INIT;
	json_t *top = NULL;
	const char *verb = j->kind == JOB_LS ? "ls" : j->kind == JOB_VERSIONS ? "versions" : "diff";

	if (code != 0)
		job_reason(j, code, &why);
	else if (j->kind != JOB_RESTORE && !(top = answer_parse(j->out.buf, verb))) {
		code = HS_EXIT_ERROR;
		sb_addf(&why, "the server's answer is not a protocol 1 %s", verb);
	}
	switch (j->kind) {
	case JOB_LS: {
		struct blisting l;
		if (code != 0 || blisting_from_json(top, &l) < 0)
			blisting_failed(&l, code ? code : HS_EXIT_ERROR, why.len ? why.buf : NULL);
		browse_put_ls(&u->b, j->snap, j->path.buf, &l);
		break;
	}
	case JOB_VERSIONS: {
		struct bversions v;
		if (code != 0 || bversions_from_json(top, &v) < 0)
			bversions_failed(&v, code ? code : HS_EXIT_ERROR, why.len ? why.buf : NULL);
		browse_put_versions(&u->b, j->path.buf, &v);
		break;
	}
	case JOB_DIFF:
		if (code != 0)
			say(u, "diff: %s", why.buf);
		else
			overlay_diff(u, top);
		break;
	case JOB_RESTORE: {
		/* the item by its name: the line is short, and it was selected */
		const char *slash = strrchr(j->path.buf, '/');
		const char *base = slash ? slash + 1 : j->path.buf;
		show_name(&shown, base, strlen(base));
		msg_clear(u);
		if (code == 0) {
			sb_addf(&u->msg, "restored %s as ", shown.buf);
			show_name(&u->msg, j->target.buf, j->target.len);
			u->msg_tail = 1;
		} else {
			sb_addf(&u->msg, "restore of %s failed: %s", shown.buf, why.buf);
		}
		break;
	}
	case JOB_NONE:
		break;
	}
	json_decref(top);
	j->kind = JOB_NONE;
	sb_release(&why);
	sb_release(&shown);
}

static void start_restore_prompt(struct ui *u)
{
	const struct bentry *e = browse_selected(&u->b);
	struct strbuf t = STRBUF_INIT;

	if (!e) {
		say(u, "nothing selected to restore");
		return;
	}
	sb_reset(&u->restore_rel);
	browse_selected_path(&u->b, &u->restore_rel);
	memcpy(u->restore_snap, u->b.snaps[u->b.cur], SNAPNAME_SIZE);
	/* where `hindsight restore` would put it: next to the original */
	restore_default_target(u->restore_rel.buf, u->restore_snap, &t);
	sb_reset(&u->input);
	sb_add(&u->input, t.buf, t.len);
	sb_release(&t);
	u->prompt = PROMPT_RESTORE;
}

static void confirm_restore(struct ui *u)
{
	struct job *j = &u->job;
	struct stat st;
	char *rel;

	u->prompt = PROMPT_NONE;
	if (j->pid > 0 && j->kind == JOB_RESTORE) {
		say(u, "a restore is running: wait for it to finish");
		return;
	}
	if (!u->input.len) {
		say(u, "restore cancelled");
		return;
	}
	rel = snapshot_path(u->input.buf);
	if (!rel || !*rel) {
		say(u, "restore: name a file or directory to restore to, not /");
		free(rel);
		return;
	}
	if (j->pid > 0)
		job_kill(j);   /* a background query: it is fetched again later */
	j->kind = JOB_NONE;
	memcpy(j->snap, u->restore_snap, SNAPNAME_SIZE);
	sb_reset(&j->path);
	sb_add(&j->path, u->restore_rel.buf, u->restore_rel.len);
	sb_reset(&j->target);
	sb_addf(&j->target, "/%s", rel);
	free(rel);
	/* said at once; restore_one() checks again and never replaces anyway */
	if (lstat(j->target.buf, &st) == 0) {
		msg_clear(u);
		show_name(&u->msg, j->target.buf, j->target.len);
		sb_addstr(&u->msg, " exists: not replacing it");
		u->msg_tail = 1;
		return;
	}
	u->pending_restore = 1;
	say(u, "restoring...");
}

static void start_diff(struct ui *u)
{
	struct job *j = &u->job;
	const struct bentry *e = browse_selected(&u->b);

	if (u->b.cur == 0) {
		say(u, "this is the oldest snapshot: nothing to compare it with");
		return;
	}
	if (j->pid > 0 && j->kind == JOB_RESTORE) {
		say(u, "a restore is running: wait for it to finish");
		return;
	}
	if (j->pid > 0)
		job_kill(j);
	j->kind = JOB_NONE;
	sb_reset(&j->path);
	if (e && !strcmp(e->type, "dir"))
		browse_selected_path(&u->b, &j->path);
	else
		sb_addstr(&j->path, u->b.path.buf);
	memcpy(j->prev, u->b.snaps[u->b.cur - 1], SNAPNAME_SIZE);
	memcpy(j->snap, u->b.snaps[u->b.cur], SNAPNAME_SIZE);
	u->pending_diff = 1;
	msg_clear(u);
}

static void want_versions(struct ui *u)
{
	sb_reset(&u->want_versions);
	browse_selected_path(&u->b, &u->want_versions);
	if (!u->want_versions.len) {
		say(u, "nothing selected");
		return;
	}
	u->want_versions_on = 1;
	browse_want_versions(&u->b, u->want_versions.buf);
}

/* `v` was pressed and the versions have arrived: show them. */
static void show_wanted_versions(struct ui *u)
{
	const struct bversions *v;

	if (!u->want_versions_on || !(v = browse_versions(&u->b, u->want_versions.buf)))
		return;
	u->want_versions_on = 0;
	overlay_versions(u, u->want_versions.buf, v);
}

/* Append a typed character (wide) to the prompt's raw bytes. */
static void input_add(struct strbuf *in, wint_t wc)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t k;

	memset(&st, 0, sizeof(st));
	k = wcrtomb(mb, (wchar_t)wc, &st);
	if (k != (size_t)-1)
		sb_add(in, mb, k);
}

/* Remove the last character (a whole UTF-8 sequence). */
static void input_del(struct strbuf *in)
{
	if (!in->len)
		return;
	size_t n = in->len - 1;
	while (n > 0 && ((unsigned char)in->buf[n] & 0xc0) == 0x80)
		n--;
	in->len = n;
	in->buf[n] = '\0';
}

static void prompt_key(struct ui *u, int is_key, wint_t c)
{
	int done = 0, cancel = 0;

	if (is_key) {
		if (c == KEY_BACKSPACE)
			input_del(&u->input);
		else if (c == KEY_ENTER)
			done = 1;
	} else if (c == 27) {
		cancel = 1;
	} else if (c == '\n' || c == '\r') {
		done = 1;
	} else if (c == 127 || c == 8) {
		input_del(&u->input);
	} else if (c == 21) {   /* ^U */
		sb_reset(&u->input);
	} else if (iswprint(c)) {
		input_add(&u->input, c);
	}
	if (u->prompt == PROMPT_FILTER) {
		if (cancel)
			sb_reset(&u->input);
		browse_set_filter(&u->b, u->input.buf);
		if (done || cancel)
			u->prompt = PROMPT_NONE;
		return;
	}
	if (cancel) {
		u->prompt = PROMPT_NONE;
		say(u, "restore cancelled");
	} else if (done) {
		confirm_restore(u);
	}
}

/* Keys while an overlay is shown: scroll, or close it. */
static void overlay_key(struct ui *u, int is_key, wint_t c)
{
	size_t page = u->list_rows > 1 ? (size_t)u->list_rows : 1;

	if (is_key && (c == KEY_UP || c == KEY_PPAGE || c == KEY_HOME)) {
		size_t by = c == KEY_UP ? 1 : c == KEY_PPAGE ? page : u->ov.top;
		u->ov.top = u->ov.top > by ? u->ov.top - by : 0;
	} else if (is_key && (c == KEY_DOWN || c == KEY_NPAGE || c == KEY_END)) {
		u->ov.top += c == KEY_DOWN ? 1 : c == KEY_NPAGE ? page : u->ov.lines.n;
	} else if (!is_key && (c == 'k' || c == 'j')) {
		if (c == 'k' && u->ov.top)
			u->ov.top--;
		else if (c == 'j')
			u->ov.top++;
	} else if (!(is_key && c == KEY_RESIZE)) {
		u->ov.on = 0;
	}
}

/* One key in the main view. Returns -1 to quit, else 0. */
static int main_key(struct ui *u, int is_key, wint_t c, int *exit_code)
{
	long page = u->list_rows > 1 ? u->list_rows : 1;

	if (is_key) {
		switch (c) {
		case KEY_UP: browse_move(&u->b, -1); break;
		case KEY_DOWN: browse_move(&u->b, 1); break;
		case KEY_PPAGE: browse_move(&u->b, -page); break;
		case KEY_NPAGE: browse_move(&u->b, page); break;
		case KEY_HOME: browse_move(&u->b, -(long)u->b.nview); break;
		case KEY_END: browse_move(&u->b, (long)u->b.nview); break;
		case KEY_ENTER: goto enter;
		case KEY_BACKSPACE: goto up;
		case KEY_LEFT: goto older;
		case KEY_RIGHT: goto newer;
		default: break;
		}
		return 0;
	}
	msg_clear(u);
	switch (c) {
	case 'k': browse_move(&u->b, -1); break;
	case 'j': browse_move(&u->b, 1); break;
	case 'g': browse_move(&u->b, -(long)u->b.nview); break;
	case 'G': browse_move(&u->b, (long)u->b.nview); break;
	case '\n':
	case '\r':
	case 'l':
enter:
		if (browse_enter(&u->b) < 0)
			say(u, "not a directory: r restores it, v shows its versions");
		break;
	case 127:
	case 8:
	case 'h':
up:
		if (browse_up(&u->b) < 0)
			say(u, "already at the top");
		break;
	case '[':
older:
		if (browse_step(&u->b, -1) < 0)
			say(u, "this is the oldest snapshot");
		break;
	case ']':
newer:
		if (browse_step(&u->b, 1) < 0)
			say(u, "this is the newest snapshot");
		break;
	case 'v': want_versions(u); break;
	case 'd': start_diff(u); break;
	case 'r': start_restore_prompt(u); break;
	case '/':
		u->prompt = PROMPT_FILTER;
		sb_reset(&u->input);
		sb_add(&u->input, u->b.filter.buf, u->b.filter.len);
		break;
	case 27:
		browse_set_filter(&u->b, "");
		break;
	case '?': overlay_help(u); break;
	case 12:   /* ^L: redraw, and try again what failed */
		clearok(curscr, TRUE);
		if (browse_forget_failures(&u->b))
			say(u, "trying again");
		break;
	case 'q':
		if (u->job.pid > 0 && u->job.kind == JOB_RESTORE) {
			/* cut short, it would leave its staging directory behind */
			u->quit_after_restore = 1;
			say(u, "quitting when the restore is done");
			break;
		}
		*exit_code = HS_EXIT_OK;
		return -1;
	case 3:   /* ^C: the terminal is ours (raw), so it arrives as a key */
		*exit_code = HS_EXIT_INTERRUPTED;
		return -1;
	default: break;
	}
	return 0;
}

static int run_ui(struct ui *u)
{
	int exit_code = HS_EXIT_OK;

	for (;;) {
		int code;
		wint_t c;

		if (got_signal) {
			exit_code = HS_EXIT_INTERRUPTED;
			break;
		}
		if (u->job.pid > 0 && job_poll(&u->job, &code)) {
			job_done(u, code);
			if (u->quit_after_restore)
				break;
		}
		next_job(u);
		show_wanted_versions(u);
		draw(u);
		/* while a query runs: wake up to turn the spinner and read it;
		 * else now and then, should a signal not interrupt the read */
		timeout(u->job.pid > 0 ? 80 : 1000);
		int got = get_wch(&c);
		if (got == ERR)
			continue;
		int is_key = got == KEY_CODE_YES;
		if (is_key && c == KEY_RESIZE) {
			clearok(curscr, TRUE);
			continue;
		}
		if (u->prompt != PROMPT_NONE)
			prompt_key(u, is_key, c);
		else if (u->ov.on)
			overlay_key(u, is_key, c);
		else if (main_key(u, is_key, c, &exit_code) < 0)
			break;
	}
	job_kill(&u->job);
	return exit_code;
}

/* ---------------------------------------------------------------- the verb */

int cmd_browse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		COMMON_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	const char *at = NULL;
	struct repo repo;
	struct snaplist l = { NULL, 0 };
	struct ui u;
	char why[256];
	size_t idx;
	int c, code;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 'h': fputs(browse_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(browse_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc) {
		fputs(browse_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (!isatty(0) || !isatty(1)) {
		fputs("hindsight: browse needs a terminal on stdin and stdout "
		      "(for scripts: ls, versions, diff and restore)\n", stderr);
		return HS_EXIT_USAGE;
	}
	char *rel = snapshot_path(optind < argc ? argv[optind] : ".");
	if (!rel) {
		fputs("hindsight: cannot find the current directory\n", stderr);
		return HS_EXIT_ERROR;
	}
	if ((code = common_repo(&co, &repo, 1)) != 0) {
		free(rel);
		return code;
	}
	if ((code = fetch_snapshots(&repo, &l)) != 0)
		goto out;
	if (l.n == 0) {
		char *name = repo_name(&repo);
		fprintf(stderr, "hindsight: no snapshots yet in %s: nothing to browse\n", name);
		free(name);
		code = HS_EXIT_NOTFOUND;
		goto out;
	}
	int rc = resolve_snapshot(at ? at : "latest", time(NULL), l.names, l.n, &idx, why,
				  sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "hindsight: %s\n", why);
		code = rc == -EINVAL ? HS_EXIT_USAGE : HS_EXIT_NOTFOUND;
		goto out;
	}

	memset(&u, 0, sizeof(u));
	u.repo = &repo;
	u.job.out_fd = u.job.err_fd = -1;
	sb_init(&u.job.out);
	sb_init(&u.job.err);
	sb_init(&u.job.path);
	sb_init(&u.job.target);
	sb_init(&u.msg);
	sb_init(&u.ov.title);
	sb_init(&u.want_versions);
	sb_init(&u.input);
	sb_init(&u.restore_rel);
	browse_init(&u.b, l.names, l.n, idx, rel);
	say(&u, "? for help");

	/* ours, set before initscr() so that ncurses leaves them alone */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: the read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the terminal's own character set, for names in UTF-8 */
	setlocale(LC_CTYPE, "");
	if (!initscr()) {
		fputs("hindsight: cannot set up the terminal (is TERM right?)\n", stderr);
		code = HS_EXIT_ERROR;
	} else {
		raw();
		noecho();
		nonl();
		keypad(stdscr, TRUE);
		set_escdelay(25);
		curs_set(0);
		code = run_ui(&u);
		endwin();
	}
	setlocale(LC_CTYPE, "C");

	browse_free(&u.b);
	sb_release(&u.job.out);
	sb_release(&u.job.err);
	sb_release(&u.job.path);
	sb_release(&u.job.target);
	sb_release(&u.msg);
	sb_release(&u.ov.title);
	argv_clear(&u.ov.lines);
	sb_release(&u.want_versions);
	sb_release(&u.input);
	sb_release(&u.restore_rel);
out:
	snaplist_free(&l);
	free(rel);
	repo_free(&repo);
	common_free(&co);
	return code;
}
