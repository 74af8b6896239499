/*
 * Read-only queries: `hindsight VERB ...` through the forced command.
 * Answers are JSON on stdout with a protocol version. Queries take no lock
 * (not even a shared one) and write nothing, so they never hold up a push;
 * they only ever see completed snapshots, because snapshots appear by
 * rename, and they never name inprogress/ or .hindsight/ (the policy admits
 * only snapshot names and "current", and paths are walked beneath those).
 *
 * list and status are here; versions, ls and diff have a file each.
 */
#include "query.h"
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/lastpush.h"
#include "../lib/prune.h"
#include "../lib/root.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

int emit_json(json_t *top)
{
	int rc;

	if (!top) {
		qerr("cannot build the answer");
		return HS_EXIT_ERROR;
	}
	rc = json_dumpf(top, stdout, JSON_INDENT(1)) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
	json_decref(top);
	if (fflush(stdout) != 0 || rc < 0)
		return HS_EXIT_ERROR;
	return HS_EXIT_OK;
}

static json_t *snapshot_json(const struct root *r, const char *name)
{
	struct snapmeta m;
	time_t t = 0;
	json_t *o;

	snapname_parse(name, &t);
	if (root_read_meta(r, name, &m) == 0) {
		o = json_pack("{s:s, s:I, s:I, s:s, s:i, s:I, s:I}",
			      "name", name, "start_epoch", (json_int_t)m.start,
			      "end_epoch", (json_int_t)m.end, "status", meta_status(&m),
			      "rsync_exit", m.rsync_exit,
			      "files_transferred", (json_int_t)m.files,
			      "bytes_transferred", (json_int_t)m.bytes);
	} else {
		/* metadata is written just after the rename: a moment's gap */
		o = json_pack("{s:s, s:I, s:n, s:s}", "name", name,
			      "start_epoch", (json_int_t)t, "end_epoch", "status", "complete");
	}
	return o;
}

/*
 * Every snapshot, with what retention will do to it: "pinned", and
 * "expires" (when the policy, as configured now, would delete it if no
 * newer snapshot came; null: kept). A broken server.conf leaves both
 * unknown rather than failing the listing.
 */
static int query_list(const struct root *r, const struct serve_opts *o)
{
	struct snaplist l;
	struct srvconf c;
	struct acct_conf a;
	struct prune_plan plan = { NULL, 0 };
	struct strbuf err = STRBUF_INIT, keep = STRBUF_INIT;
	json_t *arr, *top;
	char target[64];
	int rc = root_snapshots(r->fd, &l);

	if (rc < 0) {
		fprintf(stderr, "hindsight-server: cannot read %s: %s\n", r->path, strerror(-rc));
		return HS_EXIT_ERROR;
	}
	int have_policy = srvconf_load(o->config, &c, &err) == 0;
	if (have_policy) {
		char account[64];
		srvconf_account_of(r->fd, r->path, account, sizeof(account));
		srvconf_account(&c, account, &a);
		ret_format(&a.keep, &keep);
		have_policy = prune_plan(r, &a.keep, time(NULL), &plan) == 0;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_t *s = snapshot_json(r, l.names[i]);
		const struct prune_item *it = NULL;
		for (size_t j = 0; j < plan.n && !it; j++)
			if (!strcmp(plan.items[j].name, l.names[i]))
				it = &plan.items[j];
		json_object_set_new(s, "pinned", json_boolean(is_pinned(r, l.names[i])));
		json_object_set_new(s, "expires", it && it->expiry ?
				    json_integer((json_int_t)it->expiry) : json_null());
		json_array_append_new(arr, s);
	}
	ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	top = json_pack("{s:i, s:s, s:o, s:o, s:o}", "protocol", QUERY_PROTOCOL,
			"verb", "list", "current",
			n >= 0 && snapname_parse(target, NULL) == 0 ? json_string(target) : json_null(),
			"keep", have_policy ? json_string(keep.buf) : json_null(),
			"snapshots", arr);
	prune_plan_free(&plan);
	srvconf_free(&c);
	sb_release(&err);
	sb_release(&keep);
	snaplist_free(&l);
	return emit_json(top);
}

/* The push holding the lock, if any (lastpush.h): a query never waits for one. */
static json_t *push_in_progress(const struct root *r)
{
	long long pid;
	time_t since;

	if (!push_holder(r, &pid, &since))
		return json_null();
	return json_pack("{s:I, s:I}", "since", (json_int_t)since, "pid", (json_int_t)pid);
}

int query_status(const struct root *r)
{
	struct snaplist l;
	struct statvfs vfs;
	char target[64];
	int rc = root_snapshots(r->fd, &l);
	json_t *top;

	if (rc < 0) {
		qerr("cannot read %s: %s", r->path, strerror(-rc));
		return HS_EXIT_ERROR;
	}
	if (fstatvfs(r->fd, &vfs) < 0) {
		qerr("cannot read the free space of %s: %s", r->path, strerror(errno));
		snaplist_free(&l);
		return HS_EXIT_ERROR;
	}
	ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	top = json_pack("{s:i, s:s}", "protocol", QUERY_PROTOCOL, "verb", "status");
	json_set_name(top, "root", r->path, strlen(r->path));
	json_object_set_new(top, "snapshots", json_integer((json_int_t)l.n));
	json_object_set_new(top, "newest", l.n ? json_string(l.names[l.n - 1]) : json_null());
	json_object_set_new(top, "current", n >= 0 && snapname_parse(target, NULL) == 0 ?
			    json_string(target) : json_null());
	json_object_set_new(top, "in_progress", push_in_progress(r));
	json_object_set_new(top, "free_bytes",
			    json_integer((json_int_t)((unsigned long long)vfs.f_bavail * vfs.f_frsize)));
	json_object_set_new(top, "total_bytes",
			    json_integer((json_int_t)((unsigned long long)vfs.f_blocks * vfs.f_frsize)));
	/* summing unshared blocks is du's job (a later admin verb), not a query's */
	json_object_set_new(top, "used_by_snapshots", json_null());
	snaplist_free(&l);
	return emit_json(top);
}

int run_query(char *const words[], size_t n, const struct serve_opts *o)
{
	struct root r;
	int rc, code;

	rc = root_open(o->root, 0, &r);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: no backup root at %s: %s\n",
			o->root, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	/* the policy admitted the verb with exactly these arguments */
	if (!strcmp(words[0], "list") && n == 1)
		code = query_list(&r, o);
	else if (!strcmp(words[0], "status") && n == 1)
		code = query_status(&r);
	else if (!strcmp(words[0], "versions") && n == 2)
		code = query_versions(&r, words[1]);
	else if (!strcmp(words[0], "ls") && n == 3)
		code = query_ls(&r, words[1], words[2]);
	else if (!strcmp(words[0], "diff") && (n == 3 || n == 4))
		code = query_diff(&r, words[1], words[2], n == 4 ? words[3] : "");
	else
		code = HS_EXIT_USAGE;
	root_close(&r);
	return code;
}
