/*
 * `hindsight config check|path [--config FILE]`: is the config file good,
 * and which file is it. check reports every error with its file and line:
 * first what the parser found, then what it names that is not there (a
 * source, the exclude file, the key) or would make ssh refuse (a key
 * others can read).
 */
#include "client.h"
#include "../lib/exitcodes.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char config_usage[] =
	"usage: hindsight config check [--config FILE]\n"
	"       hindsight config path [--config FILE]\n";

static int problem(const struct config *c, int line, const char *fmt, const char *arg,
		   const char *why)
{
	fprintf(stderr, "hindsight: %s:%d: ", c->file, line);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, ": %s\n", why);
	return 1;
}

/* What the file names but is not there. Returns how many problems. */
static int check_paths(const struct config *c)
{
	struct stat st;
	int n = 0;

	for (size_t i = 0; i < c->sources.n; i++)
		if (lstat(c->sources.v[i], &st) < 0)
			n += problem(c, c->source_line[i], "source %s", c->sources.v[i],
				     strerror(errno));
	if (c->exclude_file && access(c->exclude_file, R_OK) < 0)
		n += problem(c, c->line[CFG_EXCLUDE_FILE], "exclude_file %s", c->exclude_file,
			     strerror(errno));
	if (c->ssh_key) {
		if (stat(c->ssh_key, &st) < 0)
			n += problem(c, c->line[CFG_SSH_KEY], "ssh_key %s", c->ssh_key,
				     strerror(errno));
		else if (st.st_mode & 077)
			n += problem(c, c->line[CFG_SSH_KEY], "ssh_key %s", c->ssh_key,
				     "others may read it, and ssh refuses such a key "
				     "(chmod 600 it)");
	}
	return n;
}

int cmd_config(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL;
	struct config c;
	int opt, code;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'C': file = optarg; break;
		case 'h': fputs(config_usage, stdout); return HS_EXIT_OK;
		default: fputs(config_usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(config_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "path")) {
		char *p = file ? xstrdup(file) : config_default_path();
		puts(p);
		free(p);
		return HS_EXIT_OK;
	}
	if (strcmp(argv[optind], "check")) {
		fprintf(stderr, "hindsight: config: unknown action '%.64s'\n", argv[optind]);
		fputs(config_usage, stderr);
		return HS_EXIT_USAGE;
	}
	char *path = file ? xstrdup(file) : config_default_path();
	if (!file && access(path, F_OK) < 0 && errno == ENOENT) {
		fprintf(stderr, "hindsight: no config file at %s (hindsight init writes one)\n", path);
		free(path);
		return HS_EXIT_NOTFOUND;
	}
	code = config_load(path, &c);
	if (c.file && check_paths(&c) > 0 && code == HS_EXIT_OK)
		code = HS_EXIT_USAGE;
	if (code == HS_EXIT_OK) {
		char every[32];
		format_duration((double)c.interval, every, sizeof(every));
		printf("%s: ok\n", path);
		printf("  repo      %s\n", c.repo ? c.repo : "(none: give --repo or set HINDSIGHT_REPO)");
		printf("  sources   %zu\n", c.sources.n);
		printf("  interval  %s%s\n", c.interval ? every : "0 (every scheduled run)",
		       c.on_battery_skip ? ", not on battery" : "");
	}
	config_free(&c);
	free(path);
	return code;
}
