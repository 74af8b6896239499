/*
 * Confining the rsync that serve runs, with Landlock (Linux 5.13+), in the
 * child after PR_SET_NO_NEW_PRIVS and before execve. Best effort: probed
 * by ABI version; on a kernel without Landlock nothing is applied and the
 * caller logs one warning.
 *
 * A push may write only below the tree being received and may read the
 * backup root; a restore may read only the one pinned snapshot. Both may
 * read what exec needs (/usr, the loader cache, a few files of /etc) and
 * /dev/null, and neither may use TCP or signal or reach abstract sockets
 * outside its domain (where the ABI has those rights).
 *
 * What Landlock cannot stop (see docs/SECURITY.md): chmod, chown, utimes
 * and setxattr are not access rights at all; and for pushes, writing into
 * an existing file is left unrestricted, because a hard link may not gain
 * rights: were WRITE_FILE granted in the receive tree and not in the
 * snapshots, every --link-dest link would fail with EXDEV and rsync would
 * silently copy instead. Sealed mode covers both by file ownership.
 */
#ifndef HS_LANDLOCK_H
#define HS_LANDLOCK_H

enum ll_role { LL_PUSH, LL_PULL };

struct ll_plan {
	enum ll_role role;
	const char *root;     /* push: readable (and linkable from) */
	const char *recv;     /* push: writable; NULL for a dry run */
	const char *snapdir;  /* pull: the one readable snapshot (NULL: none) */
	const char *exec;     /* the program about to be run: executable even
				 outside /usr (an rsync built elsewhere) */
	const char *tmp;      /* push: writable too (rsync's --temp-dir), or NULL */
	int no_names;         /* not even /etc/passwd, /etc/group, /etc/nsswitch.conf:
				 a receiver with --numeric-ids never maps names */
};

/* Highest Landlock ABI of this kernel, 0 if it has none. */
int landlock_abi(void);

/*
 * Restrict the calling process (meant for a child about to exec). Returns
 * the ABI applied (> 0), 0 if the kernel has no Landlock (or, for a push,
 * only ABI 1, which has no REFER right for --link-dest), or a negative
 * errno value if it has Landlock and the ruleset could not be applied (the
 * caller must then not exec: fail closed).
 */
int landlock_confine(const struct ll_plan *p);

#endif
