/*
 * One connection to the sealer (sealer.c forks a child for each): who is
 * calling (SO_PEERCRED, nothing else), which root that makes it the
 * account of (root-owned configuration only), its request (sealproto.h),
 * the seal (sealed.h), one reply line and one syslog line.
 *
 * A caller is refused, and the refusal logged, unless all of this holds:
 *   - it is not root, and its uid has an account with a valid name, in
 *     the group hindsight, whose primary group is its own (same name, no
 *     other member): history is readable by that group;
 *   - server.conf, and every directory above it, is root's and not
 *     writable by group or others (or missing: the defaults);
 *   - the vault owner (vault_user) exists, is not root, not the caller and
 *     not a backup account;
 *   - the base, and every directory above it, is root's and not writable
 *     by group or others, and BASE/NAME is a sealed root: root's, with the
 *     account's group, no write for the group, nothing for others, and
 *     .hindsight/work/ the account's;
 *   - it passed a descriptor of that root's own lock file, and the lock is
 *     held through it or free.
 */
#include "server.h"
#include "accounts.h"
#include "../lib/exitcodes.h"
#include "../lib/prune.h"
#include "../lib/sealed.h"
#include "../lib/sealproto.h"
#include "../lib/srvconf.h"
#include "../lib/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT 10   /* seconds a caller has to send its request */

struct caller {
	struct ucred cred;
	char name[HS_NAME_MAX + 1];
	struct seal_ids ids;
	struct strbuf root;          /* BASE/NAME */
	struct acct_conf conf;
};

struct conn {
	int fd;
	int lockfd;                  /* passed by the caller, or -1 */
	char line[SEAL_REQ_MAX + 1];
	size_t len;
	int extra_fds;               /* more descriptors than one were passed */
};

/* Read one request line and the descriptors beside it. 0, or -1. */
static int read_request(struct conn *c)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 8)];
	} ctl;

	while (c->len < sizeof(c->line) - 1) {
		struct iovec iov = { c->line + c->len, sizeof(c->line) - 1 - c->len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&mh) : NULL; cm;
		     cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
				continue;
			size_t nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < nfd; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
				if (c->lockfd < 0) {
					c->lockfd = fd;
				} else {
					close(fd);
					c->extra_fds = 1;
				}
			}
		}
		if (n <= 0 || (mh.msg_flags & MSG_CTRUNC))
			return -1;
		c->len += (size_t)n;
		if (memchr(c->line, '\n', c->len))
			break;
	}
	c->line[c->len] = '\0';
	return 0;
}

static void reply(struct conn *c, int code, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply(struct conn *c, int code, const char *name, const char *fmt, ...)
{
	struct seal_reply r = { .code = code };
	char buf[SEAL_REPLY_MAX + 1];
	va_list ap;

	if (name)
		snprintf(r.name, sizeof(r.name), "%s", name);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
		va_end(ap);
	}
	int n = sealreply_format(&r, buf, sizeof(buf));
	if (n > 0 && send(c->fd, buf, (size_t)n, MSG_NOSIGNAL) < 0) {
		/* the caller went away: it learns nothing either way */
	}
}

/* Is the account's group its own: same name, nobody else in it? */
static const char *own_group(const struct passwd *pw)
{
	const struct group *gr = getgrgid(pw->pw_gid);

	if (!gr || pw->pw_gid == 0 || strcmp(gr->gr_name, pw->pw_name))
		return "its primary group is not a group of its own (history is readable by "
		       "that group)";
	for (char **m = gr->gr_mem; m && *m; m++)
		if (strcmp(*m, pw->pw_name))
			return "its group has other members, who would read its history";
	return NULL;
}

/* The directory that holds config, and config itself if it exists. */
static int config_trusted(const char *config, char *why, size_t size)
{
	struct stat st;
	int fd, rc;

	if (stat(config, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(why, size, "%s is not a regular file", config);
			return -EPERM;
		}
		rc = open_trusted(config, &fd, why, size);
	} else {
		/* missing: the defaults apply, unless somebody may create it */
		char dir[PATH_MAX];
		const char *slash = strrchr(config, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash && slash != config ? (int)(slash - config) : 1,
			 config);
		rc = open_trusted(dir, &fd, why, size);
		if (rc == -ENOENT)
			return 0;
	}
	if (rc == 0)
		close(fd);
	else if (rc != -EPERM)
		snprintf(why, size, "cannot examine %s: %s", config, strerror(-rc));
	return rc;
}

/*
 * Who the caller is and where its root is. NULL: accepted, c filled in;
 * else why not (also in why). rootfd: the root, checked.
 */
static const char *judge_caller(const char *config, struct caller *c, struct root *r,
				char *why, size_t size)
{
	const struct passwd *pw;
	const char *bad;
	struct srvconf conf;
	struct strbuf err = STRBUF_INIT;
	struct stat st, rst;
	int basefd = -1, rootfd = -1;
	const char *res = why;

	why[0] = '\0';
	if (c->cred.uid == 0)
		return "root needs no sealer (hindsight-server check --repair --root DIR)";
	pw = getpwuid(c->cred.uid);
	if (!pw)
		return "no account has this uid";
	snprintf(c->name, sizeof(c->name), "%s", pw->pw_name);
	if (account_name_check(pw->pw_name))
		return "not a backup account (not a name adduser makes)";
	if (!in_hindsight_group(pw))
		return "not a backup account (not in group " HS_GROUP ")";
	if ((bad = own_group(pw)))
		return bad;
	c->ids.acct = pw->pw_uid;
	c->ids.group = pw->pw_gid;
	if (config_trusted(config, why, size) < 0)
		return why;
	if (srvconf_load(config, &conf, &err) < 0) {
		snprintf(why, size, "%s", err.buf);
		sb_release(&err);
		srvconf_free(&conf);
		return why;
	}
	sb_release(&err);
	const struct passwd *vault = getpwnam(conf.vault_user);
	if (!vault || vault->pw_uid == 0 || vault->pw_uid == c->cred.uid || in_hindsight_group(vault)) {
		snprintf(why, size, "the vault owner %s %s", conf.vault_user,
			 !vault ? "does not exist" : "is root, the caller or a backup account");
		goto out;
	}
	c->ids.vault = vault->pw_uid;
	srvconf_account(&conf, c->name, &c->conf);
	int rc = open_trusted(conf.base, &basefd, why, size);
	if (rc < 0) {
		if (rc != -EPERM)
			snprintf(why, size, "the base %s: %s", conf.base, strerror(-rc));
		goto out;
	}
	sb_addf(&c->root, "%s/%s", conf.base, c->name);
	rootfd = openat(basefd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0 || fstat(rootfd, &st) < 0) {
		snprintf(why, size, "no backup root %s: %s", c->root.buf, strerror(errno));
		goto out;
	}
	if (st.st_uid != 0 || st.st_gid != c->ids.group || (st.st_mode & 027)) {
		snprintf(why, size, "%s is not a sealed root: owner %u:%u, mode %o (wanted root:%s, "
			 "0750)", c->root.buf, (unsigned)st.st_uid, (unsigned)st.st_gid,
			 (unsigned)(st.st_mode & 07777), c->name);
		goto out;
	}
	if (root_open(c->root.buf, 0, r) < 0 || fstat(r->fd, &rst) < 0 ||
	    rst.st_ino != st.st_ino || rst.st_dev != st.st_dev || !r->sealed ||
	    fstat(r->workfd, &st) < 0 || st.st_uid != c->ids.acct) {
		snprintf(why, size, "%s is not a sealed root of %s (no .hindsight/work/ of its own)",
			 c->root.buf, c->name);
		goto out;
	}
	if (fstat(r->metafd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022)) {
		snprintf(why, size, "%s/.hindsight is not root's, or writable by others", c->root.buf);
		goto out;
	}
	res = NULL;
out:
	if (basefd >= 0)
		close(basefd);
	if (rootfd >= 0)
		close(rootfd);
	srvconf_free(&conf);
	return res;
}

/*
 * The push lock, through the caller's descriptor: it must be this root's
 * lock file, and the lock held through it or free (then it is ours now).
 */
static int check_lock(const struct root *r, int passed, char *why, size_t size)
{
	struct stat a, b;
	int own = openat(r->metafd, "lock", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (passed < 0) {
		snprintf(why, size, "no lock descriptor was passed");
		if (own >= 0)
			close(own);
		return HS_EXIT_REFUSED;
	}
	int same = own >= 0 && fstat(own, &a) == 0 && fstat(passed, &b) == 0 &&
		   a.st_dev == b.st_dev && a.st_ino == b.st_ino && S_ISREG(b.st_mode);
	if (own >= 0)
		close(own);
	if (!same) {
		snprintf(why, size, "the descriptor passed is not this root's lock");
		return HS_EXIT_REFUSED;
	}
	if (flock(passed, LOCK_EX | LOCK_NB) < 0) {
		snprintf(why, size, "another push holds the lock: retry later");
		return HS_EXIT_LOCKED;
	}
	return 0;
}

#ifdef HS_TEST_HOOKS
/*
 * Test builds only: HS_TEST_SEAL_PAUSE=STEP (journal, staged, sealed,
 * renamed, current) or walk:N (after N inodes) stops this sealer with
 * SIGSTOP there, after saying so on stderr, for a test to kill -9 it.
 */
static void pause_here(const char *what)
{
	fprintf(stderr, "hindsight-server: sealer: paused at %s, pid %ld\n", what, (long)getpid());
	fflush(stderr);
	raise(SIGSTOP);
}

static void hook_step(void *arg, const char *step)
{
	const char *want = getenv("HS_TEST_SEAL_PAUSE");
	(void)arg;
	if (want && !strcmp(want, step))
		pause_here(step);
}

static void hook_progress(void *arg, unsigned long long n)
{
	const char *want = getenv("HS_TEST_SEAL_PAUSE");
	char here[32];
	(void)arg;
	snprintf(here, sizeof(here), "walk:%llu", n);
	if (want && !strcmp(want, here))
		pause_here(here);
}
#endif

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static int errno_code(int rc)
{
	return rc == -ENOSPC || rc == -EDQUOT ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
}

/* Repair, then seal if asked. Replies; returns the code, *what for the log. */
static int do_seal(struct conn *c, struct caller *who, struct root *r,
		   const struct seal_request *q, struct strbuf *what)
{
	struct seal_opts so = { .ids = who->ids };
	struct seal_steps steps = { NULL, NULL };
	struct seal_result res;
	struct snapmeta m = q->m;
	char why[300];
	int rc, code;

#ifdef HS_TEST_HOOKS
	so.progress = hook_progress;
	steps.step = hook_step;
#endif
	if ((code = check_lock(r, c->lockfd, why, sizeof(why))) != 0) {
		reply(c, code, NULL, "%s", why);
		sb_addf(what, "refused: %s", why);
		return code;
	}
	int sl = openat(r->metafd, HS_SEAL_LOCK, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (sl < 0 || flock(sl, LOCK_EX) < 0) {
		reply(c, HS_EXIT_ERROR, NULL, "cannot take %s/.hindsight/" HS_SEAL_LOCK ": %s",
		      r->path, strerror(errno));
		sb_addf(what, "failed: seal.lock: %s", strerror(errno));
		if (sl >= 0)
			close(sl);
		return HS_EXIT_ERROR;
	}
	rc = sealed_repair(r, &so, &steps, &res);
	if (rc == -EPERM && res.refused)
		sb_addf(what, "discarded an earlier tree (%s); ", res.why);
	else if (rc < 0)
		goto failed;
	if (!q->publish) {
		reply(c, 0, NULL, NULL);
		sb_addstr(what, "repaired");
		close(sl);
		return 0;
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = sealed_publish(r, &so, &steps, &m, &res);
	long seal_ms = ms_since(&t0);
	if (rc == -EPERM && res.refused) {
		reply(c, HS_EXIT_REFUSED, NULL, "the received tree is discarded, not sealed: %s",
		      res.why);
		sb_addf(what, "discarded: %s", res.why);
		close(sl);
		return HS_EXIT_REFUSED;
	}
	if (rc == -ENOENT) {
		reply(c, HS_EXIT_ERROR, NULL, "there is no received tree to seal in %s/" HS_INPROGRESS,
		      r->path);
		sb_addstr(what, "nothing to seal");
		close(sl);
		return HS_EXIT_ERROR;
	}
	if (rc < 0)
		goto failed;
	sb_addf(what, "published %s sealed=%llu kept=%llu xattrs=%llu seal_ms=%ld", m.name,
		res.sealed, res.kept, res.xattrs, seal_ms);
	/* time rules only: what pushes cannot influence (see push_space) */
	push_retention(r, &who->conf);
	reply(c, 0, m.name, NULL);
	close(sl);
	return 0;
failed:
	reply(c, errno_code(rc), NULL, "cannot seal in %s: %s%s%s", r->path, strerror(-rc),
	      res.why[0] ? ": " : "", res.why);
	sb_addf(what, "failed: %s (%s)", strerror(-rc), res.why);
	close(sl);
	return errno_code(rc);
}

void sealer_connection(int fd, const char *config)
{
	struct conn c = { .fd = fd, .lockfd = -1 };
	struct caller who = { .root = STRBUF_INIT };
	struct strbuf what = STRBUF_INIT;
	struct timeval tv = { IO_TIMEOUT, 0 };
	struct seal_request q;
	struct root r;
	socklen_t len = sizeof(who.cred);
	const char *bad = NULL, *qwhy;
	char why[300];
	int code = HS_EXIT_REFUSED;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	root_init(&r);
	umask(022);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &who.cred, &len) < 0) {
		syslog(LOG_ERR, "sealer: cannot learn who is calling: %m");
		return;
	}
	if (read_request(&c) < 0)
		bad = "no request line (timed out, or not one line)";
	else if (sealreq_parse(c.line, c.len, &q, &qwhy) < 0)
		bad = qwhy;
	else if (c.extra_fds)
		bad = "more than one descriptor passed";
	else if ((bad = judge_caller(config, &who, &r, why, sizeof(why))) == NULL &&
		 q.publish && q.m.start > time(NULL) + 60)
		bad = "the push started in the future";
	if (bad) {
		reply(&c, HS_EXIT_REFUSED, NULL, "refused: %s", bad);
		syslog(LOG_WARNING, "sealer: refused uid=%u pid=%ld account=%s: %.300s",
		       (unsigned)who.cred.uid, (long)who.cred.pid, who.name[0] ? who.name : "?", bad);
	} else {
		code = do_seal(&c, &who, &r, &q, &what);
		syslog(code ? LOG_NOTICE : LOG_INFO, "sealer: uid=%u account=%s root=%s request=%s "
		       "exit=%d duration_ms=%ld %.600s", (unsigned)who.cred.uid, who.name, r.path,
		       q.publish ? "seal+publish" : "seal", code, ms_since(&t0), what.buf);
	}
	if (c.lockfd >= 0)
		close(c.lockfd);
	root_close(&r);
	sb_release(&who.root);
	sb_release(&what);
}
