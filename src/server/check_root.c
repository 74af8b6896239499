/*
 * check's look at one backup root (check.c has the server-wide part). One
 * finding per line. With --repair, what is safe is fixed under the push
 * lock and the prune lock (so no push or deletion runs meanwhile), then
 * the root is looked at again: a finding that is gone prints as
 * "repaired:", one that stayed prints as before.
 *
 * Safe to fix: what root_repair() fixes before every push (current, a
 * stale current.tmp, temporaries, an interrupted publish, the trash);
 * metadata (a lost NAME.json rebuilt from the log, marked reconstructed;
 * one for a snapshot that is gone, removed); a pin naming no snapshot; a
 * stale basis or transfer.log of a push that died; the modes of the root
 * and .hindsight/; the owners of server state an admin verb left owned by
 * root. Never touched: snapshot contents, and anything that is not part
 * of the layout (reported only: it may be the account's).
 *
 * A sealed root (sealed.h) is root's and the vault's by design: its owners
 * and modes are check_sealed.c's to judge, .hindsight/work is the account's
 * own and left alone, and its repair is the sealer's (check_sealed_repair:
 * a seal cut short is finished or discarded, then current, the trash and
 * the sealed layout are put right), run by root.
 */
#include "check.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/lastpush.h"
#include "../lib/prune.h"
#include "../lib/root.h"
#include "../lib/sealed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum fix {
	FIX_NONE,
	FIX_REPAIR,   /* root_repair() and the trash */
	FIX_META,     /* rebuild snapshots/SUBJECT.json */
	FIX_UNLINK,   /* unlink .hindsight/SUBJECT */
	FIX_CHMOD,    /* chmod SUBJECT (from the root) to mode */
	FIX_CHOWN,    /* hand .hindsight's entries to the root's owner */
};

struct finding {
	const char *level;   /* "ok", "warning", "error" */
	enum fix fix;
	char subject[80];
	unsigned mode;
	char msg[600];
};

struct findings {
	struct finding *v;
	size_t n, alloc;
};

__attribute__((format(printf, 6, 7)))
static void add(struct findings *f, const char *level, enum fix fix, const char *subject,
		unsigned mode, const char *fmt, ...)
{
	va_list ap;

	if (f->n == f->alloc) {
		f->alloc = f->alloc ? xmul(f->alloc, 2) : 16;
		f->v = xrealloc(f->v, xmul(f->alloc, sizeof(*f->v)));
	}
	struct finding *x = &f->v[f->n++];
	x->level = level;
	x->fix = fix;
	snprintf(x->subject, sizeof(x->subject), "%s", subject ? subject : "");
	x->mode = mode;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
}

/* Call fn for every name in dirfd/sub ("" : dirfd) but . and .. */
static void each_entry(int dirfd, const char *sub, void (*fn)(const char *name, void *arg),
		       void *arg)
{
	int fd = openat(dirfd, sub[0] ? sub : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fn(de->d_name, arg);
	closedir(d);
}

static int is_temporary(const char *name)
{
	size_t n = strlen(name);

	return name[0] == '.' && n > 5 && !strcmp(name + n - 4, ".tmp");
}

/* What one look at the root needs to carry around. */
struct look {
	const struct root *r;
	struct findings *f;
	const struct snaplist *l;
	size_t count;
	int transient;           /* also what a running push or prune changes */
};

static int has_snapshot(const struct snaplist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return 1;
	return 0;
}

static void root_entry(const char *e, void *arg)
{
	struct look *k = arg;

	if (!strcmp(e, HS_CURRENT) || !strcmp(e, HS_INPROGRESS) || !strcmp(e, HS_META_DIR) ||
	    !strcmp(e, ".ssh") || snapname_parse(e, NULL) == 0 ||
	    !strcmp(e, HS_CURRENT ".tmp"))   /* reported on its own */
		return;
	add(k->f, "warning", FIX_NONE, NULL, 0, "%s: %.200s is not part of the layout",
	    k->r->path, e);
}

static void meta_entry(const char *e, void *arg)
{
	static const char *const known[] = {
		"lock", "prune.lock", "snapshots", "pending.json", "resume", "trash", "pins",
		"basis", "log", "transfer.log", "tmp", LASTPUSH_FILE,
	};
	static const char *const sealed[] = { HS_WORK, HS_SEAL_LOCK, HS_SEALING };
	struct look *k = arg;

	for (size_t i = 0; k->r->sealed && i < sizeof(sealed) / sizeof(sealed[0]); i++)
		if (!strcmp(e, sealed[i]))
			return;

	if (is_temporary(e)) {
		if (k->transient)
			add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: a temporary file left behind: "
			    HS_META_DIR "/%.200s", k->r->path, e);
		return;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(e, known[i]))
			return;
	add(k->f, "warning", FIX_NONE, NULL, 0, "%s: " HS_META_DIR "/%.200s is not part of the "
	    "layout", k->r->path, e);
}

/* snapshots/: NAME.json for each snapshot, nothing else. */
static void metadata_entry(const char *e, void *arg)
{
	struct look *k = arg;
	char name[SNAPNAME_SIZE];
	size_t n = strlen(e);

	if (is_temporary(e)) {
		if (k->transient)
			add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: a temporary file left behind: "
			    HS_META_DIR "/snapshots/%.200s", k->r->path, e);
		return;
	}
	if (n != SNAPNAME_SIZE - 1 + 5 || strcmp(e + SNAPNAME_SIZE - 1, ".json")) {
		add(k->f, "warning", FIX_NONE, NULL, 0, "%s: " HS_META_DIR "/snapshots/%.200s is "
		    "not part of the layout", k->r->path, e);
		return;
	}
	memcpy(name, e, SNAPNAME_SIZE - 1);
	name[SNAPNAME_SIZE - 1] = '\0';
	if (snapname_parse(name, NULL) < 0) {
		add(k->f, "warning", FIX_NONE, NULL, 0, "%s: " HS_META_DIR "/snapshots/%.200s is "
		    "not part of the layout", k->r->path, e);
	} else if (!has_snapshot(k->l, name)) {
		/* a prune deletes the snapshot first, its metadata just after */
		char subject[64];
		snprintf(subject, sizeof(subject), "snapshots/%s", e);
		if (k->transient)
			add(k->f, "warning", FIX_UNLINK, subject, 0, "%s: metadata for %s, which is not a "
			    "snapshot here (" HS_META_DIR "/snapshots/%s)", k->r->path, name, e);
	}
}

static void pin_entry(const char *e, void *arg)
{
	struct look *k = arg;
	char subject[64];

	if (snapname_parse(e, NULL) < 0) {
		add(k->f, "warning", FIX_NONE, NULL, 0, "%s: " HS_META_DIR "/pins/%.200s is not "
		    "part of the layout", k->r->path, e);
	} else if (!has_snapshot(k->l, e)) {
		snprintf(subject, sizeof(subject), "pins/%s", e);
		add(k->f, "warning", FIX_UNLINK, subject, 0, "%s: a pin for %s, which is not a "
		    "snapshot here", k->r->path, e);
	}
}

static void count_entry(const char *e, void *arg)
{
	(void)e;
	((struct look *)arg)->count++;
}

/* Entries of .hindsight (and one level below) owned by another than the root's owner. */
struct owners {
	struct look *k;
	int dirfd;
	const char *sub;
	uid_t uid;
};

static void owner_entry(const char *e, void *arg)
{
	struct owners *o = arg;
	struct stat st;

	if (fstatat(o->dirfd, e, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid == o->uid)
		return;
	struct passwd *pw = getpwuid(st.st_uid);
	int givable = S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink == 1);
	add(o->k->f, "error", givable ? FIX_CHOWN : FIX_NONE, NULL, 0, "%s: " HS_META_DIR
	    "/%s%.200s belongs to %s, not to the account: its pushes may fail on it",
	    o->k->r->path, o->sub, e, pw ? pw->pw_name : "another user");
}

static void owners_below(struct look *k, uid_t uid)
{
	static const char *const subs[] = { "snapshots", "pins", "resume", "trash" };
	struct owners o = { k, k->r->metafd, "", uid };

	each_entry(k->r->metafd, "", owner_entry, &o);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char sub[32];
		int fd = openat(k->r->metafd, subs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				O_CLOEXEC);
		if (fd < 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/", subs[i]);
		o.dirfd = fd;
		o.sub = sub;
		each_entry(fd, "", owner_entry, &o);
		close(fd);
	}
}

/* The simple trust level: the account owns its root and all server state in it. */
static void owners_and_modes(struct look *k)
{
	const struct root *r = k->r;
	struct stat st, mst;

	if (fstat(r->fd, &st) < 0)
		return;
	if (r->metafd >= 0 && fstat(r->metafd, &mst) == 0 && (mst.st_mode & 077))
		add(k->f, "warning", FIX_CHMOD, HS_META_DIR, 0700, "%s: " HS_META_DIR "/ has mode "
		    "%04o, not 0700", r->path, (unsigned)(mst.st_mode & 07777));
	if (st.st_mode & 022)
		add(k->f, "error", FIX_CHMOD, ".", st.st_mode & 0700, "%s: group or others can "
		    "write the root (mode %04o)", r->path, (unsigned)(st.st_mode & 07777));
	else if (st.st_mode & 077)
		add(k->f, "warning", FIX_CHMOD, ".", st.st_mode & 0700, "%s: group or others can "
		    "read every backup (mode %04o; 0700 keeps them out)", r->path,
		    (unsigned)(st.st_mode & 07777));
	if (st.st_uid == 0) {
		add(k->f, "ok", FIX_NONE, NULL, 0, "%s: owned by root (a root kept by root, such "
		    "as a local repository): owners not checked", r->path);
		return;
	}
	struct passwd *pw = getpwuid(st.st_uid);
	add(k->f, "ok", FIX_NONE, NULL, 0, "%s: owned by the account %s", r->path,
	    pw ? pw->pw_name : "(no such user)");
	if (r->metafd >= 0)
		owners_below(k, st.st_uid);
}

static void current_and_snapshots(struct look *k)
{
	const struct root *r = k->r;
	const struct snaplist *l = k->l;
	char target[256];
	struct stat st;
	ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);

	add(k->f, "ok", FIX_NONE, NULL, 0, "%s: %zu snapshot%s", r->path, l->n,
	    l->n == 1 ? "" : "s");
	if (n >= 0)
		target[n] = '\0';
	if (n < 0 && fstatat(r->fd, HS_CURRENT, &st, AT_SYMLINK_NOFOLLOW) == 0)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: current is not a symlink", r->path);
	else if (l->n && n < 0)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: current is missing; the newest "
		    "snapshot is %s", r->path, l->names[l->n - 1]);
	else if (l->n && strcmp(target, l->names[l->n - 1]))
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: current names %.200s, not the newest "
		    "snapshot %s", r->path, target, l->names[l->n - 1]);
	else if (!l->n && n >= 0)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: current names %.200s but there are "
		    "no snapshots", r->path, target);
	if (k->transient && fstatat(r->fd, HS_CURRENT ".tmp", &st, AT_SYMLINK_NOFOLLOW) == 0)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: a stale current.tmp (a swap of "
		    "current that was cut short)", r->path);
	/* a sealed root always has one, empty between pushes */
	if (k->transient && root_left_inprogress(r))
		add(k->f, "ok", FIX_NONE, NULL, 0, "%s: an interrupted push left inprogress/ (the "
		    "next push resumes from it)", r->path);
}

static void server_state(struct look *k)
{
	const struct root *r = k->r;
	int mfd = r->metafd;
	struct stat st;
	struct snapmeta m;

	if (k->transient && fstatat(mfd, "pending.json", &st, AT_SYMLINK_NOFOLLOW) == 0)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, r->sealed ? "%s: a seal was cut short "
		    "(" HS_META_DIR "/pending.json; the next push finishes it)" : "%s: a publish "
		    "was interrupted (" HS_META_DIR "/pending.json)", r->path);
	/* a sealed root's basis and transfer log are the account's, in work/ */
	if (k->transient && !r->sealed && fstatat(mfd, "basis", &st, AT_SYMLINK_NOFOLLOW) == 0)
		add(k->f, "warning", FIX_UNLINK, "basis", 0, "%s: a stale " HS_META_DIR "/basis of "
		    "a push that died (it keeps its snapshots from being pruned)", r->path);
	if (k->transient && !r->sealed &&
	    fstatat(mfd, "transfer.log", &st, AT_SYMLINK_NOFOLLOW) == 0)
		add(k->f, "warning", FIX_UNLINK, "transfer.log", 0, "%s: a stale " HS_META_DIR
		    "/transfer.log of a push that died", r->path);
	k->count = 0;
	each_entry(mfd, "trash", count_entry, k);
	if (k->transient && k->count)
		add(k->f, "warning", FIX_REPAIR, NULL, 0, "%s: the trash holds %zu entr%s (a "
		    "deletion that was cut short)", r->path, k->count, k->count == 1 ? "y" : "ies");
	for (size_t i = 0; i < k->l->n; i++) {
		const char *name = k->l->names[i];
		char path[64];
		char *text;
		snprintf(path, sizeof(path), "snapshots/%s.json", name);
		int rc = read_file_at(mfd, path, 1 << 16, &text);
		if (rc == -ENOENT) {
			add(k->f, "warning", FIX_META, name, 0, "%s: snapshot %s has no metadata "
			    "(" HS_META_DIR "/snapshots/%s.json)", r->path, name, name);
			continue;
		}
		if (rc < 0) {
			add(k->f, "error", FIX_NONE, NULL, 0, "%s: cannot read " HS_META_DIR "/%s: %s",
			    r->path, path, strerror(-rc));
			continue;
		}
		if (meta_from_json(text, &m) < 0)
			add(k->f, "warning", FIX_META, name, 0, "%s: the metadata of %s does not "
			    "parse", r->path, name);
		else if (strcmp(m.name, name))
			add(k->f, "warning", FIX_NONE, NULL, 0, "%s: the metadata of %s names %s (a "
			    "snapshot renamed by hand?)", r->path, name, m.name);
		free(text);
	}
	each_entry(mfd, "snapshots", metadata_entry, k);
	each_entry(mfd, "pins", pin_entry, k);
	each_entry(mfd, "", meta_entry, k);
}

/* Everything check has to say about the root, into f. */
static void inspect(const struct root *r, int transient, struct findings *f)
{
	struct snaplist l;
	struct look k = { r, f, &l, 0, transient };

	if (root_snapshots(r->fd, &l) < 0) {
		add(f, "error", FIX_NONE, NULL, 0, "%s: cannot list snapshots", r->path);
		return;
	}
	current_and_snapshots(&k);
	if (r->metafd < 0)
		add(f, "ok", FIX_NONE, NULL, 0, "%s: no " HS_META_DIR "/ yet (made by the first "
		    "push)", r->path);
	else
		server_state(&k);
	each_entry(r->fd, "", root_entry, &k);
	/* a sealed root's owners and modes: check_sealed.c */
	if (!r->sealed)
		owners_and_modes(&k);
	snaplist_free(&l);
}

/* A lost NAME.json, rebuilt: from the log's "published" line if it has one. */
static int rebuild_meta(const struct root *r, const char *name)
{
	struct snapmeta m, found;
	char *log = NULL, file[96];
	int have = 0;

	memset(&m, 0, sizeof(m));
	if (read_file_at(r->metafd, "log", 64 << 20, &log) == 0) {
		for (char *line = log; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (meta_from_log_line(line, name, &found) == 0) {
				m = found;     /* the last line about it wins */
				have = 1;
			}
			line = nl ? nl + 1 : NULL;
		}
		free(log);
	}
	if (!have) {
		memcpy(m.name, name, SNAPNAME_SIZE);
		snapname_parse(name, &m.start);
		m.end = m.start;
	}
	m.reconstructed = 1;
	char *json = meta_to_json(&m);
	int sfd = openat(r->metafd, "snapshots", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = sfd < 0 ? -errno : 0;
	snprintf(file, sizeof(file), "%s.json", name);
	if (!rc)
		rc = write_file_atomic(sfd, file, json, strlen(json));
	if (!rc)
		root_give_at(r, sfd, file);
	if (sfd >= 0)
		close(sfd);
	free(json);
	return rc;
}

static void give_entry(const char *e, void *arg)
{
	const struct owners *o = arg;

	root_give_at(o->k->r, o->dirfd, e);
}

/* Hand .hindsight, its entries and theirs one level down to the root's owner. */
static void give_all(const struct root *r)
{
	static const char *const subs[] = { "snapshots", "pins", "resume", "trash" };
	struct look k = { r, NULL, NULL, 0, 0 };
	struct owners o = { &k, r->metafd, "", 0 };

	root_give_at(r, r->metafd, "");
	each_entry(r->metafd, "", give_entry, &o);
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		int fd = openat(r->metafd, subs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		o.dirfd = fd;
		each_entry(fd, "", give_entry, &o);
		close(fd);
	}
}

/* Fix what f found. Needs the push lock and the prune lock. */
static void apply(struct root *r, const struct findings *f, const char *config,
		  struct tally *t)
{
	int repair = 0, give = 0;
	struct snapmeta m;

	for (size_t i = 0; i < f->n; i++) {
		repair |= f->v[i].fix == FIX_REPAIR;
		give |= f->v[i].fix == FIX_CHOWN;
	}
	/* a sealed root's: always, since it also puts the sealed layout right */
	if (r->sealed) {
		check_sealed_repair(r, config, t);
	} else if (repair) {
		trash_empty(r, 0, NULL);
		root_repair(r);
	}
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];
		switch (x->fix) {
		case FIX_META:
			/* the publish repair finished may have written it */
			if (root_read_meta(r, x->subject, &m) < 0)
				rebuild_meta(r, x->subject);
			break;
		case FIX_UNLINK:
			unlinkat(r->metafd, x->subject, 0);
			break;
		case FIX_CHMOD:
			fchmod(!strcmp(x->subject, HS_META_DIR) ? r->metafd : r->fd, (mode_t)x->mode);
			break;
		default:
			break;
		}
	}
	/* what the repairs made, as root, goes to the account too */
	if (!r->sealed && (give || geteuid() == 0))
		give_all(r);
}

static int same(const struct finding *a, const struct finding *b)
{
	return !strcmp(a->level, b->level) && !strcmp(a->msg, b->msg);
}

/* Print the findings; with after, what is gone from it was repaired. */
static void report(const struct root *r, const struct findings *before,
		   const struct findings *after, struct tally *t)
{
	unsigned char *used = after ? xcalloc(after->n + 1, 1) : NULL;

	for (size_t i = 0; i < before->n; i++) {
		const struct finding *x = &before->v[i];
		size_t j = 0;
		while (after && j < after->n && (used[j] || !same(x, &after->v[j])))
			j++;
		if (!after || j < after->n) {
			if (after)
				used[j] = 1;
			say(t, x->level, "%s", x->msg);
		} else if (x->fix != FIX_NONE) {
			struct strbuf line = STRBUF_INIT;
			say(t, "repaired", "%s", x->msg);
			sb_addf(&line, "check --repair: repaired: %s", x->msg);
			root_log(r, line.buf);
			sb_release(&line);
		}
	}
	for (size_t j = 0; after && j < after->n; j++)
		if (!used[j])
			say(t, after->v[j].level, "%s", after->v[j].msg);
	free(used);
}

static int fixable(const struct findings *f)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->v[i].fix != FIX_NONE)
			return 1;
	return 0;
}

int check_root(const char *path, int repair, const char *config, struct tally *t)
{
	struct root r;
	struct findings before = { NULL, 0, 0 }, after = { NULL, 0, 0 }, pre = { NULL, 0, 0 };
	char when[32] = "an unknown time";
	long long pid;
	time_t since;
	int plfd = -1, transient = 1, code = HS_EXIT_OK;
	int rc = root_open(path, 0, &r);

	if (rc < 0) {
		say(t, "error", "%s: no backup root: %s", path, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	if (repair && r.metafd >= 0) {
		inspect(&r, 0, &pre);
		rc = root_lock(&r, time(NULL), &since);
		if (rc == 0) {
			plfd = prune_lock(&r, 0);
			rc = plfd < 0 ? plfd : 0;
			if (rc == -EWOULDBLOCK)
				say(t, "error", "%s: a prune is running there; retry later", path);
		} else if (rc == -EWOULDBLOCK) {
			if (since)
				format_iso_utc(since, when);
			say(t, "error", "%s: a push is running there (since %s); retry later", path,
			    when);
		}
		if (rc < 0) {
			if (rc != -EWOULDBLOCK)
				say(t, "error", "%s: cannot lock it to repair: %s", path, strerror(-rc));
			free(pre.v);
			root_close(&r);
			return rc == -EWOULDBLOCK ? HS_EXIT_LOCKED : HS_EXIT_ERROR;
		}
	} else if (push_holder(&r, &pid, &since)) {
		if (since)
			format_iso_utc(since, when);
		say(t, "ok", "%s: a push is running (since %s, pid %lld): what it changes is "
		    "not checked", path, when, pid);
		transient = 0;
	} else if (r.metafd >= 0 && lock_held_at(r.metafd, "prune.lock")) {
		say(t, "ok", "%s: a prune is running: what it changes is not checked", path);
		transient = 0;
	}
	inspect(&r, transient, &before);
	/* taking the locks already handed the lock files back: say so */
	for (size_t i = 0; i < pre.n; i++) {
		size_t j = 0;
		while (j < before.n && !same(&pre.v[i], &before.v[j]))
			j++;
		if (pre.v[i].fix == FIX_CHOWN && j == before.n)
			add(&before, pre.v[i].level, pre.v[i].fix, NULL, 0, "%s", pre.v[i].msg);
	}
	if (repair && r.metafd >= 0 && (r.sealed || fixable(&before))) {
		apply(&r, &before, config, t);
		inspect(&r, 1, &after);
		report(&r, &before, &after, t);
	} else {
		report(&r, &before, NULL, t);
	}
	free(pre.v);
	free(before.v);
	free(after.v);
	if (plfd >= 0)
		close(plfd);
	root_close(&r);
	return code;
}
