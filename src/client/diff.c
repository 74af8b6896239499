/*
 * `hindsight diff [A [B]] [PATH]`: what changed between two snapshots, one
 * line per path: "+" added, "-" removed, "M" modified (a new inode: data or
 * attributes changed; for a directory, its mode or owner). The server
 * decides from inodes and metadata and never reads file contents.
 *
 * A and B are times (timespec.h); without them, the two newest snapshots;
 * with A only, B is the newest. An argument that starts with '/' or '.',
 * or names something that exists here, is the PATH; otherwise a time.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/snapname.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char diff_usage[] =
	"usage: hindsight diff [--repo REPO] [--ssh CMD] [--config FILE] [--json] [A [B]] [PATH]\n";

static int looks_like_path(const char *arg)
{
	struct stat st;

	return arg[0] == '/' || arg[0] == '.' || lstat(arg, &st) == 0;
}

int diff_line(json_t *change, struct strbuf *out)
{
	const char *op = json_string_value(json_object_get(change, "op"));
	const char *type = json_string_value(json_object_get(change, "type"));
	struct strbuf raw = STRBUF_INIT;

	if (!op || answer_name(change, "path", &raw) < 0) {
		sb_release(&raw);
		return -1;
	}
	sb_addf(out, "%s /", op);
	show_name(out, raw.buf, raw.len);
	if (type && !strcmp(type, "dir"))
		sb_addch(out, '/');
	sb_release(&raw);
	return 0;
}

static int render(json_t *top)
{
	json_t *changes = json_object_get(top, "changes"), *c;
	struct strbuf line = STRBUF_INIT;
	size_t i;

	if (!json_is_array(changes)) {
		fputs("hindsight: the server's answer is not a protocol 1 diff\n", stderr);
		return HS_EXIT_ERROR;
	}
	json_array_foreach(changes, i, c) {
		sb_reset(&line);
		if (diff_line(c, &line) == 0)
			puts(line.buf);
	}
	sb_release(&line);
	return fflush(stdout) == 0 ? HS_EXIT_OK : HS_EXIT_ERROR;
}

/* The two newest snapshots, said on stderr as pick_snapshot() would. */
static int two_newest(const struct repo *r, char a[SNAPNAME_SIZE], char b[SNAPNAME_SIZE])
{
	struct snaplist l;
	int code = fetch_snapshots(r, &l);

	if (code != HS_EXIT_OK)
		return code;
	if (l.n < 2) {
		fprintf(stderr, "hindsight: diff needs two snapshots, and there %s %zu\n",
			l.n == 1 ? "is" : "are", l.n);
		snaplist_free(&l);
		return HS_EXIT_NOTFOUND;
	}
	memcpy(a, l.names[l.n - 2], SNAPNAME_SIZE);
	memcpy(b, l.names[l.n - 1], SNAPNAME_SIZE);
	snaplist_free(&l);
	for (int k = 0; k < 2; k++) {
		time_t t;
		char local[40] = "?";
		const char *n = k ? b : a;
		if (snapname_parse(n, &t) == 0)
			format_local(t, "%Y-%m-%d %H:%M:%S %Z", local, sizeof(local));
		fprintf(stderr, "hindsight: snapshot %s (%s)\n", n, local);
	}
	return HS_EXIT_OK;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	const char *times[2] = { NULL, NULL };
	const char *local_path = NULL;
	int json = 0, c, code, ntimes;
	struct repo repo;
	struct strbuf path = STRBUF_INIT;
	char a[SNAPNAME_SIZE], b[SNAPNAME_SIZE];
	json_t *answer = NULL;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(diff_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(diff_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	ntimes = argc - optind;
	if (ntimes > 0 && looks_like_path(argv[argc - 1])) {
		local_path = argv[argc - 1];
		ntimes--;
	}
	if (ntimes > 2) {
		fputs(diff_usage, stderr);
		return HS_EXIT_USAGE;
	}
	for (int i = 0; i < ntimes; i++)
		times[i] = argv[optind + i];
	if (local_path) {
		char *rel = snapshot_path(local_path);
		if (!rel) {
			fputs("hindsight: cannot find the current directory\n", stderr);
			return HS_EXIT_ERROR;
		}
		sb_addf(&path, "/%s", rel);
		free(rel);
	}
	if ((code = common_repo(&co, &repo, 1)) != 0)
		goto out;
	if (ntimes == 0)
		code = two_newest(&repo, a, b);
	else if ((code = pick_snapshot(&repo, times[0], a)) == 0)
		code = pick_snapshot(&repo, times[1], b);   /* NULL: the newest */
	if (code == HS_EXIT_OK) {
		char *words[] = { "diff", a, b, path.buf };
		code = ask(&repo, words, local_path ? 4 : 3, json, &answer);
		if (code == HS_EXIT_OK && answer)
			code = render(answer);
		json_decref(answer);
	}
	repo_free(&repo);
	common_free(&co);
out:
	sb_release(&path);
	return code;
}
