#include "verbs.h"
#include "exitcodes.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f, const char *prog, const char *footer,
		  const struct verb *verbs, size_t n)
{
	fprintf(f, "usage: %s VERB [OPTIONS]\n\nverbs:\n", prog);
	for (size_t i = 0; i < n; i++)
		if (verbs[i].help)
			fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	if (footer)
		fprintf(f, "\n%s\n", footer);
}

int run_verbs(const char *prog, const char *footer, const struct verb *verbs,
	      size_t n, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr, prog, footer, verbs, n);
		return HS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout, prog, footer, verbs, n);
		return HS_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog, HS_VERSION);
		return HS_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown verb '%.64s'\n", prog, argv[1]);
	usage(stderr, prog, footer, verbs, n);
	return HS_EXIT_USAGE;
}
