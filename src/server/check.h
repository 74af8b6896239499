/*
 * `hindsight-server check`: check.c has the server-wide findings (rsync,
 * Landlock, the configuration, sysctls), check_root.c those of one root.
 * Every finding is one line, "LEVEL: what", LEVEL ok, warning, error or
 * (with --repair) repaired.
 */
#ifndef HS_CHECK_H
#define HS_CHECK_H

#include "server.h"

struct tally {
	int warnings;
	int errors;
};

/* One finding on stdout, counted in t. */
__attribute__((format(printf, 3, 4)))
void say(struct tally *t, const char *level, const char *fmt, ...);

/*
 * Check one backup root, and with repair fix what is safe (see
 * check_root.c). Returns 0 (the findings are in t), 10 if there is no
 * such root, 11 if a push or prune holds it (repair only), 1 on error.
 */
int check_root(const char *path, int repair, struct tally *t);

#endif
