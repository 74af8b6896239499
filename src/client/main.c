/*
 * hindsight: the client. main() sanitises the process and dispatches to
 * one verb; see client.h for how to add one.
 */
#include "client.h"
#include "../lib/exitcodes.h"

#include <stdio.h>
#include <string.h>

#ifndef HS_VERSION
#define HS_VERSION "0.1.0"
#endif

static const struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;   /* NULL: internal, not listed */
} verbs[] = {
	{ "backup", cmd_backup, "push SOURCE... to the repository as a new snapshot" },
	{ "list", cmd_list, "list the snapshots, oldest first" },
	{ "__transport", cmd_transport, NULL },
};

static void usage(FILE *f)
{
	fputs("usage: hindsight VERB [OPTIONS]\n\nverbs:\n", f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (verbs[i].help)
			fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fputs("\nThe repository is [user@]host: or a local directory "
	      "(--repo, or HINDSIGHT_REPO).\n", f);
}

int main(int argc, char **argv)
{
	if (sanitise_process() < 0)
		return HS_EXIT_ERROR;
	if (argc < 2) {
		usage(stderr);
		return HS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return HS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("hindsight " HS_VERSION);
		return HS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "hindsight: unknown verb '%.64s'\n", argv[1]);
	usage(stderr);
	return HS_EXIT_USAGE;
}
