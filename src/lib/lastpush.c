#include "lastpush.h"
#include "fsops.h"
#include "names.h"
#include "strbuf.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *const result_names[] = { "complete", "with errors", "failed" };

const char *push_result_name(enum push_result r)
{
	return (unsigned)r < 3 ? result_names[r] : "failed";
}

char *lastpush_to_json(const struct last_push *p)
{
	char start[32], end[32];
	struct strbuf msg = STRBUF_INIT;
	size_t len = strnlen(p->message, sizeof(p->message));

	format_iso_utc(p->start, start);
	format_iso_utc(p->end, end);
	if (utf8_valid(p->message, len))
		sb_add(&msg, p->message, len);
	else
		name_escape(&msg, p->message, len);
	json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:I, s:s, s:i, s:o, s:o, s:s}",
			      "version", 1, "start", start, "end", end,
			      "start_epoch", (json_int_t)p->start,
			      "end_epoch", (json_int_t)p->end,
			      "result", push_result_name(p->result), "exit", p->exit,
			      "rsync_exit", p->rsync_exit < 0 ? json_null()
							      : json_integer(p->rsync_exit),
			      "snapshot", p->snapshot[0] ? json_string(p->snapshot) : json_null(),
			      "message", msg.buf);
	sb_release(&msg);
	if (!o)
		abort();
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		abort();
	size_t n = strlen(s);
	char *out = xmalloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	free(s);
	return out;
}

int lastpush_from_json(const char *text, struct last_push *p)
{
	json_error_t err;
	json_t *o = json_loads(text, 0, &err), *rx = NULL, *snap = NULL;
	const char *result = NULL, *msg = "";
	json_int_t start = 0, end = 0;
	int ex = 0, rc = -EINVAL;

	if (!o)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (json_unpack(o, "{s:I, s:I, s:s, s:i, s?o, s?o, s?s}", "start_epoch", &start,
			"end_epoch", &end, "result", &result, "exit", &ex, "rsync_exit", &rx,
			"snapshot", &snap, "message", &msg) < 0)
		goto out;
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(result, result_names[i]))
			p->result = (enum push_result)i, rc = 0;
	if (rc < 0)
		goto out;
	p->start = (time_t)start;
	p->end = (time_t)end;
	p->exit = ex;
	p->rsync_exit = json_is_integer(rx) ? (int)json_integer_value(rx) : -1;
	if (json_is_string(snap) && snapname_parse(json_string_value(snap), NULL) == 0)
		memcpy(p->snapshot, json_string_value(snap), SNAPNAME_SIZE);
	snprintf(p->message, sizeof(p->message), "%s", msg);
out:
	json_decref(o);
	return rc;
}

int lastpush_write(const struct root *r, const struct last_push *p)
{
	char *json;
	int rc;

	/* a sealed root's account writes only .hindsight/work */
	if (r->metafd < 0 || root_state_fd(r) < 0)
		return -ENOENT;
	json = lastpush_to_json(p);
	rc = write_file_atomic(root_state_fd(r), LASTPUSH_FILE, json, strlen(json));
	free(json);
	return rc;
}

int lastpush_read(const struct root *r, struct last_push *p)
{
	char *text;
	int rc;

	if (r->metafd < 0 || root_state_fd(r) < 0)
		return -ENOENT;
	if (r->sealed) {
		/* the account's directory: root reads only a plain file of the
		 * account's, never a FIFO or a link to a file of someone else's */
		struct stat wst, st;
		int fd = openat(r->workfd, LASTPUSH_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
				O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (fstat(r->workfd, &wst) < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != wst.st_uid || st.st_nlink != 1) {
			close(fd);
			return -EINVAL;
		}
		rc = read_fd(fd, 1 << 16, &text);
		close(fd);
	} else {
		rc = read_file_at(r->metafd, LASTPUSH_FILE, 1 << 16, &text);
	}
	if (rc < 0)
		return rc;
	rc = lastpush_from_json(text, p);
	free(text);
	return rc;
}

/* Does /proc/locks list a lock on the inode st names? */
static int proc_locks_holds(const struct stat *st)
{
	char *text = NULL;
	int fd = open("/proc/locks", O_RDONLY | O_CLOEXEC), found = 0;

	if (fd < 0)
		return 0;
	if (read_fd(fd, 16 << 20, &text) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:131 0 EOF" (major:minor in hex) */
	for (char *line = text; line && *line && !found;) {
		char *nl = strchr(line, '\n');
		unsigned maj, min;
		unsigned long long ino;
		if (nl)
			*nl = '\0';
		for (char *w = strchr(line, ':'); w && !found; w = strchr(w + 1, ' ')) {
			if (sscanf(w + 1, "%x:%x:%llu", &maj, &min, &ino) == 3 &&
			    ino == (unsigned long long)st->st_ino &&
			    maj == major(st->st_dev) && min == minor(st->st_dev))
				found = 1;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	return found;
}

int lock_held_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       proc_locks_holds(&st);
}

int push_holder(const struct root *r, long long *pid, time_t *since)
{
	char buf[64];
	long long p = 0, t = 0;
	struct stat st;
	int fd, live = 0;

	*pid = 0;
	*since = 0;
	if (r->metafd < 0)
		return 0;
	fd = openat(r->metafd, "lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	/* the lock file's text, or a sealed root's work/lock.info */
	if (root_lock_text(r, buf, sizeof(buf)) > 0 &&
	    (sscanf(buf, "%lld %lld", &p, &t) != 2 || p <= 1 || p > 0x7fffffff))
		p = t = 0;
	/* the text is emptied when a push ends; a dead pid may have left an rsync */
	if (p && (kill((pid_t)p, 0) == 0 || errno == EPERM))
		live = 1;
	else if (p && fstat(fd, &st) == 0 && proc_locks_holds(&st))
		live = 1;
	close(fd);
	if (live) {
		*pid = p;
		*since = (time_t)t;
	}
	return live;
}
