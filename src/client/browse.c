/*
 * `hindsight browse [--at TIME] [PATH]`: a Time Machine-like browser in the
 * terminal. The directory PATH (default: the current one) as the chosen
 * snapshot holds it, a timeline of every snapshot beside it, and keys to
 * walk the tree, step through time, see versions and changes, and restore.
 *
 * The thin layer over browse_state.c (browse.h, what the browser knows,
 * unit-tested without a terminal): this file reads the keys and acts,
 * browse_draw.c draws the screen with ncurses, browse_job.c runs each query
 * in a forked child with run_query() (or restore_one()), so that the screen
 * never freezes while ssh works.
 */
#define NCURSES_WIDECHAR 1

#include "browse_ui.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/strbuf.h"
#include "../lib/timespec.h"

#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

static const char browse_usage[] =
	"usage: hindsight browse [--at TIME] [--repo REPO] [--ssh CMD] [--config FILE] [PATH]\n";

/* SIGTERM, SIGHUP or SIGINT: leave as after q, with the terminal restored. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* ---------------------------------------------------------------- actions */

static void say(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct ui *u, const char *fmt, ...)
{
	va_list ap;

	msg_clear(u);
	va_start(ap, fmt);
	sb_vaddf(&u->msg, fmt, ap);
	va_end(ap);
}

/* Start the next job: what the user asked for first, then what the view wants. */
static void next_job(struct ui *u)
{
	struct job *j = &u->job;
	struct strbuf word = STRBUF_INIT;
	struct bquery q;

	if (j->pid > 0)
		return;
	if (u->pending_restore) {
		u->pending_restore = 0;
		j->kind = JOB_RESTORE;
		if (job_start(&u->job, u->repo, NULL, 0) < 0)
			say(u, "cannot start the restore: %s", strerror(errno));
		return;
	}
	if (u->pending_diff) {
		u->pending_diff = 0;
		j->kind = JOB_DIFF;
		sb_addf(&word, "/%s", j->path.buf);
		char *words[] = { "diff", j->prev, j->snap, word.buf };
		if (job_start(&u->job, u->repo, words, 4) < 0)
			say(u, "cannot start the diff: %s", strerror(errno));
		sb_release(&word);
		return;
	}
	if (!browse_next_query(&u->b, &q))
		return;
	/* "/" + path: an empty word would vanish on its way through ssh */
	sb_addf(&word, "/%s", q.path.buf);
	sb_reset(&j->path);
	sb_add(&j->path, q.path.buf, q.path.len);
	if (q.kind == BQ_LS) {
		j->kind = JOB_LS;
		memcpy(j->snap, q.snap, SNAPNAME_SIZE);
		char *words[] = { "ls", j->snap, word.buf };
		if (job_start(&u->job, u->repo, words, 3) < 0) {
			struct blisting l;
			blisting_failed(&l, HS_EXIT_ERROR, strerror(errno));
			browse_put_ls(&u->b, j->snap, j->path.buf, &l);
		}
	} else {
		j->kind = JOB_VERSIONS;
		char *words[] = { "versions", word.buf };
		if (job_start(&u->job, u->repo, words, 2) < 0) {
			struct bversions v;
			bversions_failed(&v, HS_EXIT_ERROR, strerror(errno));
			browse_put_versions(&u->b, j->path.buf, &v);
		}
	}
	bquery_free(&q);
	sb_release(&word);
}

static void job_done(struct ui *u, int code)
{
	struct job *j = &u->job;
	struct strbuf why = STRBUF_INIT, shown = STRBUF_INIT;
	json_t *top = NULL;
	const char *verb = j->kind == JOB_LS ? "ls" : j->kind == JOB_VERSIONS ? "versions" : "diff";

	if (code != 0)
		job_reason(j, code, &why);
	else if (j->kind != JOB_RESTORE && !(top = answer_parse(j->out.buf, verb))) {
		code = HS_EXIT_ERROR;
		sb_addf(&why, "the server's answer is not a protocol 1 %s", verb);
	}
	switch (j->kind) {
	case JOB_LS: {
		struct blisting l;
		if (code != 0 || blisting_from_json(top, &l) < 0)
			blisting_failed(&l, code ? code : HS_EXIT_ERROR, why.len ? why.buf : NULL);
		browse_put_ls(&u->b, j->snap, j->path.buf, &l);
		break;
	}
	case JOB_VERSIONS: {
		struct bversions v;
		if (code != 0 || bversions_from_json(top, &v) < 0)
			bversions_failed(&v, code ? code : HS_EXIT_ERROR, why.len ? why.buf : NULL);
		browse_put_versions(&u->b, j->path.buf, &v);
		break;
	}
	case JOB_DIFF:
		if (code != 0)
			say(u, "diff: %s", why.buf);
		else
			overlay_diff(u, top);
		break;
	case JOB_RESTORE: {
		/* the item by its name: the line is short, and it was selected */
		const char *slash = strrchr(j->path.buf, '/');
		const char *base = slash ? slash + 1 : j->path.buf;
		show_name(&shown, base, strlen(base));
		msg_clear(u);
		if (code == 0) {
			sb_addf(&u->msg, "restored %s as ", shown.buf);
			show_name(&u->msg, j->target.buf, j->target.len);
			u->msg_tail = 1;
		} else {
			sb_addf(&u->msg, "restore of %s failed: %s", shown.buf, why.buf);
		}
		break;
	}
	case JOB_NONE:
		break;
	}
	json_decref(top);
	j->kind = JOB_NONE;
	sb_release(&why);
	sb_release(&shown);
}

static void start_restore_prompt(struct ui *u)
{
	const struct bentry *e = browse_selected(&u->b);
	struct strbuf t = STRBUF_INIT;

	if (!e) {
		say(u, "nothing selected to restore");
		return;
	}
	sb_reset(&u->restore_rel);
	browse_selected_path(&u->b, &u->restore_rel);
	memcpy(u->restore_snap, u->b.snaps[u->b.cur], SNAPNAME_SIZE);
	/* where `hindsight restore` would put it: next to the original */
	restore_default_target(u->restore_rel.buf, u->restore_snap, &t);
	sb_reset(&u->input);
	sb_add(&u->input, t.buf, t.len);
	sb_release(&t);
	u->prompt = PROMPT_RESTORE;
}

static void confirm_restore(struct ui *u)
{
	struct job *j = &u->job;
	struct stat st;
	char *rel;

	u->prompt = PROMPT_NONE;
	if (j->pid > 0 && j->kind == JOB_RESTORE) {
		say(u, "a restore is running: wait for it to finish");
		return;
	}
	if (!u->input.len) {
		say(u, "restore cancelled");
		return;
	}
	rel = snapshot_path(u->input.buf);
	if (!rel || !*rel) {
		say(u, "restore: name a file or directory to restore to, not /");
		free(rel);
		return;
	}
	if (j->pid > 0)
		job_kill(j);   /* a background query: it is fetched again later */
	j->kind = JOB_NONE;
	memcpy(j->snap, u->restore_snap, SNAPNAME_SIZE);
	sb_reset(&j->path);
	sb_add(&j->path, u->restore_rel.buf, u->restore_rel.len);
	sb_reset(&j->target);
	sb_addf(&j->target, "/%s", rel);
	free(rel);
	/* said at once; restore_one() checks again and never replaces anyway */
	if (lstat(j->target.buf, &st) == 0) {
		msg_clear(u);
		show_name(&u->msg, j->target.buf, j->target.len);
		sb_addstr(&u->msg, " exists: not replacing it");
		u->msg_tail = 1;
		return;
	}
	u->pending_restore = 1;
	say(u, "restoring...");
}

static void start_diff(struct ui *u)
{
	struct job *j = &u->job;
	const struct bentry *e = browse_selected(&u->b);

	if (u->b.cur == 0) {
		say(u, "this is the oldest snapshot: nothing to compare it with");
		return;
	}
	if (j->pid > 0 && j->kind == JOB_RESTORE) {
		say(u, "a restore is running: wait for it to finish");
		return;
	}
	if (j->pid > 0)
		job_kill(j);
	j->kind = JOB_NONE;
	sb_reset(&j->path);
	if (e && !strcmp(e->type, "dir"))
		browse_selected_path(&u->b, &j->path);
	else
		sb_addstr(&j->path, u->b.path.buf);
	memcpy(j->prev, u->b.snaps[u->b.cur - 1], SNAPNAME_SIZE);
	memcpy(j->snap, u->b.snaps[u->b.cur], SNAPNAME_SIZE);
	u->pending_diff = 1;
	msg_clear(u);
}

static void want_versions(struct ui *u)
{
	sb_reset(&u->want_versions);
	browse_selected_path(&u->b, &u->want_versions);
	if (!u->want_versions.len) {
		say(u, "nothing selected");
		return;
	}
	u->want_versions_on = 1;
	browse_want_versions(&u->b, u->want_versions.buf);
}

/* `v` was pressed and the versions have arrived: show them. */
static void show_wanted_versions(struct ui *u)
{
	const struct bversions *v;

	if (!u->want_versions_on || !(v = browse_versions(&u->b, u->want_versions.buf)))
		return;
	u->want_versions_on = 0;
	overlay_versions(u, u->want_versions.buf, v);
}

/* Append a typed character (wide) to the prompt's raw bytes. */
static void input_add(struct strbuf *in, wint_t wc)
{
	char mb[MB_LEN_MAX];
	mbstate_t st;
	size_t k;

	memset(&st, 0, sizeof(st));
	k = wcrtomb(mb, (wchar_t)wc, &st);
	if (k != (size_t)-1)
		sb_add(in, mb, k);
}

/* Remove the last character (a whole UTF-8 sequence). */
static void input_del(struct strbuf *in)
{
	if (!in->len)
		return;
	size_t n = in->len - 1;
	while (n > 0 && ((unsigned char)in->buf[n] & 0xc0) == 0x80)
		n--;
	in->len = n;
	in->buf[n] = '\0';
}

static void prompt_key(struct ui *u, int is_key, wint_t c)
{
	int done = 0, cancel = 0;

	if (is_key) {
		if (c == KEY_BACKSPACE)
			input_del(&u->input);
		else if (c == KEY_ENTER)
			done = 1;
	} else if (c == 27) {
		cancel = 1;
	} else if (c == '\n' || c == '\r') {
		done = 1;
	} else if (c == 127 || c == 8) {
		input_del(&u->input);
	} else if (c == 21) {   /* ^U */
		sb_reset(&u->input);
	} else if (iswprint(c)) {
		input_add(&u->input, c);
	}
	if (u->prompt == PROMPT_FILTER) {
		if (cancel)
			sb_reset(&u->input);
		browse_set_filter(&u->b, u->input.buf);
		if (done || cancel)
			u->prompt = PROMPT_NONE;
		return;
	}
	if (cancel) {
		u->prompt = PROMPT_NONE;
		say(u, "restore cancelled");
	} else if (done) {
		confirm_restore(u);
	}
}

/* Keys while an overlay is shown: scroll, or close it. */
static void overlay_key(struct ui *u, int is_key, wint_t c)
{
	size_t page = u->list_rows > 1 ? (size_t)u->list_rows : 1;

	if (is_key && (c == KEY_UP || c == KEY_PPAGE || c == KEY_HOME)) {
		size_t by = c == KEY_UP ? 1 : c == KEY_PPAGE ? page : u->ov.top;
		u->ov.top = u->ov.top > by ? u->ov.top - by : 0;
	} else if (is_key && (c == KEY_DOWN || c == KEY_NPAGE || c == KEY_END)) {
		u->ov.top += c == KEY_DOWN ? 1 : c == KEY_NPAGE ? page : u->ov.lines.n;
	} else if (!is_key && (c == 'k' || c == 'j')) {
		if (c == 'k' && u->ov.top)
			u->ov.top--;
		else if (c == 'j')
			u->ov.top++;
	} else if (!(is_key && c == KEY_RESIZE)) {
		u->ov.on = 0;
	}
}

/* One key in the main view. Returns -1 to quit, else 0. */
static int main_key(struct ui *u, int is_key, wint_t c, int *exit_code)
{
	long page = u->list_rows > 1 ? u->list_rows : 1;

	if (is_key) {
		switch (c) {
		case KEY_UP: browse_move(&u->b, -1); break;
		case KEY_DOWN: browse_move(&u->b, 1); break;
		case KEY_PPAGE: browse_move(&u->b, -page); break;
		case KEY_NPAGE: browse_move(&u->b, page); break;
		case KEY_HOME: browse_move(&u->b, -(long)u->b.nview); break;
		case KEY_END: browse_move(&u->b, (long)u->b.nview); break;
		case KEY_ENTER: goto enter;
		case KEY_BACKSPACE: goto up;
		case KEY_LEFT: goto older;
		case KEY_RIGHT: goto newer;
		default: break;
		}
		return 0;
	}
	msg_clear(u);
	switch (c) {
	case 'k': browse_move(&u->b, -1); break;
	case 'j': browse_move(&u->b, 1); break;
	case 'g': browse_move(&u->b, -(long)u->b.nview); break;
	case 'G': browse_move(&u->b, (long)u->b.nview); break;
	case '\n':
	case '\r':
	case 'l':
enter:
		if (browse_enter(&u->b) < 0)
			say(u, "not a directory: r restores it, v shows its versions");
		break;
	case 127:
	case 8:
	case 'h':
up:
		if (browse_up(&u->b) < 0)
			say(u, "already at the top");
		break;
	case '[':
older:
		if (browse_step(&u->b, -1) < 0)
			say(u, "this is the oldest snapshot");
		break;
	case ']':
newer:
		if (browse_step(&u->b, 1) < 0)
			say(u, "this is the newest snapshot");
		break;
	case 'v': want_versions(u); break;
	case 'd': start_diff(u); break;
	case 'r': start_restore_prompt(u); break;
	case '/':
		u->prompt = PROMPT_FILTER;
		sb_reset(&u->input);
		sb_add(&u->input, u->b.filter.buf, u->b.filter.len);
		break;
	case 27:
		browse_set_filter(&u->b, "");
		break;
	case '?': overlay_help(u); break;
	case 12:   /* ^L: redraw, and try again what failed */
		clearok(curscr, TRUE);
		if (browse_forget_failures(&u->b))
			say(u, "trying again");
		break;
	case 'q':
		if (u->job.pid > 0 && u->job.kind == JOB_RESTORE) {
			/* cut short, it would leave its staging directory behind */
			u->quit_after_restore = 1;
			say(u, "quitting when the restore is done");
			break;
		}
		*exit_code = HS_EXIT_OK;
		return -1;
	case 3:   /* ^C: the terminal is ours (raw), so it arrives as a key */
		*exit_code = HS_EXIT_INTERRUPTED;
		return -1;
	default: break;
	}
	return 0;
}

static int run_ui(struct ui *u)
{
	int exit_code = HS_EXIT_OK;

	for (;;) {
		int code;
		wint_t c;

		if (got_signal) {
			exit_code = HS_EXIT_INTERRUPTED;
			break;
		}
		if (u->job.pid > 0 && job_poll(&u->job, &code)) {
			job_done(u, code);
			if (u->quit_after_restore)
				break;
		}
		next_job(u);
		show_wanted_versions(u);
		draw(u);
		/* while a query runs: wake up to turn the spinner and read it;
		 * else now and then, should a signal not interrupt the read */
		timeout(u->job.pid > 0 ? 80 : 1000);
		int got = get_wch(&c);
		if (got == ERR)
			continue;
		int is_key = got == KEY_CODE_YES;
		if (is_key && c == KEY_RESIZE) {
			clearok(curscr, TRUE);
			continue;
		}
		if (u->prompt != PROMPT_NONE)
			prompt_key(u, is_key, c);
		else if (u->ov.on)
			overlay_key(u, is_key, c);
		else if (main_key(u, is_key, c, &exit_code) < 0)
			break;
	}
	job_kill(&u->job);
	return exit_code;
}

/* ---------------------------------------------------------------- the verb */

int cmd_browse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		COMMON_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	const char *at = NULL;
	struct repo repo;
	struct snaplist l = { NULL, 0 };
	struct ui u;
	char why[256];
	size_t idx;
	int c, code;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 'h': fputs(browse_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(browse_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc) {
		fputs(browse_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (!isatty(0) || !isatty(1)) {
		fputs("hindsight: browse needs a terminal on stdin and stdout "
		      "(for scripts: ls, versions, diff and restore)\n", stderr);
		return HS_EXIT_USAGE;
	}
	char *rel = snapshot_path(optind < argc ? argv[optind] : ".");
	if (!rel) {
		fputs("hindsight: cannot find the current directory\n", stderr);
		return HS_EXIT_ERROR;
	}
	if ((code = common_repo(&co, &repo, 1)) != 0) {
		free(rel);
		return code;
	}
	if ((code = fetch_snapshots(&repo, &l)) != 0)
		goto out;
	if (l.n == 0) {
		char *name = repo_name(&repo);
		fprintf(stderr, "hindsight: no snapshots yet in %s: nothing to browse\n", name);
		free(name);
		code = HS_EXIT_NOTFOUND;
		goto out;
	}
	int rc = resolve_snapshot(at ? at : "latest", time(NULL), l.names, l.n, &idx, why,
				  sizeof(why));
	if (rc < 0) {
		fprintf(stderr, "hindsight: %s\n", why);
		code = rc == -EINVAL ? HS_EXIT_USAGE : HS_EXIT_NOTFOUND;
		goto out;
	}

	memset(&u, 0, sizeof(u));
	u.repo = &repo;
	u.job.out_fd = u.job.err_fd = -1;
	sb_init(&u.job.out);
	sb_init(&u.job.err);
	sb_init(&u.job.path);
	sb_init(&u.job.target);
	sb_init(&u.msg);
	sb_init(&u.ov.title);
	sb_init(&u.want_versions);
	sb_init(&u.input);
	sb_init(&u.restore_rel);
	browse_init(&u.b, l.names, l.n, idx, rel);
	say(&u, "? for help");

	/* ours, set before initscr() so that ncurses leaves them alone */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: the read returns */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* the terminal's own character set, for names in UTF-8 */
	setlocale(LC_CTYPE, "");
	/* newterm(), not initscr(), which exits on a TERM it does not know */
	SCREEN *scr = newterm(NULL, stdout, stdin);
	const char *cup = scr ? tigetstr("cup") : NULL;
	if (!scr || !cup || cup == (char *)-1) {
		if (scr) {
			endwin();
			delscreen(scr);
		}
		fprintf(stderr, "hindsight: browse needs a terminal that can move its cursor, "
			"and TERM=%s %s\n", getenv("TERM") ? getenv("TERM") : "",
			scr ? "cannot" : "is not known here");
		code = HS_EXIT_USAGE;
	} else {
		raw();
		noecho();
		nonl();
		keypad(stdscr, TRUE);
		set_escdelay(25);
		curs_set(0);
		code = run_ui(&u);
		endwin();
		delscreen(scr);
	}
	setlocale(LC_CTYPE, "C");

	browse_free(&u.b);
	sb_release(&u.job.out);
	sb_release(&u.job.err);
	sb_release(&u.job.path);
	sb_release(&u.job.target);
	sb_release(&u.msg);
	sb_release(&u.ov.title);
	argv_clear(&u.ov.lines);
	sb_release(&u.want_versions);
	sb_release(&u.input);
	sb_release(&u.restore_rel);
out:
	snaplist_free(&l);
	free(rel);
	repo_free(&repo);
	common_free(&co);
	return code;
}
