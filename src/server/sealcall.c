/*
 * serve's side of a sealed root: one request to the sealer over its UNIX
 * socket (sealproto.h), with our descriptor of the push lock beside it, and
 * one reply line. The sealer knows us by our uid alone; we tell it nothing
 * but the figures of a push.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/sealproto.h"
#include "../lib/srvconf.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sealed_root_refused(const struct root *r)
{
	fprintf(stderr, "hindsight-server: refused: %s is a sealed root: only its own account "
		"pushes to it, and only the sealer writes its history\n", r->path);
	audit("verdict=refuse reason=\"root pushing to a sealed root\"");
	return HS_EXIT_REFUSED;
}

/* The socket named in server.conf (the account may read it; root owns it). */
static int socket_path(const struct serve_opts *o, struct sockaddr_un *sa)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;
	int rc = 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (srvconf_load(o->config, &c, &err) < 0) {
		fprintf(stderr, "hindsight-server: bad server configuration: %s\n", err.buf);
		rc = -1;
	} else if (strlcpy_chk(sa->sun_path, c.sealer_socket, sizeof(sa->sun_path)) < 0) {
		rc = -1;
	}
	srvconf_free(&c);
	sb_release(&err);
	return rc;
}

static int send_request(int fd, const char *line, size_t len, int lockfd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = { (void *)line, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(&ctl, 0, sizeof(ctl));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &lockfd, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)len ? 0 : -1;
}

/* One line, at most SEAL_REPLY_MAX bytes. Its length, or -1. */
static ssize_t read_reply(int fd, char *buf)
{
	size_t len = 0;

	while (len < SEAL_REPLY_MAX) {
		ssize_t n = read(fd, buf + len, SEAL_REPLY_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
		const char *nl = memchr(buf, '\n', len);
		if (nl)
			return nl - buf + 1;
	}
	return -1;
}

#ifdef HS_TEST_HOOKS
/*
 * Test builds only: HS_TEST_SEAL_GATE=DIR makes serve, holding a received
 * tree and before asking the sealer to seal it, create DIR/ready and wait
 * (at most 60 s) for DIR/go, so that a test can act as the account right
 * there, between rsync's end and the seal.
 */
static void seal_gate(void)
{
	const char *dir = getenv("HS_TEST_SEAL_GATE");
	char path[4096];

	if (!dir || snprintf(path, sizeof(path), "%s/ready", dir) >= (int)sizeof(path))
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/go", dir);
	for (int i = 0; i < 600 && access(path, F_OK) < 0; i++)
		usleep(100000);
	snprintf(path, sizeof(path), "%s/ready", dir);
	unlink(path);
}
#endif

/* A failure of the seal: on stderr, and kept in why (may be NULL) for last_push.json. */
__attribute__((format(printf, 2, 3)))
static void seal_says(struct strbuf *why, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	fprintf(stderr, "hindsight-server: %s\n", sb.buf);
	if (why) {
		sb_reset(why);
		sb_addf(why, "%s", sb.buf);
	}
	sb_release(&sb);
}

int sealer_call(const struct serve_opts *o, const struct root *r, struct snapmeta *m,
		struct strbuf *why)
{
#ifdef HS_TEST_HOOKS
	if (m)
		seal_gate();
#endif
	struct seal_request q = { .publish = m != NULL };
	struct seal_reply rep;
	struct sockaddr_un sa;
	char line[SEAL_REQ_MAX + 1], reply[SEAL_REPLY_MAX];
	int fd, len;

	if (m)
		q.m = *m;
	if (socket_path(o, &sa) < 0)
		return HS_EXIT_ERROR;
	len = sealreq_format(&q, line, sizeof(line));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || len < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		seal_says(why, "%s is a sealed root, and the sealer at %s cannot be reached: %s "
			  "(ask the server's admin: systemctl status hindsight-sealer.socket)",
			  r->path, sa.sun_path, strerror(errno));
		audit("result=no_sealer");
		if (fd >= 0)
			close(fd);
		return HS_EXIT_ERROR;
	}
	ssize_t got = send_request(fd, line, (size_t)len, r->lockfd) < 0 ? -1 : read_reply(fd, reply);
	close(fd);
	if (got < 0 || sealreply_parse(reply, (size_t)got, &rep) < 0) {
		seal_says(why, "the sealer gave no answer (it died?): %s",
			  m ? "nothing was published; the next push finishes or discards the seal"
			    : "nothing was pushed");
		audit("result=sealer_failed");
		return HS_EXIT_ERROR;
	}
	if (rep.code) {
		seal_says(why, "the sealer refused: %s", rep.msg);
		audit("result=seal_refused code=%d", rep.code);
		return rep.code;
	}
	if (m) {
		if (!rep.name[0]) {
			seal_says(why, "the sealer published nothing");
			return HS_EXIT_ERROR;
		}
		memcpy(m->name, rep.name, SNAPNAME_SIZE);
	}
	return HS_EXIT_OK;
}
