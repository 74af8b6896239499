#include "meta.h"
#include "util.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
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
	if (m->reconstructed)
		json_object_set_new(o, "reconstructed", json_true());
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

int meta_from_log_line(const char *line, const char *name, struct snapmeta *m)
{
	char when[32], word[16], got[SNAPNAME_SIZE + 1];
	struct tm tm;
	time_t start;
	const char *rest, *end;
	int n = 0;

	if (snapname_parse(name, &start) < 0 ||
	    sscanf(line, "%31s %15s %20s%n", when, word, got, &n) != 3 ||
	    strcmp(word, "published") || strcmp(got, name))
		return -ENOENT;
	memset(&tm, 0, sizeof(tm));
	end = strptime(when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -ENOENT;
	/* status="..." may hold a space; the numbers follow it */
	rest = strstr(line + n, " rsync_exit=");
	memset(m, 0, sizeof(*m));
	if (!rest || sscanf(rest, " rsync_exit=%d files=%lld bytes=%lld resumed=%d",
			    &m->rsync_exit, &m->files, &m->bytes, &m->resumed) != 4)
		return -ENOENT;
	memcpy(m->name, name, SNAPNAME_SIZE);
	m->start = start;
	m->end = timegm(&tm);
	return 0;
}

int meta_from_json(const char *text, struct snapmeta *m)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err);
	const char *name = NULL;
	json_int_t start = 0, end = 0, files = 0, bytes = 0;
	int rexit = 0, resumed = 0, recon = 0, rc = -EINVAL;

	if (!o)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	if (json_unpack(o, "{s:s, s:I, s:I, s:i, s?I, s?I, s?i, s?b}",
			"name", &name, "start_epoch", &start, "end_epoch", &end,
			"rsync_exit", &rexit, "files_transferred", &files,
			"bytes_transferred", &bytes, "resumed", &resumed,
			"reconstructed", &recon) == 0 &&
	    snapname_parse(name, NULL) == 0) {
		memcpy(m->name, name, SNAPNAME_SIZE);
		m->start = (time_t)start;
		m->end = (time_t)end;
		m->rsync_exit = rexit;
		m->files = files;
		m->bytes = bytes;
		m->resumed = resumed;
		m->reconstructed = recon;
		rc = 0;
	}
	json_decref(o);
	return rc;
}
