/*
 * `hindsight list`: the snapshots of a repo, oldest first. The server
 * answers `hindsight list` in JSON (local repos: the same code through
 * hindsight-server local); we render it or pass it on with --json.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/snapname.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char list_usage[] = "usage: hindsight list [--repo REPO] [--ssh CMD] [--json]\n";

static int render(const char *text)
{
	json_error_t err;
	json_t *top = json_loads(text, 0, &err);
	json_t *snaps, *s;
	const char *current = NULL;
	size_t i;
	time_t now = time(NULL);

	if (!top || !json_is_object(top) ||
	    json_integer_value(json_object_get(top, "protocol")) != 1 ||
	    !json_is_array(snaps = json_object_get(top, "snapshots"))) {
		fputs("hindsight: the server's answer is not a protocol 1 list\n", stderr);
		json_decref(top);
		return HS_EXIT_ERROR;
	}
	current = json_string_value(json_object_get(top, "current"));
	if (json_array_size(snaps) == 0) {
		puts("no snapshots yet");
		json_decref(top);
		return HS_EXIT_OK;
	}
	printf("%-19s  %-19s  %-8s  %s\n", "SNAPSHOT", "LOCAL TIME", "AGE", "STATUS");
	json_array_foreach(snaps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *status = json_string_value(json_object_get(s, "status"));
		time_t t;
		char local[32] = "?", age[32] = "?";
		struct tm tm;
		if (!name || snapname_parse(name, &t) < 0)
			continue;
		if (localtime_r(&t, &tm))
			strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S", &tm);
		format_age(now - t, age, sizeof(age));
		printf("%-19s  %-19s  %-8s  %s%s\n", name, local, age, status ? status : "?",
		       current && !strcmp(current, name) ? "  (current)" : "");
	}
	json_decref(top);
	return HS_EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "ssh", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *spec = default_repo(), *ssh = NULL;
	int json = 0, c, code;
	struct repo repo;
	char *answer = NULL;
	char *words[] = { "list" };

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': spec = optarg; break;
		case 's': ssh = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(list_usage, stdout); return HS_EXIT_OK;
		default: fputs(list_usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(list_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = repo_parse(spec, ssh, &repo)) != 0)
		return code;
	if (repo.local) {
		struct stat st;
		if (stat(repo.dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "hindsight: no backup root at %s\n", repo.dir);
			repo_free(&repo);
			return HS_EXIT_NOTFOUND;
		}
	}
	code = run_query(&repo, words, 1, 64 << 20, &answer);
	if (code == HS_EXIT_OK)
		code = json ? (fputs(answer, stdout) == EOF ? HS_EXIT_ERROR : HS_EXIT_OK)
			    : render(answer);
	free(answer);
	repo_free(&repo);
	return code;
}
