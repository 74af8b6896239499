/*
 * The command table both programs dispatch through (git.c's habit): one
 * row per verb. run_verbs() handles help and --version itself, runs the
 * verb named by argv[1] with argv shifted by one, and returns its exit code.
 */
#ifndef HS_VERBS_H
#define HS_VERBS_H

#include <stddef.h>

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;   /* NULL: internal, not listed */
};

int run_verbs(const char *prog, const char *footer, const struct verb *verbs,
	      size_t n, int argc, char **argv);

#endif
