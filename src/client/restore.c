/*
 * `hindsight restore PATH... [--at T] [--to DIR] [--overwrite] [--dry-run]`
 *
 * Each PATH comes back from one snapshot (latest, or the one --at names).
 * By default it lands next to the original as NAME.restored-SNAPSHOT, or as
 * DIR/NAME with --to. rsync writes into a private staging directory beside
 * the target, and the result is renamed into place with RENAME_NOREPLACE,
 * so an existing file is never replaced, even one that appears while we
 * run. --overwrite replaces a file, or restores a directory's contents
 * over the existing one (files not in the snapshot are left alone).
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/snapname.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char restore_usage[] =
	"usage: hindsight restore [--at TIME] [--to DIR] [--overwrite] [-n|--dry-run]\n"
	"                         [--repo REPO] [--ssh CMD] [--config FILE] PATH...\n";

/* Split "/a/b/c" into "/a/b" and "c" (new strings). */
static void split_path(const char *abs, char **dir, char **base)
{
	const char *slash = strrchr(abs, '/');
	size_t dlen = slash && slash != abs ? (size_t)(slash - abs) : 1;

	*dir = xmalloc(dlen + 1);
	memcpy(*dir, slash && slash != abs ? abs : "/", dlen);
	(*dir)[dlen] = '\0';
	*base = xstrdup(slash ? slash + 1 : abs);
}

static void rsync_args(struct argv *a, const struct restore_opts *o)
{
	argv_push(a, "-aAXHS");
	argv_push(a, "--numeric-ids");
	if (o->dry_run) {
		argv_push(a, "--dry-run");
		argv_push(a, "-i");
	}
	if (o->progress && !o->dry_run)
		argv_push(a, "--info=progress2");
	argv_push(a, "--");
}

void restore_default_target(const char *rel, const char *name, struct strbuf *out)
{
	sb_addf(out, "/%s.restored-%s", rel, name);
}

int restore_one(const struct repo *r, const char *name, const char *rel,
		const char *target, const struct restore_opts *o)
{
	struct argv a = ARGV_INIT;
	struct strbuf src = STRBUF_INIT, staging = STRBUF_INIT, staged = STRBUF_INIT;
	char *dir, *base, *spec = NULL;
	struct stat st;
	struct stat tst;
	int code, exists = lstat(target, &tst) == 0;

	split_path(target, &dir, &base);
	/* a dry run does not create --to DIR; rsync -n copes with its absence */
	if (!(o->dry_run && o->to) && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "hindsight: cannot restore to %s: %s is not a directory "
			"(restore it first, or use --to DIR)\n", target, dir);
		code = HS_EXIT_NOTFOUND;
		goto out;
	}
	if (exists && !o->overwrite) {
		fprintf(stderr, "hindsight: %s exists; not replacing it (use --overwrite, "
			"or --to DIR)\n", target);
		code = HS_EXIT_ERROR;
		goto out;
	}
	sb_addf(&src, "%s/%s", name, rel);
	int is_dir_overwrite = exists && o->overwrite && S_ISDIR(tst.st_mode);
	if (o->dry_run) {
		/* rsync -n into a directory that does not exist lists everything
		 * the real run would write; it creates nothing */
		rsync_args(&a, o);
		spec = repo_rsync_spec(r, src.buf);
		argv_push(&a, spec);
		argv_pushf(&a, "%s/.hindsight-restore-dry-run/", strcmp(dir, "/") ? dir : "");
		code = run_rsync(r, a.v, a.n);
		if (code == HS_EXIT_OK)
			fprintf(stderr, "hindsight: would restore /%s as %s\n", rel, target);
		goto out;
	}
	if (is_dir_overwrite) {
		/* a directory restored over itself is merged file by file */
		sb_addch(&src, '/');
		rsync_args(&a, o);
		spec = repo_rsync_spec(r, src.buf);
		argv_push(&a, spec);
		argv_pushf(&a, "%s/", target);
		code = run_rsync(r, a.v, a.n);
		goto out;
	}
	sb_addf(&staging, "%s/.hindsight-restore.XXXXXX", strcmp(dir, "/") ? dir : "");
	if (!mkdtemp(staging.buf)) {
		fprintf(stderr, "hindsight: cannot create a staging directory in %s: %s\n",
			dir, strerror(errno));
		code = errno == ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
		goto out;
	}
	rsync_args(&a, o);
	spec = repo_rsync_spec(r, src.buf);
	argv_push(&a, spec);
	argv_pushf(&a, "%s/", staging.buf);
	code = run_rsync(r, a.v, a.n);
	const char *slash = strrchr(rel, '/');
	sb_addf(&staged, "%s/%s", staging.buf, slash ? slash + 1 : rel);
	if (code == HS_EXIT_OK || code == HS_EXIT_WARNINGS) {
		unsigned flags = o->overwrite ? 0 : RENAME_NOREPLACE;
		if (renameat2(AT_FDCWD, staged.buf, AT_FDCWD, target, flags) < 0) {
			fprintf(stderr, "hindsight: cannot move the restored %s into place as %s: %s\n",
				rel, target, strerror(errno));
			code = HS_EXIT_ERROR;
		}
	}
	/* whatever did not make it into place goes; the staging dir was ours */
	remove_tree_at(AT_FDCWD, staging.buf);
out:
	free(spec);
	free(dir);
	free(base);
	sb_release(&src);
	sb_release(&staging);
	sb_release(&staged);
	argv_clear(&a);
	return code;
}

/*
 * Is rel in snapshot name? Asked before rsync starts, so a missing path
 * gets one clear line instead of rsync's protocol noise, and the
 * snapshots that do have it are named. Returns 0 or an exit code.
 */
static int check_in_snapshot(const struct repo *r, const char *name, const char *rel)
{
	char *ls[] = { "ls", (char *)name, (char *)rel };
	char *vw[] = { "versions", (char *)rel };
	const char *before = NULL, *after = NULL;
	json_t *a = NULL, *v = NULL, *ver;
	size_t i;
	int code = ask(r, ls, 3, 0, &a);

	json_decref(a);
	if (code != HS_EXIT_NOTFOUND)
		return code;
	if (ask(r, vw, 2, 0, &v) == HS_EXIT_OK) {
		json_array_foreach(json_object_get(v, "versions"), i, ver) {
			const char *first = json_string_value(json_object_get(ver, "first"));
			const char *last = json_string_value(json_object_get(ver, "last"));
			if (last && strcmp(last, name) < 0 && (!before || strcmp(last, before) > 0))
				before = last;
			if (first && strcmp(first, name) > 0 && (!after || strcmp(first, after) < 0))
				after = first;
		}
		if (before)
			fprintf(stderr, "hindsight: /%s was last in snapshot %s (try --at %s)\n",
				rel, before, before);
		if (after)
			fprintf(stderr, "hindsight: /%s is next in snapshot %s\n", rel, after);
	}
	json_decref(v);
	return HS_EXIT_NOTFOUND;
}

int cmd_restore(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "at", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 't' },
		{ "overwrite", no_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	const char *at = NULL;
	struct restore_opts o = { 0 };
	struct repo repo;
	char name[SNAPNAME_SIZE];
	char *to_abs = NULL;
	int c, code;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "n", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 't': o.to = optarg; break;
		case 'o': o.overwrite = 1; break;
		case 'n': o.dry_run = 1; break;
		case 'h': fputs(restore_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(restore_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("hindsight: restore: name at least one PATH\n", stderr);
		fputs(restore_usage, stderr);
		return HS_EXIT_USAGE;
	}
	o.progress = isatty(1);   /* rsync draws its progress on stdout */
	if ((code = common_repo(&co, &repo, 0)) != 0)
		return code;
	if ((code = pick_snapshot(&repo, at, name)) != 0)
		goto out;
	if (o.to) {
		char *rel = snapshot_path(o.to);
		if (!rel) {
			code = HS_EXIT_ERROR;
			goto out;
		}
		struct strbuf sb = STRBUF_INIT;
		sb_addf(&sb, "/%s", rel);
		free(rel);
		to_abs = sb_detach(&sb);
		if (!o.dry_run && mkdir_p(to_abs, 0755) < 0) {
			fprintf(stderr, "hindsight: cannot create %s: %s\n", to_abs, strerror(errno));
			code = HS_EXIT_ERROR;
			goto out;
		}
	}
	for (int i = optind; i < argc; i++) {
		char *rel = snapshot_path(argv[i]);
		struct strbuf target = STRBUF_INIT;
		int one;

		if (!rel || !*rel) {
			fprintf(stderr, "hindsight: restore: name a file or directory, not %s\n",
				argv[i]);
			free(rel);
			code = HS_EXIT_USAGE;
			continue;
		}
		const char *slash = strrchr(rel, '/');
		const char *base = slash ? slash + 1 : rel;
		if (to_abs)
			sb_addf(&target, "%s/%s", strcmp(to_abs, "/") ? to_abs : "", base);
		else if (o.overwrite)
			sb_addf(&target, "/%s", rel);
		else
			restore_default_target(rel, name, &target);
		one = check_in_snapshot(&repo, name, rel);
		if (one == HS_EXIT_OK)
			one = restore_one(&repo, name, rel, target.buf, &o);
		if (one == HS_EXIT_OK && !o.dry_run)
			fprintf(stderr, "hindsight: restored /%s as %s\n", rel, target.buf);
		else if (one != HS_EXIT_OK)
			fprintf(stderr, "hindsight: restore of /%s %s (exit %d)\n", rel,
				one == HS_EXIT_WARNINGS ? "completed with warnings" : "failed", one);
		if (one != HS_EXIT_OK && (code == HS_EXIT_OK || code == HS_EXIT_WARNINGS))
			code = one;
		free(rel);
		sb_release(&target);
	}
out:
	free(to_abs);
	repo_free(&repo);
	common_free(&co);
	return code;
}
