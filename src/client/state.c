/*
 * The client's state between runs (state.h): one JSON file per
 * repository, written atomically, and the two decisions made from it and
 * from the machine: is a backup due, and are we on mains power.
 */
#include "state.h"
#include "../lib/fsops.h"
#include "../lib/strbuf.h"
#include "../lib/util.h"
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int backup_due(const struct backup_state *s, long long interval, time_t now, time_t *next)
{
	if (s->success_start <= 0 || interval <= 0 || s->success_start > (long long)now) {
		*next = now;
		return 1;
	}
	*next = (time_t)(s->success_start + interval);
	return (long long)now >= s->success_start + interval;
}

char *state_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME");
	struct strbuf sb = STRBUF_INIT;

	if (x && x[0] == '/')
		sb_addf(&sb, "%s/hindsight", x);
	else if (geteuid() == 0)
		sb_addstr(&sb, "/var/lib/hindsight");
	else
		sb_addf(&sb, "%s/.local/state/hindsight", home_dir());
	return sb_detach(&sb);
}

char *state_file(const char *repo)
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a: a short, stable file name */
	struct strbuf sb = STRBUF_INIT;
	char *dir = state_dir();

	for (const unsigned char *p = (const unsigned char *)repo; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	sb_addf(&sb, "%s/backup-%016llx.json", dir, (unsigned long long)h);
	free(dir);
	return sb_detach(&sb);
}

static long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

int state_read(const char *file, struct backup_state *s)
{
	char *text = NULL;
	json_t *o;
	int rc = read_file_at(AT_FDCWD, file, 64 * 1024, &text);

	memset(s, 0, sizeof(*s));
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	o = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	s->attempt_start = num(o, "attempt_start");
	s->attempt_end = num(o, "attempt_end");
	s->attempt_exit = (int)num(o, "attempt_exit");
	s->success_start = num(o, "success_start");
	s->success_end = num(o, "success_end");
	s->success_exit = (int)num(o, "success_exit");
	const char *m = json_string_value(json_object_get(o, "attempt_message"));
	if (m)
		snprintf(s->attempt_message, sizeof(s->attempt_message), "%s", m);
	json_decref(o);
	return 0;
}

int state_write(const char *file, const char *repo, const struct backup_state *s)
{
	const char *slash = strrchr(file, '/');
	char *dir, *text;
	int dfd, rc;
	json_t *o = json_pack("{s:s, s:I, s:I, s:i, s:s, s:I, s:I, s:i}",
			      "repo", repo,
			      "attempt_start", (json_int_t)s->attempt_start,
			      "attempt_end", (json_int_t)s->attempt_end,
			      "attempt_exit", s->attempt_exit,
			      "attempt_message", s->attempt_message,
			      "success_start", (json_int_t)s->success_start,
			      "success_end", (json_int_t)s->success_end,
			      "success_exit", s->success_exit);

	if (!o || !slash)
		return -EINVAL;
	text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	dir = xmalloc((size_t)(slash - file) + 1);
	memcpy(dir, file, (size_t)(slash - file));
	dir[slash - file] = '\0';
	rc = mkdir_p(dir, 0700);
	if (rc == 0) {
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			rc = -errno;
		} else {
			struct strbuf t = STRBUF_INIT;
			sb_addf(&t, "%s\n", text);
			rc = write_file_atomic(dfd, slash + 1, t.buf, t.len);
			sb_release(&t);
			close(dfd);
		}
	}
	free(dir);
	free(text);
	return rc;
}

int on_ac_power(const char *sysdir)
{
	DIR *d = opendir(sysdir);
	struct dirent *e;
	int online = 0, offline = 0;

	if (!d)
		return 1;   /* no power supply class: not a laptop */
	while ((e = readdir(d))) {
		char *type = NULL, *state = NULL;
		struct strbuf p = STRBUF_INIT;
		if (e->d_name[0] == '.')
			continue;
		sb_addf(&p, "%s/%s/type", sysdir, e->d_name);
		/* sysfs entries are symlinks: follow them, but read little */
		int fd = open(p.buf, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			char buf[32];
			ssize_t n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n > 0) {
				buf[n] = '\0';
				type = xstrdup(buf);
			}
		}
		if (type && !strncmp(type, "Mains", 5)) {
			sb_reset(&p);
			sb_addf(&p, "%s/%s/online", sysdir, e->d_name);
			fd = open(p.buf, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				char buf[8];
				ssize_t n = read(fd, buf, sizeof(buf) - 1);
				close(fd);
				if (n > 0) {
					buf[n] = '\0';
					state = xstrdup(buf);
				}
			}
			if (state && state[0] == '1')
				online = 1;
			else
				offline = 1;
		}
		free(type);
		free(state);
		sb_release(&p);
	}
	closedir(d);
	return online || !offline;
}
