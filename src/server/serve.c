/*
 * `hindsight-server serve`: the forced command. Judges the client's command
 * (policy.c, pure), then takes the lock, repairs the root, receives into a
 * fresh tree with rsync and publishes it. See docs/DESIGN.md.
 */
#include "server.h"
#include "../lib/cmdsplit.h"
#include "../lib/exitcodes.h"
#include "../lib/fastpush.h"
#include "../lib/fault.h"
#include "../lib/fsops.h"
#include "../lib/landlock.h"
#include "../lib/lastpush.h"
#include "../lib/policy.h"
#include "../lib/prune.h"
#include "../lib/root.h"
#include "../lib/snappath.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define TRANSFER_LOG "transfer.log"
#define RSYNC_TMP "tmp" /* rsync's --temp-dir, beside the log: emptied before each push */

/* rsync's whole environment: nothing of the client's, no LD_*, RSYNC_*, POPT* */
char *const rsync_envp[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", "HOME=/nonexistent", NULL };

static const char *who(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : "?";
}

/*
 * One syslog line per invocation (STYLE.md habit 12): the decisions made
 * along the way are collected by audit() and written once by audit_end(),
 * with the account, how long it took, our exit code and the client's
 * command, hex-escaped and bounded.
 */
static struct strbuf audit_buf = STRBUF_INIT;
static struct timespec audit_start;

void audit(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (audit_buf.len < 1200)
		sb_addf(&audit_buf, " %s", buf);
}

/* What the client sent, safe for a log line: at most 256 bytes, and every
 * byte outside printable ASCII, and '"' and '\\', as \xNN. */
static void escape_for_log(struct strbuf *sb, const char *s)
{
	size_t n = 0;

	for (; *s && n < 256; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			sb_addf(sb, "\\x%02x", c);
		else
			sb_addch(sb, (char)c);
	}
	if (*s)
		sb_addstr(sb, "...");
}

static void audit_begin(void)
{
	clock_gettime(CLOCK_MONOTONIC, &audit_start);
	sb_reset(&audit_buf);
}

static void audit_end(const char *cmd, int code)
{
	struct strbuf line = STRBUF_INIT;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (long)(now.tv_sec - audit_start.tv_sec) * 1000 +
		  (now.tv_nsec - audit_start.tv_nsec) / 1000000;
	sb_addf(&line, "user=%s%s exit=%d duration_ms=%ld cmd=\"", who(),
		audit_buf.len ? audit_buf.buf : "", code, ms);
	escape_for_log(&line, cmd ? cmd : "");
	sb_addch(&line, '"');
	syslog(code == 0 ? LOG_INFO : LOG_NOTICE, "%.1900s", line.buf);
	sb_release(&line);
	sb_release(&audit_buf);
}

int confine_rsync(void *arg)
{
	int rc = landlock_confine(arg);

	if (rc < 0) {
		/* we are the child: stderr is the client's, syslog is ours */
		fprintf(stderr, "hindsight-server: cannot confine rsync with Landlock: %s\n",
			strerror(-rc));
		syslog(LOG_ERR, "landlock: cannot confine rsync: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

void warn_if_no_landlock(void)
{
	int abi = landlock_abi();

	if (abi == 0)
		syslog(LOG_WARNING, "landlock: this kernel has no Landlock; rsync runs "
		       "confined by its argv alone");
	else if (abi < 2)
		syslog(LOG_WARNING, "landlock: ABI 1 cannot allow --link-dest's links; "
		       "pushes run confined by their argv alone");
}

/*
 * What the installed rsync is: its version (from the first line of
 * --help, "rsync  version 3.5.0  protocol version 32") and whether it has
 * --confine-root. Asked once per invocation.
 */
const struct rsync_info *rsync_probe(const char *rsync)
{
	static struct rsync_info info;
	static int probed;
	char *argv[] = { (char *)rsync, "--help", NULL };
	struct strbuf out = STRBUF_INIT;
	int pfd[2], devnull, st = 0;

	if (probed)
		return &info;
	probed = 1;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		if (devnull >= 0)
			close(devnull);
		return &info;
	}
	/* confined like any rsync we run: no /etc/popt aliases, nothing to read */
	struct ll_plan ll = { .role = LL_PULL, .snapdir = NULL, .exec = rsync };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.out_fd = pfd[1];
	so.err_fd = devnull;
	so.pre_exec = confine_rsync;
	so.pre_exec_arg = &ll;
	pid_t pid = spawn_with(rsync, argv, rsync_envp, &so);
	close(pfd[1]);
	close(devnull);
	if (pid > 0) {
		char buf[4096];
		ssize_t n;
		while ((n = read(pfd[0], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 || out.len > (1 << 20))
				break;
			sb_add(&out, buf, (size_t)n);
		}
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	close(pfd[0]);
	const char *v = strstr(out.buf, "version ");
	if (v && sscanf(v + 8, "%d.%d.%d", &info.major, &info.minor, &info.patch) >= 2)
		info.found = 1;
	info.confine_root = strstr(out.buf, "--confine-root") != NULL;
	info.insecure_links = strstr(out.buf, "--insecure-links") != NULL;
	sb_release(&out);
	return &info;
}

/* rsync older than 3.4.3 has the 2025 CVEs: refuse to run it at all. */
static int rsync_too_old(const struct rsync_info *ri)
{
	long v = ri->major * 10000L + ri->minor * 100L + ri->patch;
	return !ri->found || v < 30403;
}

/*
 * Sum what our own --log-file recorded: received files (">f" items) and
 * the bytes rsync moved for them (%b: wire bytes, after compression and
 * delta), and whether the disk filled up. Read a line at a time: the log
 * has a line per file, and a push of a million files must cost serve no
 * more memory than one of ten (a line longer than the buffer is read in
 * pieces; rsync's own lines stay well below it).
 */
static void read_transfer_log(const struct root *r, struct snapmeta *m, int *enospc)
{
	char line[16384];
	int fd = openat(root_state_fd(r), TRANSFER_LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "r");

	*enospc = 0;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		/* "YYYY/MM/DD HH:MM:SS [pid] %i %b %l" */
		char *p = strchr(line, ']');
		if (p && p[1] == ' ' && strnlen(p + 2, 12) >= 12) {
			long long b, l;
			if (sscanf(p + 13, " %lld %lld", &b, &l) == 2 && p[2] == '>' && p[3] == 'f') {
				m->files++;
				m->bytes += b;
			}
		}
		if (strstr(line, "No space left on device") || strstr(line, "Disk quota exceeded"))
			*enospc = 1;
	}
	fclose(f);
}

void say_missing(int check, const char *fmt, ...)
{
	va_list ap;

	fputs(check ? "refuse: " : "hindsight-server: ", check ? stdout : stderr);
	va_start(ap, fmt);
	vfprintf(check ? stdout : stderr, fmt, ap);
	va_end(ap);
	fputc('\n', check ? stdout : stderr);
}

int refuse_cmd(const char *why, int check)
{
	if (check)
		printf("refuse: %s\n", why);
	else
		fprintf(stderr, "hindsight-server: refused: %s\n", why);
	audit("verdict=refuse reason=\"%.200s\"", why);
	return HS_EXIT_REFUSED;
}

static int errno_exit(int err)
{
	return (err == -ENOSPC || err == -EDQUOT) ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
}

/* The basis trees a push links against: newest snapshot, then resume trees. */
/*
 * The basis trees a push links against: the newest snapshot, then resume
 * trees. rsync looks for the destination below each, so a base is kept
 * only if the destination can be walked below it without a symlink: a
 * symlink planted in a snapshot must not point --link-dest out of the root.
 */
static void link_bases(const struct root *r, const char *dest, struct argv *bases)
{
	struct argv all = ARGV_INIT;
	struct snaplist l;

	if (root_snapshots(r->fd, &l) == 0 && l.n)
		argv_pushf(&all, "%s/%s", r->path, l.names[l.n - 1]);
	snaplist_free(&l);
	root_resume_bases(r, &all);
	for (size_t i = 0; i < all.n; i++) {
		int fd = open(all.v[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int sub = fd < 0 ? -errno : snap_opendir_beneath(fd, dest);
		if (fd >= 0)
			close(fd);
		if (sub >= 0)
			close(sub);
		/* missing is fine (rsync finds nothing there); a symlink is not */
		if (sub >= 0 || sub == -ENOENT)
			argv_push(bases, all.v[i]);
		else
			audit("dropped_base=%.200s", all.v[i]);
	}
	argv_clear(&all);
}

/*
 * Does this fast push run rsync with --insecure-links (fastpush.h)? Only
 * with --numeric-ids, so that its Landlock ruleset need not let it read
 * /etc/passwd, /etc/group or /etc/nsswitch.conf either.
 */
static int fast_insecure(const struct serve_opts *o, const struct request *req, int fast)
{
	if (!fast || !rsync_probe(o->rsync)->insecure_links)
		return 0;
	for (size_t i = 0; i < req->opts.n; i++)
		if (!strcmp(req->opts.v[i], "--numeric-ids"))
			return 1;
	return 0;
}

/*
 * Fill in where the push goes. A dry run (-n) writes nothing: rsync is
 * pointed at a directory that never exists, with no bases and no log, so
 * it needs neither the lock nor a tree (and rsync 3.5.0 -nXR with
 * --link-dest fails on the directories a dry run never makes).
 */
static void fill_plan(struct push_plan *p, const struct serve_opts *o,
		      const struct root *r, const struct request *req,
		      const struct argv *bases, struct strbuf *recv, struct strbuf *log,
		      struct strbuf *tmp, int fast)
{
	memset(p, 0, sizeof(*p));
	p->rsync_path = o->rsync;
	p->root = r->path;
	p->fake_super = geteuid() != 0;
	p->confine_root = rsync_probe(o->rsync)->confine_root;
	if (req->dry_run) {
		sb_addf(recv, "%s/" HS_META_DIR "/dry-run", r->path);
		p->recv_dir = recv->buf;
		return;
	}
	sb_addf(recv, "%s/" HS_INPROGRESS, r->path);
	sb_addf(log, "%s/%s/" TRANSFER_LOG, r->path, root_state_dir(r));
	sb_addf(tmp, "%s/%s/" RSYNC_TMP, r->path, root_state_dir(r));
	p->recv_dir = recv->buf;
	p->temp_dir = tmp->buf;
	p->link_dests = (const char *const *)bases->v;
	p->n_link_dests = bases->n;
	p->log_file = log->buf;
	p->fast = fast;
	p->insecure_links = fast_insecure(o, req, fast);
}

/*
 * May this push take the fast path (fastpush.h)? A sealed root only: in
 * a simple one the snapshots' inodes are the account's, and rsync would
 * change their attributes in place. And a request whose options let
 * rsync reconcile the whole clone: a delete mode, recursion, and none of
 * the options that leave an existing file alone whatever the sender has
 * (with --link-dest, such a file is simply absent from the new tree).
 */
static int fast_eligible(const struct root *r, const struct request *req)
{
	static const char *const skip[] = {
		"--update", "--ignore-existing", "--max-size=", "--min-size=", "--max-delete=",
		"--files-from=", "--existing", "--omit-dir-times", "--no-r",
	};
	int del = 0, rec = strchr(req->flags, 'r') != NULL;

	if (!r->sealed || req->dry_run || strchr(req->flags, 'u') || fastpush_is_slow(r))
		return 0;
	for (size_t i = 0; i < req->opts.n; i++) {
		const char *o = req->opts.v[i];
		if (!strncmp(o, "--delete", 8) && strcmp(o, "--delete-missing-args"))
			del = 1;
		if (!strcmp(o, "--recursive"))
			rec = 1;
		for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			if (!strncmp(o, skip[k], strlen(skip[k])))
				return 0;
	}
	return del && rec;
}

static int check_push(const struct request *req, const struct serve_opts *o)
{
	struct root r;
	struct argv bases = ARGV_INIT, argv = ARGV_INIT;
	struct strbuf recv = STRBUF_INIT, log = STRBUF_INIT, tmp = STRBUF_INIT, line = STRBUF_INIT;
	struct push_plan plan;

	int fast = 0;
	if (root_open(o->root, 0, &r) == 0) {
		fast = fast_eligible(&r, req);
		if (!req->dry_run && !fast)
			link_bases(&r, req->dest, &bases);
	} else {
		/* a root that does not exist yet: show the argv of a first push */
		root_init(&r);
		r.path = xstrdup(o->root);
	}
	fill_plan(&plan, o, &r, req, &bases, &recv, &log, &tmp, fast);
	build_push_argv(req, &plan, &argv);
	quote_argv(&line, argv.v, argv.n);
	printf("allow\n%s\n", line.buf);
	sb_release(&line);
	sb_release(&recv);
	sb_release(&log);
	sb_release(&tmp);
	argv_clear(&argv);
	argv_clear(&bases);
	root_close(&r);
	return HS_EXIT_OK;
}

/* A dry run: see fill_plan(). Reports every file, as a first backup would. */
static int run_dry_push(const struct request *req, const struct serve_opts *o)
{
	struct argv argv = ARGV_INIT;
	struct strbuf recv = STRBUF_INIT, log = STRBUF_INIT, tmp = STRBUF_INIT;
	struct argv bases = ARGV_INIT;
	struct push_plan plan;
	struct root r;
	int rc, interrupted = 0;

	rc = root_open(o->root, 0, &r);
	if (rc < 0 && rc != -ENOENT) {
		fprintf(stderr, "hindsight-server: cannot open backup root %s: %s\n",
			o->root, strerror(-rc));
		return HS_EXIT_ERROR;
	}
	if (rc < 0) {
		root_init(&r);
		r.path = xstrdup(o->root);
	}
	fill_plan(&plan, o, &r, req, &bases, &recv, &log, &tmp, 0);
	build_push_argv(req, &plan, &argv);
	audit("verdict=allow role=push dry_run=1 root=%s", r.path);
	/* a dry run writes nothing: no writable tree at all */
	struct ll_plan ll = { .role = LL_PUSH, .root = r.path, .recv = NULL, .exec = o->rsync };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.pre_exec = confine_rsync;
	so.pre_exec_arg = &ll;
	warn_if_no_landlock();
	pid_t pid = spawn_with(o->rsync, argv.v, rsync_envp, &so);
	int st = pid < 0 ? -1 : wait_child(pid, &interrupted);
	sb_release(&recv);
	sb_release(&log);
	sb_release(&tmp);
	argv_clear(&argv);
	root_close(&r);
	if (interrupted)
		return HS_EXIT_INTERRUPTED;
	return st == 0 || st == 24 ? HS_EXIT_OK : st == 23 ? HS_EXIT_WARNINGS : HS_EXIT_ERROR;
}

/* What became of a push that holds the lock: on stderr, and kept in why. */
__attribute__((format(printf, 2, 3)))
static void push_says(struct strbuf *why, const char *fmt, ...)
{
	va_list ap;

	sb_reset(why);
	va_start(ap, fmt);
	sb_vaddf(why, fmt, ap);
	va_end(ap);
	fprintf(stderr, "hindsight-server: %s\n", why->buf);
}

/*
 * The end of every attempt that took the lock, whatever its outcome, for
 * `hindsight-server status` (lastpush.h). Best effort: the snapshot and its
 * metadata are the record of a push; this only says how the last one went.
 */
static void record_attempt(const struct root *r, const struct snapmeta *m, int code,
			   int ran, int published, const char *why)
{
	struct last_push p;

	memset(&p, 0, sizeof(p));
	p.start = m->start;
	p.end = m->end ? m->end : time(NULL);
	p.exit = code;
	p.rsync_exit = ran ? m->rsync_exit : -1;
	p.result = !published ? PUSH_FAILED : m->rsync_exit == 23 ? PUSH_WITH_ERRORS
								  : PUSH_COMPLETE;
	if (published)
		memcpy(p.snapshot, m->name, SNAPNAME_SIZE);
	snprintf(p.message, sizeof(p.message), "%s",
		 why[0] ? why : published ? "published" : "failed");
	/* every push that took the lock says how it ended in its syslog line */
	if (!strstr(audit_buf.buf, " result="))
		audit("result=%s", published ? "published" : "failed");
	if (lastpush_write(r, &p) < 0)
		audit("last_push=unwritten");
}

/*
 * After a fast push's rsync (fastpush.h): HS_EXIT_OK if the tree may be
 * published; else HS_EXIT_AGAIN, the tree kept, with why saying so.
 */
static int fast_verdict(struct root *r, const struct request *req, const struct snapmeta *m,
			struct strbuf *why)
{
	struct fastpush_check c;
	int logfd = openat(root_state_fd(r), TRANSFER_LOG, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int rc = logfd < 0 ? -errno : fastpush_check(r, req->dest, logfd, &c);

	if (logfd >= 0)
		close(logfd);
	if (logfd < 0)
		memset(&c, 0, sizeof(c));

	audit("fast_items=%llu fast_entries=%llu fast_fresh=%llu fast_unknown=%llu",
	      c.items, c.entries, c.fresh, c.unknown);
	if (rc < 0) {
		fastpush_set_slow(r, 1);
		push_says(why, "cannot check the received tree (%s); not published: run the "
			  "push again to finish", strerror(-rc));
	} else if (c.fresh && !c.unknown && c.entries <= c.items) {
		/* the usual case: the next pass applies the attributes to the fresh inodes */
		push_says(why, "%llu file%s changed only attributes; not published yet: run "
			  "the push again to finish", c.fresh, c.fresh == 1 ? "" : "s");
	} else if (c.unknown || c.entries != c.items || m->rsync_exit == 23) {
		/* not provably exact: the next push takes the --link-dest way */
		fastpush_set_slow(r, 1);
		push_says(why, "the received tree is not provably what was sent (%llu entries, "
			  "%llu sent, rsync exit %d); not published: run the push again to "
			  "finish", c.entries, c.items, m->rsync_exit);
	} else {
		return HS_EXIT_OK;
	}
	root_log(r, why->buf);
	audit("result=again");
	return HS_EXIT_AGAIN;
}

/*
 * After a fast push is published (fastpush.h, "Clone ahead"): clone the
 * new snapshot into inprogress/ for the next push, in a process of its
 * own in a session of its own, so that serve can exit and the client has
 * its answer at once. It holds the push lock (the descriptor is shared)
 * until it is done, and says so in lock.info ("PID START ahead"); a push
 * that finds it there waits for it (wait_ahead()). Killed, it leaves a
 * partial clone and no record, which the next push finishes.
 */
#define AHEAD_WAIT_MS (300 * 1000)

static void clone_ahead(struct root *r, const char *dest)
{
	pid_t pid = fork();

	if (pid < 0)
		return;
	if (pid > 0) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	if (setsid() < 0 || (pid = fork()) != 0)
		_exit(pid < 0);
	/* nothing of the ssh channel stays open: sshd ends the session */
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
		_exit(1);
	root_lock_say(r, time(NULL), 1);
	fault_point("clone-ahead");
	int rc = fastpush_clone_ahead(r, dest);
	/* before the lock goes with this process: nobody is ahead any more */
	unlinkat(r->workfd, HS_LOCK_INFO, 0);
	_exit(rc < 0);
}

/*
 * The lock is taken: if by a clone made ahead (clone_ahead()), wait for
 * it, as the push would have made the clone itself. Bounded, in case it
 * is stuck (a hung disk): then the push is refused as locked, as before.
 */
static int wait_ahead(struct root *r, time_t now, time_t *since)
{
	char text[64];
	int rc = -EWOULDBLOCK, unsaid = 0;

	for (int i = 0; i < AHEAD_WAIT_MS / 20 && rc == -EWOULDBLOCK; i++) {
		/*
		 * No lock.info: a holder that has not written it yet, or the
		 * clone ahead between removing it and exiting. Either is a
		 * matter of microseconds; a second of it is somebody else
		 * (root's repair), who is waited for no longer.
		 */
		if (root_lock_text(r, text, sizeof(text)) <= 0) {
			if (++unsaid > 50)
				break;
		} else if (!strstr(text, HS_LOCK_AHEAD)) {
			break;
		}
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		rc = root_lock(r, now, since);
	}
	return rc;
}

static int run_push(const struct request *req, const struct serve_opts *o)
{
	struct root r;
	struct argv bases = ARGV_INIT, argv = ARGV_INIT;
	struct strbuf recv = STRBUF_INIT, log = STRBUF_INIT, tmp = STRBUF_INIT, msg = STRBUF_INIT;
	struct strbuf why = STRBUF_INIT;
	struct push_plan plan;
	struct snapmeta m;
	struct acct_conf acct;
	time_t since;
	int rc, code = HS_EXIT_ERROR, interrupted = 0, enospc = 0, ran = 0, published = 0, fast = 0;

	memset(&m, 0, sizeof(m));
	m.start = time(NULL);
	/* first, so that a push refused on the way (locked, no space) still says what it was */
	audit("verdict=allow role=push root=%s dest=%s", o->root, req->dest[0] ? req->dest : ".");
	rc = root_open(o->root, 1, &r);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: cannot open backup root %s: %s\n",
			o->root, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : errno_exit(rc);
	}
	code = r.sealed && geteuid() == 0 ? sealed_root_refused(&r) : account_conf(o, &r, &acct);
	if (code != HS_EXIT_OK) {
		root_close(&r);
		return code;
	}
	code = HS_EXIT_ERROR;
	rc = root_lock(&r, m.start, &since);
	if (rc == -EWOULDBLOCK && r.sealed)
		rc = wait_ahead(&r, m.start, &since);
	if (rc == -EWOULDBLOCK) {
		char when[32] = "an unknown time";
		if (since)
			format_iso_utc(since, when);
		fprintf(stderr, "hindsight-server: backup already in progress since %s; "
			"retry later\n", when);
		audit("result=locked");
		code = HS_EXIT_LOCKED;
		goto out;
	}
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: cannot lock %s: %s\n", r.path, strerror(-rc));
		code = errno_exit(rc);
		goto out;
	}
	fault_point("locked");
	/* a sealed root is repaired by the sealer, which only root can be */
	rc = r.sealed ? 0 : root_repair(&r);
	if (rc < 0) {
		push_says(&why, "cannot repair %s: %s", r.path, strerror(-rc));
		code = errno_exit(rc);
		goto out;
	}
	if (r.sealed && (code = sealer_call(o, &r, NULL, &why)) != HS_EXIT_OK)
		goto out;
	fault_point("repaired");
	code = push_space(&r, o, &acct, &why);
	if (code != HS_EXIT_OK)
		goto out;
	code = HS_EXIT_ERROR;
	fast = fast_eligible(&r, req);
	struct clone_stats cloned = { 0 };
	if (fast) {
		rc = fastpush_prepare(&r, req->dest, &m.resumed, &cloned);
	} else {
		/* the --link-dest way moves what inprogress/ holds into a resume tree */
		if (r.sealed)
			fastpush_set_slow(&r, 0);
		rc = root_prepare_push(&r, req->dest, &m.resumed);
	}
	if (rc < 0) {
		push_says(&why, "cannot prepare %s/" HS_INPROGRESS ": %s", r.path, strerror(-rc));
		code = errno_exit(rc);
		goto out;
	}
	fault_point("prepared");
	if (fast)
		audit("fast=1 cloned_dirs=%llu cloned_links=%llu", cloned.dirs, cloned.links);
	else
		link_bases(&r, req->dest, &bases);
	/* so that no prune meanwhile takes a basis away */
	basis_write(&r, bases.v, bases.n);
	fault_point("basis");
	/* made here so the confined rsync only appends to it */
	int lfd = openat(root_state_fd(&r), TRANSFER_LOG, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
			 O_CLOEXEC, 0600);
	if (lfd >= 0)
		close(lfd);
	/* rsync's temporary files: what a killed push left goes, then a fresh one */
	remove_tree_at(root_state_fd(&r), RSYNC_TMP);
	if (mkdirat(root_state_fd(&r), RSYNC_TMP, 0700) < 0 && errno != EEXIST) {
		int e = errno;
		push_says(&why, "cannot make %s/%s/" RSYNC_TMP ": %s", r.path, root_state_dir(&r),
			  strerror(e));
		code = errno_exit(-e);
		goto out;
	}
	fill_plan(&plan, o, &r, req, &bases, &recv, &log, &tmp, fast);
	build_push_argv(req, &plan, &argv);
	TEST_HOOK_ARGV(&argv);
	audit("resumed=%d", m.resumed);

	/* a fast push has no basis to read: the tree and the temp dir are all it sees */
	struct ll_plan ll = { .role = LL_PUSH, .root = fast ? recv.buf : r.path, .recv = recv.buf,
			      .tmp = tmp.buf, .exec = o->rsync, .no_names = plan.insecure_links };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.keep_fd = r.lockfd;
	so.pre_exec = confine_rsync;
	so.pre_exec_arg = &ll;
	warn_if_no_landlock();
	pid_t pid = spawn_with(o->rsync, argv.v, rsync_envp, &so);
	if (pid < 0) {
		push_says(&why, "cannot start %s: %s", o->rsync, strerror(-pid));
		goto out;
	}
	ran = 1;
	m.rsync_exit = wait_child(pid, &interrupted);
	fault_point("rsync-exited");
	m.end = time(NULL);
	read_transfer_log(&r, &m, &enospc);
	/* empty unless rsync was killed; the next push empties it then */
	unlinkat(root_state_fd(&r), RSYNC_TMP, AT_REMOVEDIR);
	if (fast && !interrupted && !enospc &&
	    (m.rsync_exit == 0 || m.rsync_exit == 23 || m.rsync_exit == 24)) {
		code = fast_verdict(&r, req, &m, &why);
		if (code != HS_EXIT_OK) {
			unlinkat(root_state_fd(&r), TRANSFER_LOG, 0);
			goto out;
		}
		code = HS_EXIT_ERROR;
	}
	unlinkat(root_state_fd(&r), TRANSFER_LOG, 0);
	fault_point("log-read");

	/*
	 * A full disk is never "published with errors", even when rsync went on
	 * past the files it could not write (exit 23): the tree is kept and the
	 * next push, with space, resumes it.
	 */
	if (interrupted || enospc || (m.rsync_exit != 0 && m.rsync_exit != 23 && m.rsync_exit != 24)) {
		code = interrupted ? HS_EXIT_INTERRUPTED : enospc ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
		sb_addf(&msg, "push not completed (rsync exit %d%s); what arrived is kept "
			"and the next push resumes from it", m.rsync_exit,
			enospc ? ", out of space" : interrupted ? ", interrupted" : "");
		push_says(&why, "%s", msg.buf);
		root_log(&r, msg.buf);
		audit("result=incomplete rsync_exit=%d", m.rsync_exit);
		goto out;
	}
	if (r.sealed) {
		/* the sealer publishes, logs and thins: it alone can */
		if ((code = sealer_call(o, &r, &m, &why)) != HS_EXIT_OK)
			goto out;
		audit("result=published name=%s rsync_exit=%d sealed=1", m.name, m.rsync_exit);
	} else {
		rc = root_publish(&r, &m);
		if (rc < 0) {
			push_says(&why, "cannot publish snapshot in %s: %s", r.path, strerror(-rc));
			code = errno_exit(rc);
			goto out;
		}
		sb_addf(&msg, "published %s status=\"%s\" rsync_exit=%d files=%lld bytes=%lld "
			"resumed=%d", m.name, meta_status(&m), m.rsync_exit, m.files, m.bytes,
			m.resumed);
		root_log(&r, msg.buf);
		fault_point("logged");
		audit("result=published name=%s rsync_exit=%d", m.name, m.rsync_exit);
		/* the basis has served: the published snapshot is the newest now */
		basis_clear(&r);
		fault_point("basis-cleared");
		push_retention(&r, &acct);
		fault_point("retention-done");
	}
	published = 1;
	if (m.rsync_exit == 23) {
		push_says(&why, "snapshot %s published with errors (some files could not "
			    "be transferred)", m.name);
		code = HS_EXIT_WARNINGS;
	} else {
		sb_addf(&why, "published %s", m.name);
		code = HS_EXIT_OK;
	}
out:
	if (r.lockfd >= 0) {
		basis_clear(&r);
		record_attempt(&r, &m, code, ran, published, why.buf);
		fault_point("recorded");
		if (published && fast)
			clone_ahead(&r, req->dest);
	}
	sb_release(&why);
	sb_release(&msg);
	sb_release(&recv);
	sb_release(&log);
	sb_release(&tmp);
	argv_clear(&argv);
	argv_clear(&bases);
	root_close(&r);
	return code;
}

#ifdef HS_TEST_HOOKS
/*
 * Test builds only (make O=build-test TEST_HOOKS=1; never installed):
 * HS_TEST_RSYNC replaces the rsync path, and HS_TEST_EXTRA_ARGS (words
 * separated by newlines) goes into rsync's argv just before "--", past the
 * policy, so tests can check that Landlock holds where the allowlist is
 * bypassed.
 */
void test_hook_argv(struct argv *argv)
{
	const char *extra = getenv("HS_TEST_EXTRA_ARGS");
	struct argv out = ARGV_INIT;

	if (!extra || !*extra)
		return;
	for (size_t i = 0; i < argv->n; i++) {
		if (!strcmp(argv->v[i], "--")) {
			for (const char *p = extra; *p;) {
				size_t len = strcspn(p, "\n");
				struct strbuf w = STRBUF_INIT;
				sb_add(&w, p, len);
				argv_push(&out, w.buf);
				sb_release(&w);
				p += len + (p[len] == '\n');
			}
		}
		argv_push(&out, argv->v[i]);
	}
	argv_clear(argv);
	*argv = out;
}
#endif

static int serve_judged(const char *cmd, const struct serve_opts *o_in);

int serve_command(const char *cmd, const struct serve_opts *o)
{
	audit_begin();
	int code = cmd ? serve_judged(cmd, o)
		       : refuse_cmd("no command given: this account only accepts hindsight "
				    "backups (interactive logins are refused)", o->check);
	audit_end(cmd, code);
	return code;
}

static int serve_judged(const char *cmd, const struct serve_opts *o_in)
{
	struct serve_opts o_copy = *o_in;
	const struct serve_opts *o = &o_copy;
#ifdef HS_TEST_HOOKS
	if (getenv("HS_TEST_RSYNC"))
		o_copy.rsync = getenv("HS_TEST_RSYNC");
#endif
	struct argv words = ARGV_INIT;
	struct request req;
	char why[HS_REASON_MAX];
	const char *split_why = NULL;
	int code;

	if (split_command(cmd, &words, &split_why) < 0)
		return refuse_cmd(split_why, o->check);
	if (judge_command(words.n, words.v, &req, why, sizeof(why)) < 0) {
		argv_clear(&words);
		return refuse_cmd(why, o->check);
	}
	if (req.role == ROLE_QUERY && o->push_only) {
		code = refuse_cmd("this key may only push backups (serve --push-only)", o->check);
	} else if (req.role == ROLE_PUSH && o->restore_only) {
		code = refuse_cmd("this key may only restore (serve --restore-only)", o->check);
	} else if (req.role != ROLE_QUERY && rsync_too_old(rsync_probe(o->rsync))) {
		const struct rsync_info *ri = rsync_probe(o->rsync);
		if (ri->found)
			fprintf(stderr, "hindsight-server: rsync %d.%d.%d at %s is too old: "
				"3.4.3 or newer is needed (older ones have known remote "
				"exploits)\n", ri->major, ri->minor, ri->patch, o->rsync);
		else
			fprintf(stderr, "hindsight-server: cannot run %s --help to learn "
				"its version\n", o->rsync);
		audit("verdict=refuse reason=\"rsync too old or missing\"");
		code = HS_EXIT_ERROR;
	} else if (req.role == ROLE_PULL && o->push_only) {
		code = refuse_cmd("this key may only push backups (serve --push-only)", o->check);
	} else if (req.role == ROLE_PULL) {
		code = run_pull(&req, o);
	} else if (o->check) {
		if (req.role == ROLE_PUSH) {
			code = check_push(&req, o);
		} else {
			struct strbuf line = STRBUF_INIT;
			quote_argv(&line, req.query.v, req.query.n);
			printf("allow\nquery %s\n", line.buf);
			sb_release(&line);
			code = HS_EXIT_OK;
		}
	} else if (req.role == ROLE_PUSH) {
		code = req.dry_run ? run_dry_push(&req, o) : run_push(&req, o);
	} else {
		audit("verdict=allow role=query verb=%s", req.query.v[0]);
		code = run_query(req.query.v, req.query.n, o);
	}
	request_free(&req);
	argv_clear(&words);
	return code;
}

static const char serve_usage[] =
	"usage: hindsight-server serve [--root DIR] [--push-only | --restore-only] [--check]\n"
	"                             [--config FILE]\n";

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'c' },
		{ "push-only", no_argument, NULL, 'p' },
		{ "restore-only", no_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct serve_opts o = { .rsync = RSYNC_PATH };
	const char *root = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'c': o.check = 1; break;
		case 'p': o.push_only = 1; break;
		case 'R': o.restore_only = 1; break;
		case 'C': o.config = optarg; break;
		case 'h': fputs(serve_usage, stdout); return HS_EXIT_OK;
		default: fputs(serve_usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc || (o.push_only && o.restore_only)) {
		fputs(serve_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (!root) {
		/* the account's home from the password database, not from $HOME */
		struct passwd *pw = getpwuid(getuid());
		if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/') {
			fprintf(stderr, "hindsight-server: no home directory for uid %u; "
				"give --root\n", (unsigned)getuid());
			return HS_EXIT_NOTFOUND;
		}
		root = pw->pw_dir;
	}
	if (root[0] != '/') {
		fprintf(stderr, "hindsight-server: --root must be an absolute path: %s\n", root);
		return HS_EXIT_USAGE;
	}
	o.root = root;
	return serve_command(getenv("SSH_ORIGINAL_COMMAND"), &o);
}

/*
 * `hindsight-server local HOST WORDS...`: the transport the client gives
 * rsync (-e) for a local destination. rsync runs it as it would run ssh,
 * and we join the words as ssh would, so exactly the serve code runs with
 * no ssh in between. The root comes from HINDSIGHT_ROOT.
 */
int cmd_local(int argc, char **argv)
{
	struct strbuf cmd = STRBUF_INIT;
	struct serve_opts o = { .rsync = RSYNC_PATH };
	int code;

	o.root = getenv("HINDSIGHT_ROOT");
	/* the user's own transport: its environment is the user's to set */
	o.config = getenv("HINDSIGHT_SERVER_CONF");
	if (!o.root || o.root[0] != '/') {
		fprintf(stderr, "hindsight-server: local: HINDSIGHT_ROOT must name an "
			"absolute directory\n");
		return HS_EXIT_USAGE;
	}
	if (argc < 3) {
		fputs("usage: hindsight-server local HOST COMMAND...\n", stderr);
		return HS_EXIT_USAGE;
	}
	int first = 2;
	/* rsync puts "-l USER" before the host for user@host: destinations */
	if (argc > 4 && !strcmp(argv[1], "-l"))
		first = 4;
	for (int i = first; i < argc; i++) {
		if (i > first)
			sb_addch(&cmd, ' ');
		sb_addstr(&cmd, argv[i]);
	}
	code = serve_command(cmd.buf, &o);
	sb_release(&cmd);
	return code;
}
