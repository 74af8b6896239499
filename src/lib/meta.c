#include "meta.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const char *meta_status(const struct snapmeta *m)
{
	return m->rsync_exit == 23 ? "with errors" : "complete";
}

char *meta_to_json(const struct snapmeta *m)
{
	char start[32], end[32];

	format_iso_utc(m->start, start);
	format_iso_utc(m->end, end);
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:I, s:I, s:i, s:s, s:I, s:I, s:i}",
			      "version", 1,
			      "name", m->name,
			      "start", start,
			      "end", end,
			      "start_epoch", (json_int_t)m->start,
			      "end_epoch", (json_int_t)m->end,
			      "rsync_exit", m->rsync_exit,
			      "status", meta_status(m),
			      "files_transferred", (json_int_t)m->files,
			      "bytes_transferred", (json_int_t)m->bytes,
			      "resumed", m->resumed);
	if (!o)
		abort();
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		abort();
	/* jansson allocates with malloc; hand the caller a string with a newline */
	size_t n = strlen(s);
	char *out = xmalloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	free(s);
	return out;
}

int meta_from_json(const char *text, struct snapmeta *m)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);
	const char *name = NULL;
	json_int_t start = 0, end = 0, files = 0, bytes = 0;
	int rexit = 0, resumed = 0, rc = -EINVAL;

	if (!o)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if (json_unpack(o, "{s:s, s:I, s:I, s:i, s?I, s?I, s?i}",
			"name", &name, "start_epoch", &start, "end_epoch", &end,
			"rsync_exit", &rexit, "files_transferred", &files,
			"bytes_transferred", &bytes, "resumed", &resumed) == 0 &&
	    snapname_parse(name, NULL) == 0) {
		memcpy(m->name, name, SNAPNAME_SIZE);
		m->start = (time_t)start;
		m->end = (time_t)end;
		m->rsync_exit = rexit;
		m->files = files;
		m->bytes = bytes;
		m->resumed = resumed;
		rc = 0;
	}
	json_decref(o);
	return rc;
}
