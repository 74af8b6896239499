/*
 * What a backup leaves out, in the spirit of Time Machine: the kernel's
 * and the system's volatile trees, swap files, caches and the trash, and
 * every directory marked as a cache with a CACHEDIR.TAG
 * (https://bford.info/cachedir/). All of it as rsync filter rules
 * ("- /swapfile"), which the backup hands to rsync in one merge file;
 * `hindsight backup --show-excludes` prints them.
 */
#ifndef HS_CLIENT_EXCLUDES_H
#define HS_CLIENT_EXCLUDES_H

#include <stddef.h>

#include "../lib/strbuf.h"
#include "../lib/util.h"

#define CACHEDIR_SIGNATURE "Signature: 8a477f597d28d172789f06886806bc55"
#define EXCLUDE_WALK_DEPTH 200   /* directories deeper than this are not searched for tags */

/*
 * The default rules. home: the home directory of the user backing up
 * (its cache and trash are left out wherever it is); swaps: the text of
 * /proc/swaps, or NULL (each swap file in it is left out). Pure.
 */
void default_excludes(const char *home, const char *swaps, struct argv *rules);

/* Append path as an rsync filter pattern that matches exactly it. */
void filter_pattern(struct strbuf *sb, const char *path);

/*
 * Is dirfd a cache directory: does it hold a regular file CACHEDIR.TAG
 * that starts with the signature? 1 or 0.
 */
int has_cachedir_tag(int dirfd);

/*
 * Search the sources (absolute paths) for directories with a CACHEDIR.TAG
 * and append a rule "- /that/dir/" for each. Below the sources, it does
 * not descend into what a rule in skip leaves out (the defaults: no walking through
 * /proc), into a tagged directory, or through a symlink. Directories it
 * cannot read are passed over (rsync will say so). Returns how many it
 * found.
 */
size_t cachedir_excludes(char *const sources[], size_t n, const struct argv *skip,
			 struct argv *rules);

/* Does the absolute path match one of the "- PATTERN" rules? (fnmatch) */
int excluded_by(const struct argv *rules, const char *path);

#endif
