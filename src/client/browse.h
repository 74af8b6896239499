/*
 * `hindsight browse`: what the browser knows and does, apart from the
 * terminal. browse_state.c holds the state machine (the snapshot shown,
 * the path, the cursor, the filter, and a cache of the answers fetched per
 * snapshot and path); browse.c draws it with ncurses and runs the queries.
 * Nothing here touches a terminal, a process or the network, so all of it
 * is unit-tested (tests/unit/test_browse.c).
 *
 * Paths are raw bytes (names.h), relative to the top of a snapshot: ""
 * for the top, "home/me" below it. A query names them as "/" + path.
 */
#ifndef HS_BROWSE_H
#define HS_BROWSE_H

#include <jansson.h>
#include <stddef.h>

#include "../lib/snapname.h"
#include "../lib/strbuf.h"

/* One entry of a listing, as ls gave it. */
struct bentry {
	struct strbuf raw;     /* the name's bytes */
	struct strbuf shown;   /* its display form; " -> target" for a symlink */
	char type[12];         /* "dir", "file", "symlink", ... */
	long long size, mtime;
};

/* What ls answered for one (snapshot, path). */
struct blisting {
	int code;              /* 0, or the query's exit code (10: not there) */
	char *msg;             /* the reason when code != 0, or NULL */
	int is_dir;            /* path is a directory (else: entries = itself) */
	struct bentry *e;
	size_t n;
};

/* One version of a path, as versions gave it. */
struct bversion {
	char first[SNAPNAME_SIZE], last[SNAPNAME_SIZE];
	long long count, size, mtime;
	char type[12];
};

struct bversions {
	int code;
	char *msg;
	struct bversion *v;
	size_t n;
	size_t missing;        /* snapshots without the path */
};

/* Parse checked answers (answer_parse()). Return 0, or -1 if malformed. */
int blisting_from_json(json_t *top, struct blisting *out);
int bversions_from_json(json_t *top, struct bversions *out);
/* An answer that failed: code and message (copied; may be NULL). */
void blisting_failed(struct blisting *out, int code, const char *msg);
void bversions_failed(struct bversions *out, int code, const char *msg);
void blisting_free(struct blisting *l);
void bversions_free(struct bversions *v);

enum bquery_kind { BQ_NONE, BQ_LS, BQ_VERSIONS };

/* The next query the browser wants answered. */
struct bquery {
	enum bquery_kind kind;
	char snap[SNAPNAME_SIZE];   /* BQ_LS */
	struct strbuf path;         /* raw path, as in the cache */
};

struct bcache_ls;
struct bcache_ver;

struct browse {
	char (*snaps)[SNAPNAME_SIZE];   /* oldest first (a copy) */
	size_t nsnaps;
	size_t cur;                     /* the snapshot shown */
	struct strbuf path;             /* the directory shown */
	struct strbuf sel;              /* raw name under the cursor */
	int have_sel;
	size_t cursor, top;             /* in the view */
	struct strbuf filter;           /* names shown contain this (any case) */
	struct strbuf want_ver;         /* versions asked for (`v`), or "" */
	size_t *view;                   /* listing indexes passing the filter */
	size_t nview;
	struct bcache_ls *ls;
	size_t nls;
	struct bcache_ver *ver;
	size_t nver;
};

/* Start at snapshot cur (an index into snaps) and path. */
void browse_init(struct browse *b, char (*const snaps)[SNAPNAME_SIZE], size_t n, size_t cur,
		 const char *path);
void browse_free(struct browse *b);

/* The listing of the current snapshot and path, or NULL until fetched. */
const struct blisting *browse_listing(const struct browse *b);
/* The versions of a raw path, or NULL until fetched. */
const struct bversions *browse_versions(const struct browse *b, const char *path);

/*
 * What to fetch next: the listing shown, the versions of its path if it is
 * not in this snapshot (browse_absence()), then the versions asked for with
 * browse_want_versions(), then those of the item under the cursor unless
 * it is a directory (a directory is a new inode in every snapshot, so its
 * versions mark every one). Returns 1 and fills q (bquery_free() it), or 0.
 */
int browse_next_query(const struct browse *b, struct bquery *q);
void bquery_free(struct bquery *q);
/* Fetch the versions of this raw path next (if they are not cached). */
void browse_want_versions(struct browse *b, const char *path);
/* Store an answer (taken over). A second answer for one key is dropped. */
void browse_put_ls(struct browse *b, const char *snap, const char *path, struct blisting *l);
void browse_put_versions(struct browse *b, const char *path, struct bversions *v);

/*
 * Forget the answers that failed for another reason than "not there" (the
 * network, the server), so that they are fetched again. Returns how many.
 */
size_t browse_forget_failures(struct browse *b);

/* The view (filtered listing) is recomputed by every change; these read it. */
const struct bentry *browse_entry(const struct browse *b, size_t view_index);
const struct bentry *browse_selected(const struct browse *b);
/* The raw path of the item under the cursor ("" if none). */
void browse_selected_path(const struct browse *b, struct strbuf *out);

/* Move the cursor by delta rows, clamped (Home/End: a huge delta). */
void browse_move(struct browse *b, long delta);
/* Keep the cursor inside a window of rows lines: adjusts b->top. */
void browse_scroll(struct browse *b, size_t rows);
/* Descend into the selected directory: 0, or -1 if it is not one. */
int browse_enter(struct browse *b);
/* Go to the parent, the cursor on where we came from: 0, or -1 at the top. */
int browse_up(struct browse *b);
/* One snapshot older (-1) or newer (+1), same path: 0, or -1 at the end. */
int browse_step(struct browse *b, int dir);
/* Show only names that contain f (ASCII case ignored); "" shows all. */
void browse_set_filter(struct browse *b, const char *f);

/*
 * The timeline's mark for snapshot i, from the versions of the selected
 * item: '*' a version starts there (created or changed), 'x' it is gone
 * there, ' ' nothing (or not known yet, or a directory).
 */
char browse_mark(const struct browse *b, size_t i);

/*
 * Why the path is not listed in the current snapshot (code 10), from its
 * versions (which browse_next_query() then asks for): "did not exist yet"
 * (its first version is newer), "no longer existed" (its last is older),
 * "is not in this snapshot" (a gap), "is in no snapshot". Until they come,
 * from the listings fetched: newer ones only, older ones only, or neither.
 */
const char *browse_absence(const struct browse *b);

/* The first snapshot of a timeline of rows lines that shows cur. */
size_t browse_timeline_top(size_t cur, size_t n, size_t rows);

#endif
