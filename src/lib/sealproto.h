/*
 * What serve and the sealer say to each other over the sealer's UNIX
 * socket: one request line, one reply line. The request carries no path
 * and no name: the sealer knows the caller by SO_PEERCRED and finds its
 * root itself. Beside the line, the caller passes its descriptor of the
 * root's lock (SCM_RIGHTS), so that the sealer works while that lock is
 * held (and keeps holding it should the caller die).
 *
 *   seal\n
 *       bring the root to a consistent, sealed state: finish a seal that
 *       was cut short, repoint current, empty the trash, make inprogress/
 *   seal START END RSYNC_EXIT FILES BYTES RESUMED\n
 *       the same, then seal inprogress/ and publish it as a snapshot with
 *       these figures (decimal; they go into its metadata and nowhere else)
 *
 *   ok\n | ok NAME\n             done (NAME: the snapshot published)
 *   error CODE MESSAGE\n         CODE an exit code of exitcodes.h
 *
 * Parsing is pure and strict (a fuzz target): any byte out of place is a
 * refusal.
 */
#ifndef HS_SEALPROTO_H
#define HS_SEALPROTO_H

#include <stddef.h>

#include "meta.h"

#define SEAL_REQ_MAX 200      /* bytes in a request line, newline included */
#define SEAL_REPLY_MAX 400    /* bytes in a reply line */
#define SEAL_MSG_MAX 300      /* bytes of a reply's message */

struct seal_request {
	int publish;            /* figures given: seal inprogress/ too */
	struct snapmeta m;      /* start, end, rsync_exit, files, bytes, resumed */
};

struct seal_reply {
	int code;               /* 0 ok, else an exit code (not 0, 2, 3 or 130) */
	char name[SNAPNAME_SIZE];   /* what was published, or "" */
	char msg[SEAL_MSG_MAX + 1]; /* why not, for code != 0 */
};

/* The request line (newline included) into buf; its length, or -ENOSPC. */
int sealreq_format(const struct seal_request *q, char *buf, size_t size);

/* Parse len bytes (exactly one line). 0, or -EINVAL with *why set. */
int sealreq_parse(const char *buf, size_t len, struct seal_request *q, const char **why);

/* The reply line; its length, or -ENOSPC. A message is cut to fit and
 * every byte outside printable ASCII in it becomes '?'. */
int sealreply_format(const struct seal_reply *r, char *buf, size_t size);

/* Parse len bytes (exactly one line). 0, or -EINVAL. */
int sealreply_parse(const char *buf, size_t len, struct seal_reply *r);

#endif
