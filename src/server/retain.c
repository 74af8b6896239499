/*
 * Retention and space around a push (serve.c): the account's settings from
 * server.conf, room made before rsync starts, thinning after a publish.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/fault.h"
#include "../lib/prune.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int account_conf(const struct serve_opts *o, const struct root *r, struct acct_conf *out)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;
	char name[64];

	if (srvconf_load(o->config, &c, &err) < 0) {
		fprintf(stderr, "hindsight-server: bad server configuration: %s (ask the server's "
			"admin to run `hindsight-server check`)\n", err.buf);
		audit("result=bad_config");
		srvconf_free(&c);
		sb_release(&err);
		return HS_EXIT_ERROR;
	}
	srvconf_account_of(r->fd, r->path, name, sizeof(name));
	srvconf_account(&c, name, out);
	srvconf_free(&c);
	sb_release(&err);
	return HS_EXIT_OK;
}

int push_space(const struct root *r, const struct serve_opts *o, const struct acct_conf *a,
	       struct strbuf *why)
{
	struct space_report rep;
	int code = HS_EXIT_OK;

	(void)o;
	if (r->sealed) {
		/* nothing is deleted to make room in a sealed root: code running as
		 * the account could otherwise fill the disk to thin history */
		space_measure(r, a, &rep);
		if (!rep.short_of)
			return HS_EXIT_OK;
		struct strbuf msg = STRBUF_INIT;
		space_explain(r, a, &rep, &msg);
		sb_addf(why, "%s (a sealed root: history is never deleted to make room for a "
			"push)", msg.buf);
		fprintf(stderr, "hindsight-server: %s\n", why->buf);
		audit("result=no_space sealed=1");
		sb_release(&msg);
		return HS_EXIT_NOSPACE;
	}
	/* waits for an admin's prune: it is freeing space too */
	int plfd = prune_lock(r, 1);
	if (plfd < 0) {
		sb_addf(why, "cannot lock %s for pruning: %s", r->path, strerror(-plfd));
		fprintf(stderr, "hindsight-server: %s\n", why->buf);
		return HS_EXIT_ERROR;
	}
	/* a deletion that was interrupted finishes first */
	trash_empty(r, 0, NULL);
	int rc = space_ensure(r, a, &rep);
	if (rc < 0) {
		sb_addf(why, "cannot free space in %s: %s", r->path, strerror(-rc));
		fprintf(stderr, "hindsight-server: %s\n", why->buf);
		code = rc == -ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
	} else if (rep.short_of) {
		struct strbuf msg = STRBUF_INIT;
		space_explain(r, a, &rep, &msg);
		sb_addstr(why, msg.buf);
		fprintf(stderr, "hindsight-server: %s\n", msg.buf);
		root_log(r, msg.buf);
		audit("result=no_space freed=%d", rep.freed.snapshots);
		sb_release(&msg);
		code = HS_EXIT_NOSPACE;
	} else if (rep.freed.snapshots) {
		audit("freed_for_space=%d", rep.freed.snapshots);
	}
	close(plfd);
	return code;
}

void push_retention(const struct root *r, const struct acct_conf *a)
{
	struct prune_plan plan;
	struct freed f = { 0, 0, 0 };

	/* an admin's prune running now does the same job */
	int plfd = prune_lock(r, 0);
	if (plfd < 0)
		return;
	fault_point("retention");
	if (prune_plan(r, &a->keep, time(NULL), &plan) == 0) {
		if (prune_apply(r, &plan, &f) < 0)
			fprintf(stderr, "hindsight-server: warning: some snapshots could not be "
				"pruned (see %s/.hindsight/log)\n", r->path);
		if (f.snapshots)
			audit("pruned=%d", f.snapshots);
		prune_plan_free(&plan);
	}
	close(plfd);
}
