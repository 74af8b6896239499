/*
 * The fast sealed push (docs/FASTPUSH.md). Instead of rsync --link-dest,
 * whose per-file secure path walks cost ~40 syscalls a file, serve (as
 * the account) makes inprogress/ a hard-link clone of the newest
 * snapshot and rsync receives into it with no link basis. The clone's
 * files are the vault owner's (0640), so rsync cannot change them in
 * place: content changes arrive as new files renamed over the clone's
 * names (the directories are the account's), and an attribute-only
 * change fails with EACCES instead of reaching history.
 *
 * After rsync, the transfer log (every item, "%i %b %l %n", see
 * FASTPUSH_LOG_FORMAT) decides whether the tree may be published:
 *   - every name with an attribute-only change that is still a vault
 *     inode gets a fresh copy of the account's own (same content, mtime
 *     and user.* xattrs); the push is then not published and the client
 *     runs it again (HS_EXIT_AGAIN), when the quick check passes and the
 *     attributes apply to the fresh inode;
 *   - the tree must hold no more entries than rsync listed: a name the
 *     client did not send (a stale clone entry in a directory rsync did
 *     not reconcile: an implied --relative parent, a protect rule, no
 *     --delete) would otherwise be published. Then the next push takes
 *     the --link-dest path (FASTPUSH_SLOW in work/).
 *
 * rsync runs with --insecure-links when it has it and the client sent
 * --numeric-ids: rsync 3.5.0 otherwise resolves every name it looks up
 * one O_PATH|O_NOFOLLOW component at a time from the destination (with
 * --fake-super, for every file of the tree: three quarters of a fast
 * push's syscalls). That walk keeps a hostile sender's symlinks from
 * leading the receiver out of its tree; here the fence is elsewhere:
 * history is the vault's (the kernel refuses every change by this uid),
 * and the Landlock ruleset lets rsync read, create, remove and rename
 * only inprogress/ and its temp dir (no snapshot, no /etc/passwd). What a
 * symlink can still reach is what the account owns: this tree and its
 * work/ files (docs/SECURITY.md, "The fast push and --insecure-links").
 *
 * The clone is an optimisation, never a condition of exactness: rsync
 * with --delete reconciles whatever the tree holds. So an interrupted
 * clone is completed by cloning again over it (existing names are left
 * alone), and an interrupted push resumes into the same tree.
 *
 * Library convention: 0 or a negative errno value.
 */
#ifndef HS_FASTPUSH_H
#define HS_FASTPUSH_H

#include "root.h"
#include "strbuf.h"

#include <sys/types.h>

#define FASTPUSH_RECORD "clone"   /* work/clone: "NAME\nINODE\nDEST\n" of a finished clone */
#define FASTPUSH_SLOW "slow"      /* work/slow: the next push takes the --link-dest path */
#define FASTPUSH_AHEAD "ahead"    /* work/ahead: work/clone's tree was made ahead, after the
				     last push, and nothing has been received into it */
/* every item, unchanged ones too, needs --log-format=%i%I as well */
#define FASTPUSH_LOG_FORMAT "%i %b %l %n"
#define FASTPUSH_ITEMS_FORMAT "--log-format=%i%I"

struct clone_stats {
	unsigned long long dirs;    /* directories made */
	unsigned long long links;   /* names linked */
	unsigned long long kept;    /* names already there */
};

/*
 * Clone what directory sfd holds into directory dfd: a directory for
 * each directory, a hard link for everything else, never following a
 * symlink. Names already in dfd are kept (a directory is entered).
 */
int clone_tree_fd(int sfd, int dfd, struct clone_stats *st);

/*
 * The account's side of a fast push, instead of sealed_prepare_push():
 * make dest inside inprogress/ and, unless work/clone says it is done
 * already for this inprogress/, clone the newest snapshot's dest into
 * it and record that. *resumed is 1 if the push resumes into a tree
 * cloned before; *cloned says what was made now (may be NULL).
 */
int fastpush_prepare(struct root *r, const char *dest, int *resumed, struct clone_stats *cloned);

/*
 * Clone ahead: right after a fast push is published, fastpush_prepare()
 * for the next push (same destination), and mark the tree as made ahead,
 * so that the next push starts receiving at once and does not count as
 * resumed. Run by a process of its own holding the push lock once serve
 * has answered the client (serve.c). A clone made ahead for another
 * destination is emptied by the next push before it clones; one cut
 * short is finished by it, as an interrupted clone is.
 */
int fastpush_clone_ahead(struct root *r, const char *dest);

/* Is inprogress/ a clone made ahead, not a push cut off? */
int fastpush_is_ahead(const struct root *r);

/* Forget the clone and go the --link-dest way next time (slow = 1), or
 * the fast way again (slow = 0). Best effort. */
void fastpush_set_slow(struct root *r, int slow);
int fastpush_is_slow(const struct root *r);

struct fastpush_check {
	unsigned long long items;     /* entries rsync listed (not deletions, not dest itself) */
	unsigned long long entries;   /* entries inprogress/dest holds */
	unsigned long long fresh;     /* attribute-only changes given a fresh copy */
	unsigned long long unknown;   /* names the log gave that we could not resolve */
};

/*
 * One line of the transfer log, "DATE TIME [PID] %i %b %l %n": 1 and the
 * item (11 characters) and name (a trailing slash dropped) if it is an
 * item rsync listed (a deletion, "*deleting", is not), else 0.
 */
int fastpush_parse(const char *line, size_t len, char item[12], struct strbuf *name);

/* Does item say an existing file's attributes alone changed (no transfer)? */
int fastpush_attr_only(const char *item);

/*
 * After rsync: read the transfer log from logfd a line at a time (a push
 * of a million files costs no more memory than one of ten), give every attribute-only
 * change that hit a vault inode a fresh copy, and count. The tree may
 * be published only if fresh == 0, unknown == 0 and entries <= items.
 */
int fastpush_check(struct root *r, const char *dest, int logfd, struct fastpush_check *c);

#endif
