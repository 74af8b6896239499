/*
 * Choosing a snapshot for the user: the time grammar (timespec.h) applied
 * to the repo's list, and local paths mapped to paths inside snapshots.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/strbuf.h"
#include "../lib/timespec.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int fetch_snapshots(const struct repo *r, struct snaplist *out)
{
	char *words[] = { "list" };
	json_t *top = NULL, *snaps, *s;
	size_t i;
	int code = ask(r, words, 1, 0, &top);

	out->names = NULL;
	out->n = 0;
	if (code != HS_EXIT_OK)
		return code;
	if (!json_is_array(snaps = json_object_get(top, "snapshots"))) {
		fputs("hindsight: the server's answer is not a protocol 1 list\n", stderr);
		json_decref(top);
		return HS_EXIT_ERROR;
	}
	out->names = xcalloc(json_array_size(snaps) + 1, SNAPNAME_SIZE);
	json_array_foreach(snaps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		if (name && snapname_parse(name, NULL) == 0)
			memcpy(out->names[out->n++], name, SNAPNAME_SIZE);
	}
	json_decref(top);
	return HS_EXIT_OK;
}

int pick_snapshot(const struct repo *r, const char *spec, char name[SNAPNAME_SIZE])
{
	struct snaplist l;
	char why[256];
	size_t idx;
	int code = fetch_snapshots(r, &l);

	if (code != HS_EXIT_OK)
		return code;
	if (!spec)
		spec = "latest";
	int rc = resolve_snapshot(spec, time(NULL), l.names, l.n, &idx, why, sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "hindsight: %s\n", why);
		snaplist_free(&l);
		return rc == -EINVAL ? HS_EXIT_USAGE : HS_EXIT_NOTFOUND;
	}
	memcpy(name, l.names[idx], SNAPNAME_SIZE);
	snaplist_free(&l);

	time_t t;
	struct tm tm;
	char local[32] = "?";
	if (snapname_parse(name, &t) == 0 && localtime_r(&t, &tm))
		strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S %Z", &tm);
	fprintf(stderr, "hindsight: snapshot %s (%s)\n", name, local);
	return HS_EXIT_OK;
}

char *snapshot_path(const char *local)
{
	struct strbuf sb = STRBUF_INIT;

	if (local[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof(cwd)))
			return NULL;
		sb_addf(&sb, "%s/", cwd);
	}
	sb_addstr(&sb, local);
	/* drop empty and "." components; ".." goes up, as the shell would */
	struct strbuf out = STRBUF_INIT;
	const char *p = sb.buf;
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 2 && !strncmp(p, "..", 2)) {
			char *slash = strrchr(out.buf, '/');
			size_t keep = slash ? (size_t)(slash - out.buf) : 0;
			out.len = keep;
			if (out.alloc)
				out.buf[keep] = '\0';
		} else if (!(len == 1 && p[0] == '.')) {
			if (out.len)
				sb_addch(&out, '/');
			sb_add(&out, p, len);
		}
		p += len;
	}
	sb_release(&sb);
	return sb_detach(&out);
}
