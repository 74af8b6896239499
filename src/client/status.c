/*
 * `hindsight status`: the state of a repo at a glance: its newest snapshot
 * and how old it is, how many there are, whether a backup is running and
 * since when, and the free space where the backups live.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/snapname.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char status_usage[] =
	"usage: hindsight status [--repo REPO] [--ssh CMD] [--json]\n";

static int render(json_t *top, const char *spec)
{
	const char *newest = json_string_value(json_object_get(top, "newest"));
	const char *current = json_string_value(json_object_get(top, "current"));
	json_t *prog = json_object_get(top, "in_progress");
	long long free_b = json_integer_value(json_object_get(top, "free_bytes"));
	long long total = json_integer_value(json_object_get(top, "total_bytes"));
	char a[32], b[32], when[40], age[32];
	time_t t;

	printf("%-12s %s\n", "repository", spec);
	printf("%-12s %lld\n", "snapshots",
	       json_integer_value(json_object_get(top, "snapshots")));
	if (newest && snapname_parse(newest, &t) == 0) {
		format_local(t, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		format_age((long long)(time(NULL) - t), age, sizeof(age));
		printf("%-12s %s (%s, %s ago)\n", "newest", newest, when, age);
	} else {
		printf("%-12s none yet\n", "newest");
	}
	if (current && newest && strcmp(current, newest))
		printf("%-12s %s\n", "current", current);
	if (json_is_object(prog)) {
		long long since = json_integer_value(json_object_get(prog, "since"));
		format_local(since, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		format_age((long long)time(NULL) - since, age, sizeof(age));
		printf("%-12s in progress since %s (%s), pid %lld\n", "backup", when, age,
		       json_integer_value(json_object_get(prog, "pid")));
	} else {
		printf("%-12s none running\n", "backup");
	}
	format_size(free_b, a, sizeof(a));
	format_size(total, b, sizeof(b));
	printf("%-12s %s of %s (%lld%% free)\n", "free space", a, b,
	       total > 0 ? free_b * 100 / total : 0);
	return HS_EXIT_OK;
}

int cmd_status(int argc, char **argv)
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
	json_t *answer = NULL;
	char *words[] = { "status" };

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': spec = optarg; break;
		case 's': ssh = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(status_usage, stdout); return HS_EXIT_OK;
		default: fputs(status_usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(status_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = open_repo(spec, ssh, &repo)) != 0)
		return code;
	code = ask(&repo, words, 1, json, &answer);
	if (code == HS_EXIT_OK && answer)
		code = render(answer, spec);
	json_decref(answer);
	repo_free(&repo);
	return code;
}
