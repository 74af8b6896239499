/*
 * Exit codes of both programs. One meaning each; scripts depend on them
 * (PRODUCT.md, "Exit codes"). Retry-later failures (11, 13) are kept apart
 * from permanent ones so a scheduler can tell them apart.
 */
#ifndef HS_EXITCODES_H
#define HS_EXITCODES_H

enum hs_exit {
	HS_EXIT_OK = 0,           /* success */
	HS_EXIT_ERROR = 1,        /* any other failure */
	HS_EXIT_USAGE = 2,        /* bad command line or config */
	HS_EXIT_WARNINGS = 3,     /* completed, with warnings (rsync exit 23) */
	HS_EXIT_NOTFOUND = 10,    /* no such backup root, snapshot or path */
	HS_EXIT_LOCKED = 11,      /* another push holds the lock: retry later */
	HS_EXIT_REFUSED = 12,     /* refused by server policy */
	HS_EXIT_UNREACHABLE = 13, /* server unreachable or ssh failed: retry later */
	HS_EXIT_NOSPACE = 14,     /* out of space on the backup root */
	HS_EXIT_AGAIN = 15,       /* sealed push not published yet: run it again to finish */
	HS_EXIT_INTERRUPTED = 130 /* interrupted by a signal */
};

#endif
