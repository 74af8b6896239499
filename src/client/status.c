/*
 * `hindsight status`: the state of a repo at a glance. This machine's view
 * first, from the state file (state.h): the last successful backup and its
 * age, when the next is due, the last error; then the server's: how many
 * snapshots, the newest and its age, whether a backup is running and since
 * when, and the free space where the backups live.
 */
#include "client.h"
#include "state.h"
#include "../lib/exitcodes.h"
#include "../lib/snapname.h"
#include "../lib/strbuf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char status_usage[] =
	"usage: hindsight status [--repo REPO] [--ssh CMD] [--config FILE] [--json]\n";

void render_local(const struct backup_state *st, const struct config *cfg,
		  const char *name, time_t now)
{
	char when[40], age[32];
	time_t next;
	int due = backup_due(st, cfg->interval, now, &next);

	printf("%-12s %s\n", "repository", name);
	if (st->success_start > 0) {
		format_local(st->success_start, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		format_age((long long)(now - st->success_start), age, sizeof(age));
		printf("%-12s %s (%s ago)%s\n", "last backup", when, age,
		       st->success_exit == 3 ? ", with warnings" : "");
	} else {
		printf("%-12s never, from this machine\n", "last backup");
	}
	if (due) {
		printf("%-12s now\n", "next due");
	} else {
		format_local(next, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		format_age((long long)(next - now), age, sizeof(age));
		printf("%-12s %s (in %s)\n", "next due", when, age);
	}
	if (st->attempt_start > 0 && st->attempt_exit != 0 && st->attempt_exit != 3) {
		format_local(st->attempt_start, "%Y-%m-%d %H:%M:%S", when, sizeof(when));
		printf("%-12s %s, exit %d: %s\n", "last error", when, st->attempt_exit,
		       st->attempt_message[0] ? st->attempt_message : explain_exit(st->attempt_exit));
	}
}

/* The same as JSON, added to the server's answer under "client". */
static json_t *local_json(const struct backup_state *st, const struct config *cfg, time_t now)
{
	time_t next;
	int due = backup_due(st, cfg->interval, now, &next);
	json_t *o = json_pack("{s:I, s:I, s:b}", "interval", (json_int_t)cfg->interval,
			      "next_due", (json_int_t)next, "due", due);

	json_object_set_new(o, "last_success", st->success_start <= 0 ? json_null() :
			    json_pack("{s:I, s:I, s:i}", "start", (json_int_t)st->success_start,
				      "end", (json_int_t)st->success_end, "exit", st->success_exit));
	json_object_set_new(o, "last_attempt", st->attempt_start <= 0 ? json_null() :
			    json_pack("{s:I, s:I, s:i, s:s}", "start", (json_int_t)st->attempt_start,
				      "end", (json_int_t)st->attempt_end, "exit", st->attempt_exit,
				      "message", st->attempt_message));
	return o;
}

/* The server's side. */
static int render(json_t *top)
{
	const char *newest = json_string_value(json_object_get(top, "newest"));
	const char *current = json_string_value(json_object_get(top, "current"));
	json_t *prog = json_object_get(top, "in_progress");
	long long free_b = json_integer_value(json_object_get(top, "free_bytes"));
	long long total = json_integer_value(json_object_get(top, "total_bytes"));
	char a[32], b[32], when[40], age[32];
	time_t t;

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
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	int json = 0, c, code;
	struct repo repo;
	json_t *answer = NULL;
	char *words[] = { "status" };
	char *name, *file;
	struct backup_state st;
	time_t now = time(NULL);

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': fputs(status_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg))
				break;
			fputs(status_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(status_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = common_repo(&co, &repo, 1)) != 0)
		return code;
	name = repo_name(&repo);
	file = state_file(name);
	if (state_read(file, &st) < 0) {
		fprintf(stderr, "hindsight: cannot read %s; ignoring it\n", file);
		memset(&st, 0, sizeof(st));
	}
	if (!json) {
		render_local(&st, &co.cfg, name, now);
		fflush(stdout);
	}
	code = ask(&repo, words, 1, 0, &answer);
	if (code == HS_EXIT_OK && json) {
		json_object_set_new(answer, "client", local_json(&st, &co.cfg, now));
		char *text = json_dumps(answer, JSON_INDENT(1));
		code = text && puts(text) != EOF ? HS_EXIT_OK : HS_EXIT_ERROR;
		free(text);
	} else if (code == HS_EXIT_OK) {
		code = render(answer);
	}
	json_decref(answer);
	free(file);
	free(name);
	repo_free(&repo);
	common_free(&co);
	return code;
}
