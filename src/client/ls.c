/*
 * `hindsight ls [--at T] [PATH]`: a directory (or one file) as a snapshot
 * holds it, in the style of ls -l: mode, owner and group (numbers, as the
 * server stored them), size, mtime, name, and "-> target" for symlinks.
 * Names are shown in the display form of names.h: never a raw control
 * character, and invalid UTF-8 as \xNN.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/history.h"
#include "../lib/snapname.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char ls_usage[] =
	"usage: hindsight ls [--at TIME] [--repo REPO] [--ssh CMD] [--config FILE] [--json] [PATH]\n";

/* One line's columns, formatted, before the widths are known. */
struct row {
	char mode[11];
	char uid[16], gid[16], size[32], mtime[32];
	struct strbuf name;
};

static void fill_row(json_t *e, const char *shown_as, struct row *r)
{
	const char *type = json_string_value(json_object_get(e, "type"));
	const char *m = json_string_value(json_object_get(e, "mode"));
	mode_t mode = ftype_from_name(type) | (m ? (mode_t)strtoul(m, NULL, 8) & 07777 : 0);
	struct strbuf raw = STRBUF_INIT;

	mode_string(mode, r->mode);
	snprintf(r->uid, sizeof(r->uid), "%lld", json_integer_value(json_object_get(e, "uid")));
	snprintf(r->gid, sizeof(r->gid), "%lld", json_integer_value(json_object_get(e, "gid")));
	if (S_ISCHR(mode) || S_ISBLK(mode))
		snprintf(r->size, sizeof(r->size), "%lld, %lld",
			 json_integer_value(json_object_get(e, "major")),
			 json_integer_value(json_object_get(e, "minor")));
	else
		snprintf(r->size, sizeof(r->size), "%lld",
			 json_integer_value(json_object_get(e, "size")));
	format_local(json_integer_value(json_object_get(e, "mtime")), "%Y-%m-%d %H:%M",
		     r->mtime, sizeof(r->mtime));
	sb_init(&r->name);
	if (shown_as)
		sb_addstr(&r->name, shown_as);
	else if (answer_name(e, "name", &raw) == 0)
		show_name(&r->name, raw.buf, raw.len);
	else
		sb_addstr(&r->name, "?");
	sb_reset(&raw);
	if (S_ISLNK(mode) && answer_name(e, "target", &raw) == 0) {
		sb_addstr(&r->name, " -> ");
		show_name(&r->name, raw.buf, raw.len);
	}
	sb_release(&raw);
}

static int render(json_t *top, const char *abs_shown)
{
	json_t *entries = json_object_get(top, "entries"), *e;
	const char *type = json_string_value(json_object_get(top, "type"));
	int is_dir = type && !strcmp(type, "dir");
	size_t i, n, wu = 0, wg = 0, ws = 0;
	struct row *rows;

	if (!json_is_array(entries)) {
		fputs("hindsight: the server's answer is not a protocol 1 ls\n", stderr);
		return HS_EXIT_ERROR;
	}
	n = json_array_size(entries);
	rows = xcalloc(n ? n : 1, sizeof(*rows));
	json_array_foreach(entries, i, e) {
		/* a file is shown by the path it was asked as, as ls -l does */
		fill_row(e, is_dir ? NULL : abs_shown, &rows[i]);
		wu = strlen(rows[i].uid) > wu ? strlen(rows[i].uid) : wu;
		wg = strlen(rows[i].gid) > wg ? strlen(rows[i].gid) : wg;
		ws = strlen(rows[i].size) > ws ? strlen(rows[i].size) : ws;
	}
	for (i = 0; i < n; i++) {
		printf("%s  %*s  %*s  %*s  %s  %s\n", rows[i].mode, (int)wu, rows[i].uid,
		       (int)wg, rows[i].gid, (int)ws, rows[i].size, rows[i].mtime,
		       rows[i].name.buf);
		sb_release(&rows[i].name);
	}
	free(rows);
	return HS_EXIT_OK;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "at", required_argument, NULL, 'a' },
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	const char *at = NULL;
	int json = 0, c, code;
	struct repo repo;
	struct strbuf path = STRBUF_INIT, shown = STRBUF_INIT;
	char name[SNAPNAME_SIZE];
	json_t *answer = NULL;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': at = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(ls_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(ls_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 < argc) {
		fputs(ls_usage, stderr);
		return HS_EXIT_USAGE;
	}
	/* the default is the top of the snapshot, not the current directory */
	char *rel = snapshot_path(optind < argc ? argv[optind] : "/");
	if (!rel) {
		fputs("hindsight: cannot find the current directory\n", stderr);
		return HS_EXIT_ERROR;
	}
	sb_addf(&path, "/%s", rel);
	show_name(&shown, path.buf, path.len);
	free(rel);
	if ((code = common_repo(&co, &repo, 1)) != 0)
		goto out;
	if ((code = pick_snapshot(&repo, at, name)) != 0)
		goto out_repo;
	char *words[] = { "ls", name, path.buf };
	code = ask(&repo, words, 3, json, &answer);
	if (code == HS_EXIT_OK && answer)
		code = render(answer, shown.buf);
	json_decref(answer);
out_repo:
	repo_free(&repo);
	common_free(&co);
out:
	sb_release(&path);
	sb_release(&shown);
	return code;
}
