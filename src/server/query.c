/*
 * Read-only queries: `hindsight VERB ...` through the forced command.
 * Answers are JSON on stdout with a protocol version. Queries take no lock
 * and write nothing, so they never hold up a push; they only ever see
 * completed snapshots, because snapshots appear by rename.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUERY_PROTOCOL 1

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

static int query_list(const struct root *r)
{
	struct snaplist l;
	json_t *arr, *top;
	char target[64];
	int rc = root_snapshots(r->fd, &l);

	if (rc < 0) {
		fprintf(stderr, "hindsight-server: cannot read %s: %s\n", r->path, strerror(-rc));
		return HS_EXIT_ERROR;
	}
	arr = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(arr, snapshot_json(r, l.names[i]));
	ssize_t n = readlinkat(r->fd, HS_CURRENT, target, sizeof(target) - 1);
	if (n >= 0)
		target[n] = '\0';
	top = json_pack("{s:i, s:s, s:o, s:o}", "protocol", QUERY_PROTOCOL,
			"verb", "list", "current",
			n >= 0 && snapname_parse(target, NULL) == 0 ? json_string(target) : json_null(),
			"snapshots", arr);
	snaplist_free(&l);
	rc = json_dumpf(top, stdout, JSON_INDENT(1)) == 0 && fputc('\n', stdout) != EOF ? 0 : -1;
	json_decref(top);
	if (fflush(stdout) != 0 || rc < 0)
		return HS_EXIT_ERROR;
	return HS_EXIT_OK;
}

int run_query(char *const words[], size_t n, const struct serve_opts *o)
{
	struct root r;
	int rc, code;

	(void)n;
	rc = root_open(o->root, 0, &r);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: no backup root at %s: %s\n",
			o->root, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	if (!strcmp(words[0], "list"))
		code = query_list(&r);
	else
		code = HS_EXIT_USAGE;   /* the policy admits only known verbs */
	root_close(&r);
	return code;
}
