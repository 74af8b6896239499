/*
 * Restores: rsync's sender role. The policy (policy.c) has checked the
 * options and the shape of every path; here each path is found in the
 * snapshot one component at a time without following a symlink, and the
 * snapshot is pinned: rsync runs with its cwd on the snapshot's directory
 * fd, reads paths relative to it, and is confined to it. A prune or a
 * repointed `current` after this check cannot change what it reads.
 */
#include "server.h"
#include "../lib/cmdsplit.h"
#include "../lib/exitcodes.h"
#include "../lib/landlock.h"
#include "../lib/policy.h"
#include "../lib/root.h"
#include "../lib/snappath.h"
#include "../lib/spawn.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Check one source below the pinned snapshot. Returns 0, or an exit code
 * after printing why (10 for a missing path, 12 for a refused one).
 */
static int pin_source(int snapfd, const char *name, const char *rest, int check)
{
	char why[HS_REASON_MAX + 64];
	char *norm = NULL;
	size_t len = strlen(rest);
	int trailing = len && rest[len - 1] == '/';
	int rc = snap_normalise(rest, &norm);

	if (rc < 0) {
		snprintf(why, sizeof(why), "bad restore path %.64s", rest);
		return refuse_cmd(why, check);
	}
	int fd = snap_open_beneath(snapfd, norm);
	if (fd == -ENOENT) {
		say_missing(check, "no %.900s in snapshot %s", *norm ? norm : ".", name);
		free(norm);
		return HS_EXIT_NOTFOUND;
	}
	if (fd < 0) {
		snprintf(why, sizeof(why), "restore path %.200s crosses a symlink or a "
			 "non-directory (%s)", norm, strerror(-fd));
		free(norm);
		return refuse_cmd(why, check);
	}
	struct stat st;
	rc = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0 && trailing && !S_ISDIR(st.st_mode)) {
		/* "link/" would make rsync follow the symlink */
		snprintf(why, sizeof(why), "restore path %.200s/ is not a directory", norm);
		free(norm);
		return refuse_cmd(why, check);
	}
	free(norm);
	return rc < 0 ? HS_EXIT_ERROR : HS_EXIT_OK;
}

int run_pull(const struct request *req, const struct serve_opts *o)
{
	struct root r;
	struct argv argv = ARGV_INIT, args = ARGV_INIT;
	struct strbuf snapdir = STRBUF_INIT;
	char name[SNAPNAME_SIZE];
	int rc, snapfd = -1, code = HS_EXIT_ERROR, interrupted = 0;

	rc = root_open(o->root, 0, &r);
	if (rc < 0) {
		say_missing(o->check, "no backup root at %s: %s", o->root, strerror(-rc));
		return rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	rc = snap_resolve(r.fd, req->src_snap.v[0], name);
	if (rc < 0) {
		say_missing(o->check, "no snapshot %s", req->src_snap.v[0]);
		code = HS_EXIT_NOTFOUND;
		goto out;
	}
	snapfd = openat(r.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (snapfd < 0) {
		fprintf(stderr, "hindsight-server: cannot open snapshot %s: %s\n", name,
			strerror(errno));
		code = errno == ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < req->src_rest.n; i++) {
		const char *rest = req->src_rest.v[i];
		code = pin_source(snapfd, name, rest, o->check);
		if (code != HS_EXIT_OK)
			goto out;
		argv_push(&args, *rest ? rest : ".");
	}
	sb_addf(&snapdir, "%s/%s", r.path, name);
	struct pull_plan plan = {
		.rsync_path = o->rsync,
		.snapdir = snapdir.buf,
		.args = args.v,
		.n_args = args.n,
		.fake_super = geteuid() != 0,
		.confine_root = rsync_probe(o->rsync)->confine_root,
	};
	build_pull_argv(req, &plan, &argv);
	if (o->check) {
		struct strbuf line = STRBUF_INIT;
		quote_argv(&line, argv.v, argv.n);
		printf("allow\n%s\nin %s\n", line.buf, snapdir.buf);
		sb_release(&line);
		code = HS_EXIT_OK;
		goto out;
	}
	TEST_HOOK_ARGV(&argv);
	audit("verdict=allow role=restore root=%s snapshot=%s paths=%zu", r.path, name, args.n);
	struct ll_plan ll = { .role = LL_PULL, .snapdir = snapdir.buf, .exec = o->rsync };
	struct spawn_opts so = SPAWN_OPTS_INIT;
	so.cwd_fd = snapfd;
	so.pre_exec = confine_rsync;
	so.pre_exec_arg = &ll;
	warn_if_no_landlock();
	pid_t pid = spawn_with(o->rsync, argv.v, rsync_envp, &so);
	if (pid < 0) {
		fprintf(stderr, "hindsight-server: cannot start %s: %s\n", o->rsync, strerror(-pid));
		goto out;
	}
	int st = wait_child(pid, &interrupted);
	audit("result=done rsync_exit=%d", st);
	if (interrupted)
		code = HS_EXIT_INTERRUPTED;
	else if (st == 0)
		code = HS_EXIT_OK;
	else if (st == 23 || st == 24)
		code = HS_EXIT_WARNINGS;
	else
		code = HS_EXIT_ERROR;
out:
	if (snapfd >= 0)
		close(snapfd);
	sb_release(&snapdir);
	argv_clear(&argv);
	argv_clear(&args);
	root_close(&r);
	return code;
}
