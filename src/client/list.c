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
#include <string.h>
#include <time.h>

static const char list_usage[] = "usage: hindsight list [--repo REPO] [--ssh CMD] [--config FILE] [--json]\n";

/* Render an answer ask() has checked for protocol 1 and the verb. */
static int render(json_t *top)
{
	json_t *snaps = json_object_get(top, "snapshots"), *s;
	const char *current = json_string_value(json_object_get(top, "current"));
	size_t i;
	time_t now = time(NULL);

	if (!json_is_array(snaps)) {
		fputs("hindsight: the server's answer is not a protocol 1 list\n", stderr);
		return HS_EXIT_ERROR;
	}
	if (json_array_size(snaps) == 0) {
		puts("no snapshots yet");
		return HS_EXIT_OK;
	}
	/* what the server's retention policy will thin next: the soonest expiry */
	json_int_t next = 0;
	size_t n_next = 0;
	json_array_foreach(snaps, i, s) {
		json_int_t e = json_integer_value(json_object_get(s, "expires"));
		if (e > 0 && (!next || e < next)) {
			next = e;
			n_next = 0;
		}
		n_next += e > 0 && e == next;
	}
	printf("%-19s  %-19s  %-8s  %s\n", "SNAPSHOT", "LOCAL TIME", "AGE", "STATUS");
	json_array_foreach(snaps, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *status = json_string_value(json_object_get(s, "status"));
		json_int_t e = json_integer_value(json_object_get(s, "expires"));
		time_t t;
		char local[32] = "?", age[32] = "?";
		struct tm tm;
		if (!name || snapname_parse(name, &t) < 0)
			continue;
		if (localtime_r(&t, &tm))
			strftime(local, sizeof(local), "%Y-%m-%d %H:%M:%S", &tm);
		format_age(now - t, age, sizeof(age));
		printf("%-19s  %-19s  %-8s  %s%s%s%s\n", name, local, age, status ? status : "?",
		       current && !strcmp(current, name) ? "  (current)" : "",
		       json_is_true(json_object_get(s, "pinned")) ? "  (pinned)" : "",
		       next && e == next ? "  (thinned next)" : "");
	}
	const char *keep = json_string_value(json_object_get(top, "keep"));
	if (keep) {
		char in[32] = "now";
		if (next > now)
			format_age((time_t)next - now, in, sizeof(in));
		if (next)
			printf("retention %s: the next thinning, in %s, deletes %zu snapshot%s\n",
			       keep, in, n_next, n_next == 1 ? "" : "s");
		else
			printf("retention %s: nothing is due to be thinned\n", keep);
	}
	return HS_EXIT_OK;
}

int cmd_list(int argc, char **argv)
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
	json_t *answer = NULL;
	char *words[] = { "list" };

	common_init(&co);
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(list_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(list_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(list_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = common_repo(&co, &repo, 1)) != 0)
		return code;
	code = ask(&repo, words, 1, json, &answer);
	if (code == HS_EXIT_OK && answer)
		code = render(answer);
	json_decref(answer);
	repo_free(&repo);
	common_free(&co);
	return code;
}
