/*
 * A sealed backup root (docs/SECURITY.md, "Sealed mode"): history belongs
 * to a vault owner and the root to root, so that nothing running as the
 * account can change or delete it. For an account A with its own group G
 * and the vault owner V:
 *
 *   ROOT/                   root:G 0750
 *   ROOT/NAME/...           V:G; directories 0750, the rest 0640 (seal.h)
 *   ROOT/current            root's symlink
 *   ROOT/inprogress/        A:G 0700, the push being received; made again
 *                           by the sealer after every seal
 *   ROOT/.hindsight/        root:G 0750; what is in it is root's
 *     lock                  0640: serve opens it read-only to flock it
 *     seal.lock             0600: one sealer at a time
 *     pending.json          the seal journal, while a seal is under way
 *     snapshots/ pins/ log  as in every root, written by root only
 *     trash/                0700: what is being deleted
 *     seal/                 0700: the tree being sealed, out of A's reach
 *     work/                 A:G 0700, the account's own:
 *       resume/N/           trees of interrupted pushes (link bases)
 *       transfer.log        its rsync's --log-file
 *       lock.info           "PID START" of the push holding the lock
 *
 * A seal, holding the push lock and seal.lock: choose the name, journal
 * it in pending.json, move inprogress/ to seal/NAME and make a fresh
 * inprogress/, seal the tree (seal.h), rename it to ROOT/NAME, repoint
 * current, write snapshots/NAME.json, delete the resume trees, drop the
 * journal. A crash anywhere is finished by sealed_finish(), from the
 * journal and where the tree is; nothing carries a snapshot name before
 * it is sealed. A tree the walk refuses is deleted, never published.
 *
 * Root never writes into work/ (a hard link planted there could point
 * anywhere); it only renames resume trees out of it into the trash.
 */
#ifndef HS_SEALED_H
#define HS_SEALED_H

#include "root.h"
#include "seal.h"
#include "strbuf.h"

#define HS_SEALING "seal"        /* .hindsight/seal */
#define HS_SEAL_LOCK "seal.lock"

/* Steps a test build may pause at (sealer --pause STEP). */
struct seal_steps {
	void (*step)(void *arg, const char *step);   /* may be NULL */
	void *arg;
};

/*
 * Make the sealed layout in the root rootfd (root only), or put right
 * what is missing or wrong in it: owners and modes of ROOT, .hindsight
 * and what is in it, work/ and inprogress/. Never touches a snapshot.
 * -EEXIST if the root holds snapshots but is not sealed (a simple root:
 * converting one is not supported). Each change made is noted in done
 * (may be NULL).
 */
int sealed_layout(int rootfd, const struct seal_ids *ids, struct strbuf *done);

/*
 * Finish the seal journalled in pending.json, if any (root, both locks
 * held). 0 if there was none or it is published now; -EPERM if the walk
 * refused the tree, which is then deleted and res says why; another
 * negative errno value if it could not be finished (the journal stays).
 */
int sealed_finish(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		  struct seal_result *res);

/*
 * sealed_finish(), then current, temporaries and the trash (root_tidy),
 * then sealed_layout().
 */
int sealed_repair(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		  struct seal_result *res);

/*
 * Seal inprogress/ and publish it with m's figures; m->name is chosen
 * here. -ENOENT if there is no inprogress/ of the account's to seal.
 * Otherwise as sealed_finish().
 */
int sealed_publish(struct root *r, const struct seal_opts *o, const struct seal_steps *s,
		   struct snapmeta *m, struct seal_result *res);

/*
 * The account's side, instead of root_prepare_push(): what an interrupted
 * push left in inprogress/ moves into work/resume/N (entry by entry: the
 * account cannot rename inprogress/ itself), the oldest resume trees
 * beyond HS_MAX_RESUME are deleted, and dest is made inside inprogress/.
 * -ENOENT without inprogress/ (only the sealer makes it).
 */
int sealed_prepare_push(struct root *r, const char *dest, int *resumed);

/*
 * fs.protected_hardlinks and fs.leases-enable as the kernel has them (1,
 * 0), or a negative errno value. Sealed mode needs protected_hardlinks 0
 * (the account links files it does not own) and leases (how the seal
 * tells a file open for writing).
 */
int sealed_hardlinks_protected(void);
int sealed_leases_enabled(void);

#endif
