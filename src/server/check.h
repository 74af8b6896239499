/*
 * `hindsight-server check`: check.c has the server-wide findings (rsync,
 * Landlock, the configuration), check_root.c those of one root,
 * check_sealed.c those of sealed mode.
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
int check_root(const char *path, int repair, const char *config, struct tally *t);

/*
 * check_sealed.c: sealed mode. The kernel settings it needs (an error
 * where a sealed root exists among roots or under base); a sealed root's
 * owners, modes and newest snapshot (nothing for a simple root); and the
 * sealer's repair of a sealed root r, run by root holding its push lock:
 * a seal cut short finished or discarded, current, temporaries and the
 * trash, the sealed layout. Returns 0, or 1 after saying what failed.
 */
void check_sealed_kernel(const char *config, const struct argv *roots, struct tally *t);
void check_sealed_root(const char *path, const char *config, struct tally *t);
struct root;
int check_sealed_repair(struct root *r, const char *config, struct tally *t);

#endif
