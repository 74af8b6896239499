/*
 * `hindsight browse`'s screen (browse_ui.h), with ncurses: the listing or
 * a window over it (versions, changes, help), the timeline down the right,
 * a message line and the status line. Everything is drawn again from the
 * state at each turn, so a resize is only a redraw. Text goes through
 * put_cols(), which never lets a byte act on the terminal.
 */
#define NCURSES_WIDECHAR 1

#include "browse_ui.h"
#include "../lib/exitcodes.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>
#include <wctype.h>

#define TIMELINE_W 22   /* '>', mark, "YYYY-MM-DD HH:MM:SS", one spare */

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

void shown_path(struct strbuf *out, const char *raw)
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

void overlay_versions(struct ui *u, const char *path, const struct bversions *v)
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

void overlay_diff(struct ui *u, json_t *top)
{
	json_t *changes = json_object_get(top, "changes"), *c;
	struct strbuf t = STRBUF_INIT, line = STRBUF_INIT;
	char a[40], b[40];
	size_t i;

	snap_local(u->job.prev, a, sizeof(a));
	snap_local(u->job.snap, b, sizeof(b));
	shown_path(&t, u->job.path.buf);
	sb_addf(&t, ": %zu change%s from %s to %s", json_array_size(changes),
		json_array_size(changes) == 1 ? "" : "s", a, b);
	overlay_open(&u->ov, t.buf);
	json_array_foreach(changes, i, c) {
		sb_reset(&line);
		if (diff_line(c, &line) == 0)   /* as `hindsight diff` shows it */
			argv_push(&u->ov.lines, line.buf);
	}
	if (!json_array_size(changes))
		argv_push(&u->ov.lines, "(nothing changed)");
	sb_release(&t);
	sb_release(&line);
}

void overlay_help(struct ui *u)
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

void draw(struct ui *u)
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
