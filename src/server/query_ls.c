/*
 * `hindsight ls SNAPSHOT PATH`: one directory of a snapshot with the
 * attributes each entry was stored with, or one entry if PATH is not a
 * directory. Entries are sorted by name (bytes); a symlink is shown, never
 * followed, and gives its target.
 */
#include "query.h"
#include "../lib/exitcodes.h"
#include "../lib/snappath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *entry_json(int dirfd, const char *name, const struct qentry *e)
{
	json_t *o = json_object();
	struct strbuf target = STRBUF_INIT;

	json_set_name(o, "name", name, strlen(name));
	qentry_fields(o, e);
	if (S_ISLNK(e->ss.mode) && qlink_target(dirfd, name, e, &target) == 0)
		json_set_name(o, "target", target.buf, target.len);
	sb_release(&target);
	return o;
}

/*
 * The names in the directory dfd (which this takes), sorted (bytes), into
 * names. Only the names are held: their entries are printed one at a time
 * (print_entries), so a directory of 200k files costs serve a few MiB, not
 * 200k JSON objects. Returns 0 or a negative errno value.
 */
static int read_names(int dfd, struct argv *names)
{
	struct dirent *de;
	DIR *d = fdopendir(dfd);

	if (!d) {
		int e = -errno;
		close(dfd);
		return e;
	}
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		argv_push(names, de->d_name);
	}
	int e = -errno;
	closedir(d);
	if (e)
		return e;
	if (names->n)
		qsort(names->v, names->n, sizeof(names->v[0]), cmp_str);
	return 0;
}

/* Print one entry of the "entries" array, the first without a comma. */
static int print_entry(json_t *o, size_t *n)
{
	int rc = o && fputs(*n ? ",\n  " : "\n  ", stdout) != EOF &&
		 json_dumpf(o, stdout, JSON_COMPACT) == 0 ? 0 : -1;
	json_decref(o);
	(*n)++;
	return rc;
}

/*
 * Print top (which this takes) with an "entries" array after its other
 * fields: the names in dirfd, or self alone if names is NULL.
 */
static int print_answer(json_t *top, int dirfd, const struct argv *names, const char *last,
			const struct qentry *self)
{
	char *head = top ? json_dumps(top, JSON_INDENT(1)) : NULL;
	size_t len = head ? strlen(head) : 0, n = 0;
	int rc = 0;

	json_decref(top);
	if (len < 2 || strcmp(head + len - 2, "\n}")) {
		free(head);
		qerr("cannot build the answer");
		return HS_EXIT_ERROR;
	}
	if (fwrite(head, 1, len - 2, stdout) != len - 2 || fputs(",\n \"entries\": [", stdout) == EOF)
		rc = -1;
	free(head);
	if (!names) {
		rc = rc < 0 ? rc : print_entry(entry_json(dirfd, last, self), &n);
	} else {
		for (size_t i = 0; i < names->n && rc == 0; i++) {
			struct qentry e;
			/* an entry gone meanwhile cannot be: snapshots never change */
			if (qstat_at(dirfd, names->v[i], &e) == 0)
				rc = print_entry(entry_json(dirfd, names->v[i], &e), &n);
		}
	}
	if (rc == 0 && fputs(n ? "\n ]\n}\n" : "]\n}\n", stdout) == EOF)
		rc = -1;
	if (fflush(stdout) != 0 || rc < 0)
		return HS_EXIT_ERROR;
	return HS_EXIT_OK;
}

int query_ls(const struct root *r, const char *sel, const char *rel)
{
	char name[SNAPNAME_SIZE];
	int code, sfd = open_snapshot(r, sel, name, &code), pfd = -1, dfd = -1, rc;
	char *parent = xstrdup(rel), *slash = strrchr(parent, '/');
	const char *last = slash ? rel + (slash - parent) + 1 : rel;
	struct qentry self;
	struct argv names = ARGV_INIT;
	json_t *top;

	if (sfd < 0)
		goto out;
	/* rel is normalised: "" (the top), "name" or "dir/.../name" */
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	if (!*rel) {
		pfd = openat(sfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = pfd < 0 ? -errno : fstat(pfd, &self.st) < 0 ? -errno : 0;
		if (rc == 0)
			qstored_fd(pfd, &self.st, &self);
	} else {
		pfd = snap_opendir_beneath(sfd, parent);
		rc = pfd < 0 ? pfd : qstat_at(pfd, last, &self);
	}
	if (rc < 0) {
		code = path_walk_failed(sfd, name, rel, rc);
		goto out;
	}
	if (S_ISDIR(self.st.st_mode)) {
		/* one fd for reading the names, one for the entries' stats */
		dfd = *rel ? openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			   : dup(pfd);
		int rfd = dfd < 0 ? -1 : dup(dfd);
		rc = dfd < 0 || rfd < 0 ? -errno : read_names(rfd, &names);
		if (rc < 0) {
			code = path_walk_failed(sfd, name, rel, rc);
			goto out;
		}
	}
	top = json_pack("{s:i, s:s, s:s}", "protocol", QUERY_PROTOCOL, "verb", "ls",
			"snapshot", name);
	if (top) {
		json_set_name(top, "path", rel, strlen(rel));
		json_object_set_new(top, "type", json_string(ftype_name(self.ss.mode) ?
							    ftype_name(self.ss.mode) : "unknown"));
	}
	code = dfd >= 0 ? print_answer(top, dfd, &names, NULL, NULL)
			: print_answer(top, pfd, NULL, last, &self);
out:
	argv_clear(&names);
	if (dfd >= 0)
		close(dfd);
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	free(parent);
	return code;
}
