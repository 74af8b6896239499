/*
 * One line for a failed transfer (outcome.h).
 */
#include "outcome.h"
#include "../lib/exitcodes.h"

#include <stdlib.h>
#include <string.h>

#define SERVER_PREFIX "hindsight-server: "

static void keep(struct argv *a, const char *line, size_t max, int keep_last)
{
	if (a->n >= max) {
		if (!keep_last)
			return;
		free(a->v[0]);
		memmove(a->v, a->v + 1, (a->n - 1) * sizeof(char *));
		a->n--;
		a->v[a->n] = NULL;
	}
	argv_push(a, line);
}

static void take_line(struct errlog *e, char *line, size_t len)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len > ERRLOG_LINE_MAX)
		len = ERRLOG_LINE_MAX;
	line[len] = '\0';
	if (!len)
		return;
	if (!strncmp(line, SERVER_PREFIX, strlen(SERVER_PREFIX)))
		keep(&e->server, line + strlen(SERVER_PREFIX), ERRLOG_SERVER_LINES, 0);
	else if (!strncmp(line, "rsync: ", 7) || !strncmp(line, "rsync error: ", 13) ||
		 !strncmp(line, "rsync warning: ", 15)) {
		if (e->rsync.n < ERRLOG_RSYNC_LINES)
			argv_push(&e->rsync, line);
		else
			e->rsync_more++;
	} else {
		keep(&e->other, line, ERRLOG_OTHER_LINES, 1);
	}
}

void errlog_feed(struct errlog *e, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			sb_addch(&e->partial, '\0');   /* room for take_line's NUL */
			take_line(e, e->partial.buf, e->partial.len - 1);
			sb_reset(&e->partial);
		} else if (e->partial.len <= ERRLOG_LINE_MAX) {
			sb_addch(&e->partial, buf[i]);
		}
	}
}

void errlog_finish(struct errlog *e)
{
	if (e->partial.len) {
		sb_addch(&e->partial, '\0');
		take_line(e, e->partial.buf, e->partial.len - 1);
		sb_reset(&e->partial);
	}
}

void errlog_free(struct errlog *e)
{
	argv_clear(&e->server);
	argv_clear(&e->rsync);
	argv_clear(&e->other);
	sb_release(&e->partial);
	e->rsync_more = 0;
}

/* The last server line starting with prefix (the rest of it), or NULL. */
static const char *server_said(const struct errlog *e, const char *prefix)
{
	for (size_t i = e->server.n; i-- > 0;)
		if (!strncmp(e->server.v[i], prefix, strlen(prefix)))
			return e->server.v[i] + strlen(prefix);
	return NULL;
}

/* ssh's own complaint: the last line that is neither rsync's nor the server's. */
static const char *ssh_said(const struct errlog *e)
{
	return e->other.n ? e->other.v[e->other.n - 1] : NULL;
}

/* The first rsync line that says more than "connection unexpectedly closed". */
static const char *rsync_said(const struct errlog *e)
{
	for (size_t i = 0; i < e->rsync.n; i++)
		if (!strstr(e->rsync.v[i], "connection unexpectedly closed") &&
		    strncmp(e->rsync.v[i], "rsync error: ", 13))
			return e->rsync.v[i];
	return e->rsync.n ? e->rsync.v[0] : NULL;
}

static void add_trimmed(struct strbuf *out, const char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '.' || s[n - 1] == ' '))
		n--;
	sb_add(out, s, n);
}

void explain_failure(const char *what, int code, const struct errlog *e,
		     const char *repo, struct strbuf *out)
{
	const char *s;

	switch (code) {
	case HS_EXIT_REFUSED:
		sb_addf(out, "%s refused by the server", what);
		if ((s = server_said(e, "refused: ")) || (s = server_said(e, ""))) {
			sb_addstr(out, ": ");
			add_trimmed(out, s);
		}
		break;
	case HS_EXIT_LOCKED:
		s = server_said(e, "backup already in progress since ");
		sb_addf(out, "%s not started: a backup to %s is already in progress", what, repo);
		if (s)
			sb_addf(out, " since %.*s", (int)strcspn(s, ";"), s);
		sb_addstr(out, "; retry later");
		break;
	case HS_EXIT_UNREACHABLE:
		/* "host:" would read "host:: ssh: ..." */
		sb_addf(out, "cannot reach %.*s", (int)(strlen(repo) -
			(repo[0] && repo[strlen(repo) - 1] == ':')), repo);
		if ((s = ssh_said(e))) {
			sb_addstr(out, ": ");
			add_trimmed(out, s);
		}
		sb_addstr(out, " (retry later)");
		break;
	case HS_EXIT_NOSPACE:
		/* refused before it started: the server's line says what it needs */
		if ((s = server_said(e, "out of space in "))) {
			sb_addf(out, "%s not started: out of space in ", what);
			add_trimmed(out, s);
			break;
		}
		sb_addf(out, "%s failed: out of space on %s", what, repo);
		if (!strcmp(what, "backup"))
			sb_addstr(out, "; what arrived is kept and the next backup resumes from it");
		break;
	case HS_EXIT_AGAIN:
		/* a sealed server published nothing yet; its line says why */
		sb_addf(out, "%s not finished", what);
		if ((s = server_said(e, ""))) {
			sb_addstr(out, ": ");
			add_trimmed(out, s);
		} else {
			sb_addstr(out, ": run it again to finish");
		}
		break;
	case HS_EXIT_INTERRUPTED:
		sb_addf(out, "%s interrupted", what);
		if (!strcmp(what, "backup"))
			sb_addstr(out, "; what arrived is kept and the next backup resumes from it");
		break;
	case HS_EXIT_NOTFOUND:
		sb_addf(out, "%s failed: %s", what, repo);
		if ((s = server_said(e, ""))) {
			sb_addstr(out, ": ");
			add_trimmed(out, s);
		} else {
			sb_addstr(out, ": no such backup root");
		}
		break;
	default:
		sb_addf(out, "%s failed", what);
		if ((s = server_said(e, "")) || (s = rsync_said(e)) || (s = ssh_said(e))) {
			sb_addstr(out, ": ");
			add_trimmed(out, s);
		} else {
			sb_addf(out, " (exit %d)", code);
		}
		break;
	}
}
