/*
 * The browser's state machine (browse.h): where we are in which snapshot,
 * what is selected, and what has been fetched. Pure: the terminal and the
 * queries are browse.c's.
 */
#include "browse.h"
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/history.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bcache_ls {
	char snap[SNAPNAME_SIZE];
	struct strbuf path;
	struct blisting l;
};

struct bcache_ver {
	struct strbuf path;
	struct bversions v;
};

/* ---------------------------------------------------------------- answers */

static void copy_str(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "?");
}

int blisting_from_json(json_t *top, struct blisting *out)
{
	json_t *entries = json_object_get(top, "entries"), *e;
	const char *type = json_string_value(json_object_get(top, "type"));
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(entries))
		return -1;
	out->is_dir = type && !strcmp(type, "dir");
	out->e = xcalloc(json_array_size(entries) + 1, sizeof(*out->e));
	json_array_foreach(entries, i, e) {
		struct bentry *be = &out->e[out->n];
		sb_init(&be->raw);
		sb_init(&be->shown);
		if (answer_name(e, "name", &be->raw) < 0) {
			sb_release(&be->raw);
			sb_release(&be->shown);
			continue;   /* ls.c shows "?"; a name we cannot act on is left out */
		}
		show_name(&be->shown, be->raw.buf, be->raw.len);
		copy_str(be->type, sizeof(be->type),
			 json_string_value(json_object_get(e, "type")));
		if (!strcmp(be->type, "symlink")) {
			struct strbuf t = STRBUF_INIT;
			if (answer_name(e, "target", &t) == 0) {
				sb_addstr(&be->shown, " -> ");
				show_name(&be->shown, t.buf, t.len);
			}
			sb_release(&t);
		}
		be->size = json_integer_value(json_object_get(e, "size"));
		be->mtime = json_integer_value(json_object_get(e, "mtime"));
		out->n++;
	}
	return 0;
}

int bversions_from_json(json_t *top, struct bversions *out)
{
	json_t *vs = json_object_get(top, "versions"), *v, *missing;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_array(vs))
		return -1;
	out->v = xcalloc(json_array_size(vs) + 1, sizeof(*out->v));
	json_array_foreach(vs, i, v) {
		struct bversion *bv = &out->v[out->n];
		const char *first = json_string_value(json_object_get(v, "first"));
		const char *last = json_string_value(json_object_get(v, "last"));
		if (!first || !last || snapname_parse(first, NULL) < 0 ||
		    snapname_parse(last, NULL) < 0)
			continue;
		memcpy(bv->first, first, SNAPNAME_SIZE);
		memcpy(bv->last, last, SNAPNAME_SIZE);
		bv->count = json_integer_value(json_object_get(v, "count"));
		bv->size = json_integer_value(json_object_get(v, "size"));
		bv->mtime = json_integer_value(json_object_get(v, "mtime"));
		copy_str(bv->type, sizeof(bv->type), json_string_value(json_object_get(v, "type")));
		out->n++;
	}
	if (json_is_array(missing = json_object_get(top, "missing")))
		out->missing = json_array_size(missing);
	else
		out->missing = (size_t)json_integer_value(json_object_get(top, "missing_count"));
	return 0;
}

void blisting_failed(struct blisting *out, int code, const char *msg)
{
	memset(out, 0, sizeof(*out));
	out->code = code ? code : 1;
	out->msg = msg ? xstrdup(msg) : NULL;
}

void bversions_failed(struct bversions *out, int code, const char *msg)
{
	memset(out, 0, sizeof(*out));
	out->code = code ? code : 1;
	out->msg = msg ? xstrdup(msg) : NULL;
}

void blisting_free(struct blisting *l)
{
	for (size_t i = 0; i < l->n; i++) {
		sb_release(&l->e[i].raw);
		sb_release(&l->e[i].shown);
	}
	free(l->e);
	free(l->msg);
	memset(l, 0, sizeof(*l));
}

void bversions_free(struct bversions *v)
{
	free(v->v);
	free(v->msg);
	memset(v, 0, sizeof(*v));
}

/* ---------------------------------------------------------------- the view */

static int contains_nocase(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return 1;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (!strncasecmp(hay + i, needle, nlen))
			return 1;
	return 0;
}

/* Rebuild the view and put the cursor back on the selected name if it is there. */
static void refresh(struct browse *b)
{
	const struct blisting *l = browse_listing(b);

	b->nview = 0;
	free(b->view);
	b->view = NULL;
	if (!l || l->code != 0 || !l->is_dir) {
		b->cursor = b->top = 0;
		return;
	}
	b->view = xcalloc(l->n + 1, sizeof(*b->view));
	for (size_t i = 0; i < l->n; i++)
		if (contains_nocase(l->e[i].raw.buf, l->e[i].raw.len, b->filter.buf, b->filter.len))
			b->view[b->nview++] = i;
	if (b->have_sel) {
		for (size_t v = 0; v < b->nview; v++) {
			const struct strbuf *raw = &l->e[b->view[v]].raw;
			if (raw->len == b->sel.len && !memcmp(raw->buf, b->sel.buf, raw->len)) {
				b->cursor = v;
				return;
			}
		}
	}
	if (b->cursor >= b->nview)
		b->cursor = b->nview ? b->nview - 1 : 0;
	/* the name we wanted is not here: select what the cursor landed on */
	const struct bentry *e = browse_selected(b);
	sb_reset(&b->sel);
	b->have_sel = e != NULL;
	if (e)
		sb_add(&b->sel, e->raw.buf, e->raw.len);
}

static void select_cursor(struct browse *b)
{
	const struct bentry *e = browse_selected(b);

	sb_reset(&b->sel);
	b->have_sel = e != NULL;
	if (e)
		sb_add(&b->sel, e->raw.buf, e->raw.len);
}

void browse_init(struct browse *b, char (*const snaps)[SNAPNAME_SIZE], size_t n, size_t cur,
		 const char *path)
{
	memset(b, 0, sizeof(*b));
	b->snaps = xcalloc(n + 1, SNAPNAME_SIZE);
	if (n)
		memcpy(b->snaps, snaps, xmul(n, SNAPNAME_SIZE));
	b->nsnaps = n;
	b->cur = cur < n ? cur : (n ? n - 1 : 0);
	sb_init(&b->path);
	sb_init(&b->sel);
	sb_init(&b->filter);
	sb_init(&b->want_ver);
	sb_addstr(&b->path, path);
}

void browse_free(struct browse *b)
{
	for (size_t i = 0; i < b->nls; i++) {
		sb_release(&b->ls[i].path);
		blisting_free(&b->ls[i].l);
	}
	for (size_t i = 0; i < b->nver; i++) {
		sb_release(&b->ver[i].path);
		bversions_free(&b->ver[i].v);
	}
	free(b->ls);
	free(b->ver);
	free(b->view);
	free(b->snaps);
	sb_release(&b->path);
	sb_release(&b->sel);
	sb_release(&b->filter);
	sb_release(&b->want_ver);
	memset(b, 0, sizeof(*b));
}

static const struct blisting *find_ls(const struct browse *b, const char *snap, const char *path)
{
	for (size_t i = 0; i < b->nls; i++)
		if (!strcmp(b->ls[i].snap, snap) && !strcmp(b->ls[i].path.buf, path))
			return &b->ls[i].l;
	return NULL;
}

const struct blisting *browse_listing(const struct browse *b)
{
	if (!b->nsnaps)
		return NULL;
	return find_ls(b, b->snaps[b->cur], b->path.buf);
}

const struct bversions *browse_versions(const struct browse *b, const char *path)
{
	for (size_t i = 0; i < b->nver; i++)
		if (!strcmp(b->ver[i].path.buf, path))
			return &b->ver[i].v;
	return NULL;
}

int browse_next_query(const struct browse *b, struct bquery *q)
{
	memset(q, 0, sizeof(*q));
	sb_init(&q->path);
	if (!b->nsnaps)
		return 0;
	if (!browse_listing(b)) {
		q->kind = BQ_LS;
		memcpy(q->snap, b->snaps[b->cur], SNAPNAME_SIZE);
		sb_addstr(&q->path, b->path.buf);
		return 1;
	}
	q->kind = BQ_VERSIONS;
	/* not here: its versions say whether it did not exist yet or no longer */
	if (browse_listing(b)->code == HS_EXIT_NOTFOUND && !browse_versions(b, b->path.buf)) {
		sb_add(&q->path, b->path.buf, b->path.len);
		return 1;
	}
	if (b->want_ver.len && !browse_versions(b, b->want_ver.buf)) {
		sb_add(&q->path, b->want_ver.buf, b->want_ver.len);
		return 1;
	}
	const struct bentry *e = browse_selected(b);
	browse_selected_path(b, &q->path);
	if (e && strcmp(e->type, "dir") && !browse_versions(b, q->path.buf))
		return 1;
	bquery_free(q);
	return 0;
}

void browse_want_versions(struct browse *b, const char *path)
{
	sb_reset(&b->want_ver);
	sb_addstr(&b->want_ver, path);
}

void bquery_free(struct bquery *q)
{
	sb_release(&q->path);
	q->kind = BQ_NONE;
}

void browse_put_ls(struct browse *b, const char *snap, const char *path, struct blisting *l)
{
	if (find_ls(b, snap, path)) {
		blisting_free(l);
		return;
	}
	b->ls = xrealloc(b->ls, xmul(b->nls + 1, sizeof(*b->ls)));
	struct bcache_ls *c = &b->ls[b->nls++];
	copy_str(c->snap, sizeof(c->snap), snap);
	sb_init(&c->path);
	sb_addstr(&c->path, path);
	c->l = *l;
	memset(l, 0, sizeof(*l));
	refresh(b);
}

void browse_put_versions(struct browse *b, const char *path, struct bversions *v)
{
	if (browse_versions(b, path)) {
		bversions_free(v);
		return;
	}
	b->ver = xrealloc(b->ver, xmul(b->nver + 1, sizeof(*b->ver)));
	struct bcache_ver *c = &b->ver[b->nver++];
	sb_init(&c->path);
	sb_addstr(&c->path, path);
	c->v = *v;
	memset(v, 0, sizeof(*v));
}

static int transient(int code)
{
	return code != 0 && code != HS_EXIT_NOTFOUND;
}

size_t browse_forget_failures(struct browse *b)
{
	size_t kept = 0, gone = 0;

	for (size_t i = 0; i < b->nls; i++) {
		if (transient(b->ls[i].l.code)) {
			sb_release(&b->ls[i].path);
			blisting_free(&b->ls[i].l);
			gone++;
		} else {
			b->ls[kept++] = b->ls[i];
		}
	}
	b->nls = kept;
	kept = 0;
	for (size_t i = 0; i < b->nver; i++) {
		if (transient(b->ver[i].v.code)) {
			sb_release(&b->ver[i].path);
			bversions_free(&b->ver[i].v);
			gone++;
		} else {
			b->ver[kept++] = b->ver[i];
		}
	}
	b->nver = kept;
	refresh(b);
	return gone;
}

const struct bentry *browse_entry(const struct browse *b, size_t view_index)
{
	const struct blisting *l = browse_listing(b);

	if (!l || view_index >= b->nview)
		return NULL;
	return &l->e[b->view[view_index]];
}

const struct bentry *browse_selected(const struct browse *b)
{
	return browse_entry(b, b->cursor);
}

void browse_selected_path(const struct browse *b, struct strbuf *out)
{
	const struct bentry *e = browse_selected(b);

	sb_reset(out);
	if (!e)
		return;
	if (b->path.len) {
		sb_add(out, b->path.buf, b->path.len);
		sb_addch(out, '/');
	}
	sb_add(out, e->raw.buf, e->raw.len);
}

/* ---------------------------------------------------------------- moving */

void browse_move(struct browse *b, long delta)
{
	if (!b->nview)
		return;
	if (delta < 0)
		b->cursor = (size_t)-delta >= b->cursor ? 0 : b->cursor - (size_t)-delta;
	else
		b->cursor = (size_t)delta >= b->nview - b->cursor ? b->nview - 1
								 : b->cursor + (size_t)delta;
	select_cursor(b);
}

void browse_scroll(struct browse *b, size_t rows)
{
	if (!rows)
		rows = 1;
	if (b->cursor < b->top)
		b->top = b->cursor;
	else if (b->cursor >= b->top + rows)
		b->top = b->cursor - rows + 1;
	/* no empty space below the end when the window could be full */
	if (b->nview <= rows)
		b->top = 0;
	else if (b->top + rows > b->nview)
		b->top = b->nview - rows;
}

static void set_path_at(struct browse *b)
{
	sb_reset(&b->filter);
	b->cursor = b->top = 0;
	refresh(b);
}

int browse_enter(struct browse *b)
{
	const struct bentry *e = browse_selected(b);

	if (!e || strcmp(e->type, "dir"))
		return -1;
	if (b->path.len)
		sb_addch(&b->path, '/');
	sb_add(&b->path, e->raw.buf, e->raw.len);
	sb_reset(&b->sel);
	b->have_sel = 0;
	set_path_at(b);
	return 0;
}

int browse_up(struct browse *b)
{
	if (!b->path.len)
		return -1;
	char *slash = strrchr(b->path.buf, '/');
	size_t keep = slash ? (size_t)(slash - b->path.buf) : 0;
	sb_reset(&b->sel);
	sb_addstr(&b->sel, slash ? slash + 1 : b->path.buf);
	b->have_sel = 1;
	b->path.len = keep;
	b->path.buf[keep] = '\0';
	set_path_at(b);
	return 0;
}

int browse_step(struct browse *b, int dir)
{
	if (dir < 0 && b->cur == 0)
		return -1;
	if (dir > 0 && b->cur + 1 >= b->nsnaps)
		return -1;
	b->cur = dir < 0 ? b->cur - 1 : b->cur + 1;
	refresh(b);
	return 0;
}

void browse_set_filter(struct browse *b, const char *f)
{
	sb_reset(&b->filter);
	sb_addstr(&b->filter, f);
	refresh(b);
}

/* ---------------------------------------------------------------- time */

/* The index of snapshot name, or n if it is not in the list (sorted). */
static size_t snap_index(const struct browse *b, const char *name)
{
	size_t lo = 0, hi = b->nsnaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->snaps[mid], name);
		if (c == 0)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return b->nsnaps;
}

char browse_mark(const struct browse *b, size_t i)
{
	struct strbuf p = STRBUF_INIT;
	const struct bversions *v;
	char mark = ' ';

	const struct bentry *e = browse_selected(b);
	if (!e || !strcmp(e->type, "dir"))
		return ' ';
	browse_selected_path(b, &p);
	v = browse_versions(b, p.buf);
	sb_release(&p);
	if (!v || v->code != 0)
		return ' ';
	for (size_t k = 0; k < v->n; k++) {
		size_t first = snap_index(b, v->v[k].first), last = snap_index(b, v->v[k].last);
		if (first == i)
			return '*';
		if (last < b->nsnaps && last + 1 == i)
			mark = 'x';
	}
	return mark;
}

const char *browse_absence(const struct browse *b)
{
	const struct bversions *v = browse_versions(b, b->path.buf);
	int newer = 0, older = 0;

	if (v && v->code == 0 && v->n) {
		size_t first = snap_index(b, v->v[0].first);
		size_t last = snap_index(b, v->v[v->n - 1].last);
		if (first < b->nsnaps && first > b->cur)
			return "did not exist yet";
		if (last < b->nsnaps && last < b->cur)
			return "no longer existed";
		return "is not in this snapshot";
	}
	if (v && v->code == HS_EXIT_NOTFOUND)
		return "is in no snapshot";
	/* not known yet: what the listings fetched so far say */

	for (size_t i = 0; i < b->nls; i++) {
		if (b->ls[i].l.code != 0 || strcmp(b->ls[i].path.buf, b->path.buf))
			continue;
		size_t at = snap_index(b, b->ls[i].snap);
		if (at < b->nsnaps && at > b->cur)
			newer = 1;
		else if (at < b->cur)
			older = 1;
	}
	if (newer && !older)
		return "did not exist yet";
	if (older && !newer)
		return "no longer existed";
	return "is not in this snapshot";
}

size_t browse_timeline_top(size_t cur, size_t n, size_t rows)
{
	if (!rows || n <= rows)
		return 0;
	/* the current snapshot in the middle, the window inside the list */
	size_t top = cur > rows / 2 ? cur - rows / 2 : 0;
	return top + rows > n ? n - rows : top;
}
