/*
 * Reading the server's answers to the history queries (versions, ls,
 * diff, status) and showing them: the protocol check, names as bytes
 * (names.h), sizes and times for people.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/names.h"
#include "../lib/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int open_repo(const char *spec, const char *ssh, struct repo *r)
{
	struct stat st;
	int code = repo_parse(spec, ssh, r);

	if (code != 0)
		return code;
	if (r->local && (stat(r->dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "hindsight: no backup root at %s\n", r->dir);
		repo_free(r);
		return HS_EXIT_NOTFOUND;
	}
	return 0;
}

json_t *answer_parse(const char *text, const char *verb)
{
	json_error_t err;
	json_t *top = json_loads(text, 0, &err);

	if (!top || json_integer_value(json_object_get(top, "protocol")) != 1 ||
	    !json_is_string(json_object_get(top, "verb")) ||
	    strcmp(json_string_value(json_object_get(top, "verb")), verb)) {
		json_decref(top);
		return NULL;
	}
	return top;
}

int ask(const struct repo *r, char *const words[], size_t n, int json, json_t **answer)
{
	char *text = NULL;
	int code = run_query(r, words, n, (size_t)1 << 30, &text);

	*answer = NULL;
	if (code != HS_EXIT_OK)
		return code;
	if (json) {
		code = fputs(text, stdout) == EOF ? HS_EXIT_ERROR : HS_EXIT_OK;
		free(text);
		return code;
	}
	*answer = answer_parse(text, words[0]);
	free(text);
	if (!*answer) {
		fprintf(stderr, "hindsight: the server's answer is not a protocol 1 %s\n", words[0]);
		return HS_EXIT_ERROR;
	}
	return HS_EXIT_OK;
}

int answer_name(json_t *obj, const char *key, struct strbuf *out)
{
	json_t *v = json_object_get(obj, key);
	struct strbuf k = STRBUF_INIT;
	int escaped, rc = 0;

	if (!json_is_string(v))
		return -1;
	sb_addf(&k, "%s_escaped", key);
	escaped = json_is_true(json_object_get(obj, k.buf));
	sb_release(&k);
	if (escaped)
		rc = name_unescape(out, json_string_value(v), json_string_length(v));
	else
		sb_add(out, json_string_value(v), json_string_length(v));
	return rc;
}

void show_name(struct strbuf *sb, const char *raw, size_t len)
{
	name_display(sb, raw, len);
}

void format_size(long long bytes, char *out, size_t n)
{
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, n, "%lld", bytes < 0 ? 0 : bytes);
		return;
	}
	while (v >= 1024 && u + 1 < sizeof(units) - 1) {
		v /= 1024;
		u++;
	}
	snprintf(out, n, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
}

void format_local(long long t, const char *fmt, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!localtime_r(&tt, &tm) || strftime(out, n, fmt, &tm) == 0)
		snprintf(out, n, "?");
}

void format_age(long long secs, char *out, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, n, "%llds", secs);
	else if (secs < 3600)
		snprintf(out, n, "%lldm", secs / 60);
	else if (secs < 86400)
		snprintf(out, n, "%lldh %lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(out, n, "%lldd %lldh", secs / 86400, secs % 86400 / 3600);
}
