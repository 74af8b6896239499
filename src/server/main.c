/*
 * hindsight-server: runs on the backup server. main() sanitises the process
 * and dispatches to one verb; see server.h for how to add one.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#ifndef HS_VERSION
#define HS_VERSION "0.1.0"
#endif

static const struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} verbs[] = {
	{ "serve", cmd_serve, "the forced command: accept one push or query" },
	{ "local", cmd_local, "transport for a local backup root (used by hindsight)" },
};

static void usage(FILE *f)
{
	fputs("usage: hindsight-server VERB [OPTIONS]\n\nverbs:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
}

int main(int argc, char **argv)
{
	if (sanitise_process() < 0)
		return HS_EXIT_ERROR;
	/* a client that hangs up must not kill us before the publish is done */
	signal(SIGPIPE, SIG_IGN);
	openlog("hindsight-server", LOG_PID, LOG_DAEMON);
	if (argc < 2) {
		usage(stderr);
		return HS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("hindsight-server " HS_VERSION);
		return HS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hindsight-server: unknown verb '%.64s'\n", argv[1]);
	usage(stderr);
	return HS_EXIT_USAGE;
}
