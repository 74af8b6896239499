/*
 * `hindsight versions PATH`: the distinct versions of a file across the
 * repo's snapshots, oldest first. The server groups snapshots by inode
 * (`hindsight versions PATH`, JSON); we number them and show a table.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char versions_usage[] =
	"usage: hindsight versions [--repo REPO] [--ssh CMD] [--config FILE] [--json] PATH\n";

static int render(json_t *top)
{
	json_t *vs = json_object_get(top, "versions"), *v, *missing;
	size_t i, nmissing = 0;

	if (!json_is_array(vs)) {
		fputs("hindsight: the server's answer is not a protocol 1 versions\n", stderr);
		return HS_EXIT_ERROR;
	}
	printf("%-7s  %-19s  %-19s  %9s  %6s  %s\n", "VERSION", "FIRST", "LAST", "SNAPSHOTS",
	       "SIZE", "MTIME");
	json_array_foreach(vs, i, v) {
		const char *first = json_string_value(json_object_get(v, "first"));
		const char *last = json_string_value(json_object_get(v, "last"));
		char size[16], mtime[32];
		format_size(json_integer_value(json_object_get(v, "size")), size, sizeof(size));
		format_local(json_integer_value(json_object_get(v, "mtime")), "%Y-%m-%d %H:%M:%S",
			     mtime, sizeof(mtime));
		printf("%-7zu  %-19s  %-19s  %9lld  %6s  %s", i + 1, first ? first : "?",
		       last ? last : "?", json_integer_value(json_object_get(v, "count")), size,
		       mtime);
		const char *type = json_string_value(json_object_get(v, "type"));
		if (type && strcmp(type, "file"))
			printf("  (%s)", type);
		putchar('\n');
	}
	if (json_is_array(missing = json_object_get(top, "missing")))
		nmissing = json_array_size(missing);
	else
		nmissing = (size_t)json_integer_value(json_object_get(top, "missing_count"));
	if (nmissing)
		printf("absent from %zu snapshot%s\n", nmissing, nmissing == 1 ? "" : "s");
	return HS_EXIT_OK;
}

int cmd_versions(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	int json = 0, c, code;
	struct repo repo;
	struct strbuf path = STRBUF_INIT;
	json_t *answer = NULL;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(versions_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(versions_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(versions_usage, stderr);
		return HS_EXIT_USAGE;
	}
	char *rel = snapshot_path(argv[optind]);
	if (!rel) {
		fputs("hindsight: cannot find the current directory\n", stderr);
		return HS_EXIT_ERROR;
	}
	/* "/" + rel: an empty word would vanish on its way through ssh */
	sb_addf(&path, "/%s", rel);
	free(rel);
	if ((code = common_repo(&co, &repo, 1)) != 0) {
		sb_release(&path);
		return code;
	}
	char *words[] = { "versions", path.buf };
	code = ask(&repo, words, 2, json, &answer);
	if (code == HS_EXIT_OK && answer)
		code = render(answer);
	json_decref(answer);
	sb_release(&path);
	repo_free(&repo);
	common_free(&co);
	return code;
}
