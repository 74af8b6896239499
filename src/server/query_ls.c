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

/* The entries of the directory dfd (which this takes), sorted by name. */
static int list_dir(int dfd, json_t *arr)
{
	struct argv names = ARGV_INIT;
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
		argv_push(&names, de->d_name);
	}
	if (errno) {
		int e = -errno;
		closedir(d);
		argv_clear(&names);
		return e;
	}
	if (names.n)
		qsort(names.v, names.n, sizeof(names.v[0]), cmp_str);
	for (size_t i = 0; i < names.n; i++) {
		struct qentry e;
		/* an entry gone meanwhile cannot be: snapshots never change */
		if (qstat_at(dirfd(d), names.v[i], &e) == 0)
			json_array_append_new(arr, entry_json(dirfd(d), names.v[i], &e));
	}
	closedir(d);
	argv_clear(&names);
	return 0;
}

int query_ls(const struct root *r, const char *sel, const char *rel)
{
	char name[SNAPNAME_SIZE];
	int code, sfd = open_snapshot(r, sel, name, &code), pfd = -1, rc;
	char *parent = xstrdup(rel), *slash = strrchr(parent, '/');
	const char *last = slash ? rel + (slash - parent) + 1 : rel;
	struct qentry self;
	json_t *arr = json_array(), *top;

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
		int dfd = *rel ? openat(pfd, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			       : dup(pfd);
		rc = dfd < 0 ? -errno : list_dir(dfd, arr);
		if (rc < 0) {
			code = path_walk_failed(sfd, name, rel, rc);
			goto out;
		}
	} else {
		json_array_append_new(arr, entry_json(pfd, last, &self));
	}
	top = json_pack("{s:i, s:s, s:s}", "protocol", QUERY_PROTOCOL, "verb", "ls",
			"snapshot", name);
	json_set_name(top, "path", rel, strlen(rel));
	json_object_set_new(top, "type", json_string(ftype_name(self.ss.mode) ?
						    ftype_name(self.ss.mode) : "unknown"));
	json_object_set(top, "entries", arr);
	code = emit_json(top);
out:
	json_decref(arr);
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	free(parent);
	return code;
}
