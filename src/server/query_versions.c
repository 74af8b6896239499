/*
 * `hindsight versions PATH`: the distinct versions of one path across all
 * snapshots, oldest first. An unchanged file is one inode shared by every
 * snapshot that holds it, so a version is a run of consecutive snapshots
 * with the same (dev, inode): one fstatat per snapshot finds them, and the
 * xattr is read once per version (one inode has one set of attributes).
 */
#include "query.h"
#include "../lib/exitcodes.h"
#include "../lib/snappath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MISSING_LISTED 50   /* more snapshots without the path are only counted */

/*
 * lstat rel in the snapshot name: through its parent, opened beneath the
 * snapshot without following any symlink. *pfd is the parent (O_PATH) for
 * the xattr, or -1. Returns 0 or a negative errno value.
 */
static int stat_in(int rootfd, const char *name, const char *parent, const char *last,
		   struct stat *st, int *pfd)
{
	int sfd = openat(rootfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc = 0;

	*pfd = -1;
	if (sfd < 0)
		return -errno;
	if (!*last) {
		/* the top of the snapshot itself */
		if (fstat(sfd, st) < 0)
			rc = -errno;
		*pfd = rc == 0 ? sfd : -1;
		if (rc < 0)
			close(sfd);
		return rc;
	}
	int fd = *parent ? snap_open_beneath(sfd, parent) : sfd;
	if (fd < 0) {
		close(sfd);
		return fd;
	}
	if (fstatat(fd, last, st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = -errno;
	if (fd != sfd)
		close(sfd);
	if (rc < 0)
		close(fd);
	else
		*pfd = fd;
	return rc;
}

int query_versions(const struct root *r, const char *rel)
{
	struct version_list vl = VERSION_LIST_INIT;
	struct snaplist l;
	struct qentry *attrs = NULL;
	size_t nattrs = 0, nmissing = 0;
	json_t *missing = json_array(), *arr, *top;
	char *parent = xstrdup(rel);
	char *slash = strrchr(parent, '/');
	const char *last = slash ? rel + (slash - parent) + 1 : rel;
	int rc = root_snapshots(r->fd, &l), code = HS_EXIT_OK, last_err = -ENOENT;
	struct strbuf shown = STRBUF_INIT;

	show_path(&shown, rel);
	/* rel is normalised: "" (the top), "name" or "dir/.../name" */
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	if (rc < 0) {
		qerr("cannot read %s: %s", r->path, strerror(-rc));
		code = HS_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;
		int pfd;
		memset(&st, 0, sizeof(st));
		rc = stat_in(r->fd, l.names[i], parent, last, &st, &pfd);
		if (rc < 0 && rc != -ENOENT && rc != -ENOTDIR && rc != -ELOOP && rc != -EXDEV) {
			qerr("cannot read %s in snapshot %s: %s", shown.buf, l.names[i],
			     strerror(-rc));
			code = HS_EXIT_ERROR;
			goto out;
		}
		if (rc < 0) {
			last_err = rc;
			if (nmissing++ < MISSING_LISTED)
				json_array_append_new(missing, json_string(l.names[i]));
		}
		if (versions_feed(&vl, i, rc == 0, (uint64_t)(rc == 0 ? st.st_dev : 0),
				  (uint64_t)(rc == 0 ? st.st_ino : 0))) {
			attrs = xrealloc(attrs, xmul(vl.n, sizeof(*attrs)));
			attrs[nattrs].st = st;
			qstored_at(pfd, *last ? last : ".", &st, &attrs[nattrs]);
			nattrs++;
		}
		if (pfd >= 0)
			close(pfd);
	}
	if (vl.n == 0) {
		if (l.n == 0) {
			qerr("no snapshots yet");
			code = HS_EXIT_NOTFOUND;
		} else {
			/* a symlink on the way is refused, as ls and diff refuse it */
			int sfd = openat(r->fd, l.names[l.n - 1], O_PATH | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
			struct strbuf link = STRBUF_INIT;
			if (sfd >= 0 && last_err != -ENOENT &&
			    symlink_in_the_way(sfd, rel, &link)) {
				code = path_walk_failed(sfd, l.names[l.n - 1], rel, last_err);
			} else {
				qerr("no %s in any snapshot", shown.buf);
				code = HS_EXIT_NOTFOUND;
			}
			sb_release(&link);
			if (sfd >= 0)
				close(sfd);
		}
		goto out;
	}
	arr = json_array();
	for (size_t v = 0; v < vl.n; v++) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:I}", "inode", (json_int_t)vl.v[v].ino,
				      "first", l.names[vl.v[v].first], "last", l.names[vl.v[v].last],
				      "count", (json_int_t)(vl.v[v].last - vl.v[v].first + 1));
		qentry_fields(o, &attrs[v]);   /* "inode" keeps its place, first */
		json_array_append_new(arr, o);
	}
	top = json_pack("{s:i, s:s}", "protocol", QUERY_PROTOCOL, "verb", "versions");
	json_set_name(top, "path", rel, strlen(rel));
	json_object_set_new(top, "versions", arr);
	if (nmissing < MISSING_LISTED) {
		json_object_set(top, "missing", missing);
	} else {
		json_object_set_new(top, "missing_count", json_integer((json_int_t)nmissing));
	}
	code = emit_json(top);
out:
	json_decref(missing);
	versions_free(&vl);
	snaplist_free(&l);
	free(attrs);
	free(parent);
	sb_release(&shown);
	return code;
}
