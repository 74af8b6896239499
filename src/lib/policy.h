/*
 * The policy that judges a command sent to `hindsight-server serve`.
 *
 * judge_command() is a pure function from the split command to a verdict:
 * nothing here opens, execs or logs, so the whole policy is testable from
 * tables (tests/unit/test_policy.c) and printable with `serve --check`.
 *
 * Every rsync option the receiver accepts is a row in an allowlist with a
 * checker for its value; anything not in it is refused by name.
 */
#ifndef HS_POLICY_H
#define HS_POLICY_H

#include <stddef.h>

#include "util.h"

#define HS_TIMEOUT_DEFAULT 3600   /* rsync --timeout when the client sets none */
#define HS_TIMEOUT_MAX 3600       /* the largest --timeout a client may ask for */
#define HS_MAX_ALLOC "1G"         /* rsync --max-alloc, always set by us */
#define HS_REASON_MAX 256
#define HS_PULL_SOURCES_MAX 16    /* paths in one restore */

enum hs_role {
	ROLE_NONE = 0,
	ROLE_PUSH,      /* rsync --server (receiver): a backup */
	ROLE_PULL,      /* rsync --server --sender: a restore */
	ROLE_QUERY,     /* hindsight VERB ...: read-only query */
};

/* What the client may ask for, as parsed and checked. */
struct request {
	enum hs_role role;
	/* ROLE_PUSH */
	char flags[64];        /* validated short flags, without 'e' */
	char caps[32];         /* capability string after -e, starting with '.' */
	struct argv opts;      /* accepted long options, canonical --name[=value] */
	long timeout;          /* what goes into --timeout */
	char *dest;            /* normalised destination inside the tree; "" = top */
	int dry_run;           /* -n: nothing is received, nothing published */
	/* ROLE_PULL: each source as a snapshot selector (NAME or "current")
	 * and the rest of its path ("" = the top; normalised, with a trailing
	 * slash kept, since rsync gives it meaning) */
	struct argv src_snap;
	struct argv src_rest;
	/* ROLE_QUERY */
	struct argv query;     /* verb and its arguments */
};

void request_free(struct request *r);

/*
 * Judge words[0..n). On success fills *r and returns 0. On refusal returns
 * -1 and writes a one-line reason (no trailing newline) into why.
 */
int judge_command(size_t n, char *const words[], struct request *r,
		  char *why, size_t whylen);

/* Where the push is received and what it is linked against. */
struct push_plan {
	const char *rsync_path;   /* absolute */
	const char *root;         /* absolute backup root */
	const char *recv_dir;     /* absolute: ROOT/inprogress */
	const char *const *link_dests; /* absolute basis trees, newest first */
	size_t n_link_dests;
	const char *log_file;     /* absolute, our own transfer log, or NULL */
	const char *temp_dir;     /* absolute, rsync's --temp-dir, or NULL */
	int fake_super;           /* not running as root */
	int confine_root;         /* installed rsync has --confine-root */
	int fast;                 /* fast sealed push: every item in the log (fastpush.h) */
	int insecure_links;       /* --insecure-links instead of --confine-root (fastpush.h) */
};

/* Where a restore reads from: one snapshot, pinned as rsync's cwd. */
struct pull_plan {
	const char *rsync_path;   /* absolute */
	const char *snapdir;      /* absolute path of the snapshot (for --confine-root) */
	char *const *args;        /* source paths relative to the snapshot */
	size_t n_args;
	int fake_super;
	int confine_root;
};

/* Build the exact argv to exec for an accepted restore. Caller clears *out. */
void build_pull_argv(const struct request *r, const struct pull_plan *p,
		     struct argv *out);

/*
 * Build the exact argv to exec for an accepted push. Pure: the same
 * request and plan always give the same argv. Caller clears *out.
 */
void build_push_argv(const struct request *r, const struct push_plan *p,
		     struct argv *out);

#endif
