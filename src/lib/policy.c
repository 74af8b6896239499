#include "policy.h"
#include "fastpush.h"
#include "snapname.h"
#include "snappath.h"
#include "strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void request_free(struct request *r)
{
	argv_clear(&r->opts);
	argv_clear(&r->query);
	argv_clear(&r->src_snap);
	argv_clear(&r->src_rest);
	free(r->dest);
	memset(r, 0, sizeof(*r));
}

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Short options of the receiver. Letters not listed here are refused as
 * unknown; listed letters with a reason are refused with that reason.
 */
static const char short_ok[] = "vqlHogDtpAXrRxcdSWIEJOmnuyzCN";
static const char short_ok_pull[] = "vqlHogDtpAXrRxcdSWIEJOmnuyzCNUb";

static const struct {
	char c;
	const char *reason;
} short_refused[] = {
	{ 's', "-s (--secluded-args) hides the arguments from the server; "
	       "run the client with --no-secluded-args and without RSYNC_PROTECT_ARGS" },
	{ 'M', "-M (--remote-option) is not accepted" },
	{ 'K', "-K (--keep-dirlinks) would follow directory symlinks in the backup" },
	{ 'U', "-U (--atimes) would rewrite access times of files shared with earlier snapshots" },
	{ 'b', "-b (--backup) is not accepted: the server keeps history itself" },
	{ 'L', "-L (--copy-links) is not accepted: symlinks are kept and restored as they are" },
	{ 'k', "-k (--copy-dirlinks) is not accepted: symlinks are kept and restored as they are" },
	{ 'e', "-e (--rsh) is not accepted" },
	{ 'T', "-T (--temp-dir) is not accepted" },
	{ 'P', "-P is a client option and is not accepted here" },
	{ 'i', "-i is a client option and is not accepted here" },
	{ 'h', "-h is a client option and is not accepted here" },
	{ 'a', "-a is a client option and is not accepted here" },
	{ 'f', "-f (--filter) must travel over the protocol, not the command line" },
	{ 'F', "-F must travel over the protocol, not the command line" },
	{ 0, NULL },
};

/* Letters allowed in the capability block after -e (rsync's "-e.LsfxCIvu"). */
static const char caps_ok[] = "iLsfxCIvuVa";

enum argkind {
	A_NONE,     /* --name, no value */
	A_UINT,     /* decimal number */
	A_SIZE,     /* number with an optional K/M/G suffix */
	A_WORD,     /* a name: letters, digits, -_.+ */
	A_INFO,     /* --info flags: letters, digits and commas */
	A_CHMOD,    /* --chmod rules */
	A_ICONV,    /* charset names */
	A_LOGFMT,   /* one of rsync's own --log-format values */
	A_STDIN,    /* only "-": the list comes over the connection */
	A_WINDOW,   /* -1 or a decimal number */
	A_LEVEL,    /* a compression level, 0 to 22 (zstd's highest) */
	A_NAME,     /* one relative path component: stays inside the tree */
	A_CLAMPED,  /* a number the server clamps itself (up to 18 digits) */
	A_BLOCK,    /* a block size in bytes, at most rsync's 131072 */
};

enum action {
	ACT_KEEP,    /* pass on as --name[=value] */
	ACT_DROP,    /* accepted but not passed on: the server sets it itself */
	ACT_TIMEOUT, /* bounded by HS_TIMEOUT_MAX */
	ACT_REFUSE,  /* refused with the reason */
};

/*
 * One row per option. `pull` says how a restore (the sender role) differs
 * from a push: NULL for "the same", PULL_KEEP for "accepted for restores
 * although refused for pushes", or the reason it is refused for restores.
 */
struct longopt {
	const char *name;
	enum argkind arg;
	enum action act;
	const char *reason;
	const char *pull;
};

static const char PULL_KEEP[] = "";
static const char pull_senseless[] = "makes no sense for a restore";
static const char pull_nodelete[] = "makes no sense for a restore: nothing is ever deleted from a snapshot";

#define KEEP(n, a) { n, a, ACT_KEEP, NULL, NULL }
#define KEEP_PUSH(n, a, p) { n, a, ACT_KEEP, NULL, p }
#define NO(n, why) { n, A_NONE, ACT_REFUSE, why, NULL }
#define NO_PUSH(n, a, why) { n, a, ACT_REFUSE, why, PULL_KEEP }

static const char no_dest_opts[] =
	"the server chooses the link basis itself";
static const char no_server_paths[] =
	"names a path on the server, which a client may not choose";
static const char no_inplace[] =
	"would write into files shared with earlier snapshots";

static const struct longopt long_opts[] = {
	/* transfer behaviour, all confined to the tree being received */
	KEEP_PUSH("delete", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-before", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-during", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-after", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-delay", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-excluded", A_NONE, pull_nodelete),
	KEEP_PUSH("delete-missing-args", A_NONE, pull_nodelete),
	KEEP("ignore-missing-args", A_NONE),
	KEEP("ignore-errors", A_NONE),
	KEEP_PUSH("force", A_NONE, pull_senseless),
	KEEP("numeric-ids", A_NONE),
	KEEP_PUSH("partial", A_NONE, pull_senseless),
	KEEP("size-only", A_NONE),
	KEEP("ignore-times", A_NONE),
	KEEP("ignore-existing", A_NONE),
	KEEP("update", A_NONE),
	KEEP_PUSH("max-delete", A_UINT, pull_senseless),
	KEEP("min-size", A_SIZE),
	KEEP("max-size", A_SIZE),
	KEEP("modify-window", A_WINDOW),
	KEEP("bwlimit", A_SIZE),
	KEEP("compress-level", A_LEVEL),
	KEEP("compress-choice", A_WORD),
	KEEP("checksum-choice", A_WORD),
	KEEP("checksum-seed", A_UINT),
	KEEP("block-size", A_BLOCK),
	KEEP("old-compress", A_NONE),
	KEEP("new-compress", A_NONE),
	KEEP("stats", A_NONE),
	KEEP_PUSH("fsync", A_NONE, pull_senseless),
	KEEP_PUSH("delay-updates", A_NONE, pull_senseless),
	KEEP_PUSH("preallocate", A_NONE, pull_senseless),
	KEEP("open-noatime", A_NONE),
	KEEP_PUSH("mkpath", A_NONE, pull_senseless),
	KEEP("no-implied-dirs", A_NONE),
	KEEP("safe-links", A_NONE),
	KEEP_PUSH("copy-unsafe-links", A_NONE,
		  "would follow symlinks out of the snapshot"),
	KEEP("munge-links", A_NONE),
	KEEP("from0", A_NONE),
	KEEP_PUSH("files-from", A_STDIN, "is not accepted for restores: name the paths"),
	KEEP("info", A_INFO),
	KEEP("msgs2stderr", A_NONE),
	KEEP("no-msgs2stderr", A_NONE),
	KEEP("iconv", A_ICONV),
	KEEP("chmod", A_CHMOD),
	KEEP("log-format", A_LOGFMT),
	KEEP("no-W", A_NONE),
	KEEP("no-whole-file", A_NONE),
	KEEP("no-r", A_NONE),
	KEEP("no-relative", A_NONE),
	KEEP("no-implied-dirs", A_NONE),
	KEEP("no-specials", A_NONE),
	KEEP("no-devices", A_NONE),
	KEEP("fuzzy", A_NONE),
	KEEP("prune-empty-dirs", A_NONE),
	KEEP("omit-dir-times", A_NONE),
	KEEP("omit-link-times", A_NONE),
	KEEP("crtimes", A_NONE),
	/* long spellings of the short letters above */
	KEEP("links", A_NONE),
	KEEP("hard-links", A_NONE),
	KEEP("owner", A_NONE),
	KEEP("group", A_NONE),
	KEEP("devices", A_NONE),
	KEEP("specials", A_NONE),
	KEEP("times", A_NONE),
	KEEP("perms", A_NONE),
	KEEP("acls", A_NONE),
	KEEP("xattrs", A_NONE),
	KEEP("recursive", A_NONE),
	KEEP("relative", A_NONE),
	KEEP("one-file-system", A_NONE),
	KEEP("checksum", A_NONE),
	KEEP("dirs", A_NONE),
	KEEP("sparse", A_NONE),
	KEEP("whole-file", A_NONE),
	KEEP("executability", A_NONE),
	KEEP("verbose", A_NONE),
	KEEP("quiet", A_NONE),
	KEEP("compress", A_NONE),
	KEEP("cvs-exclude", A_NONE),
	KEEP("dry-run", A_NONE),
	/* set by the server itself; a client value is accepted and ignored */
	{ "fake-super", A_NONE, ACT_DROP, NULL, NULL },
	{ "max-alloc", A_SIZE, ACT_DROP, NULL, NULL },
	{ "timeout", A_CLAMPED, ACT_TIMEOUT, NULL, NULL },
	/* refused, each with its reason */
	NO("server", "--server given twice"),
	NO("sender", "--sender must come right after --server"),
	NO("daemon", "--daemon is not accepted"),
	NO("config", "--config names a file on the server"),
	NO("rsh", "--rsh is not accepted"),
	NO("rsync-path", "--rsync-path is not accepted"),
	NO("remote-option", "--remote-option is not accepted"),
	NO("secluded-args", "--secluded-args hides the arguments from the server; "
	   "run the client with --no-secluded-args"),
	NO("protect-args", "--protect-args hides the arguments from the server; "
	   "run the client with --no-secluded-args"),
	NO("log-file", no_server_paths),
	NO("log-file-format", "--log-file-format is not accepted"),
	NO("write-batch", no_server_paths),
	NO("read-batch", no_server_paths),
	NO("only-write-batch", no_server_paths),
	NO("temp-dir", no_server_paths),
	KEEP_PUSH("partial-dir", A_NAME, pull_senseless),
	NO("backup", "--backup is not accepted: the server keeps history itself"),
	NO("backup-dir", no_server_paths),
	NO("suffix", "--suffix is not accepted: the server keeps history itself"),
	NO("link-dest", no_dest_opts),
	NO("copy-dest", no_dest_opts),
	NO("compare-dest", no_dest_opts),
	NO("exclude-from", no_server_paths),
	NO("include-from", no_server_paths),
	NO("filter", "filter rules must travel over the protocol"),
	NO("exclude", "filter rules must travel over the protocol"),
	NO("include", "filter rules must travel over the protocol"),
	NO_PUSH("inplace", A_NONE, no_inplace),
	NO_PUSH("append", A_NONE, no_inplace),
	NO_PUSH("append-verify", A_NONE, no_inplace),
	NO("keep-dirlinks", "--keep-dirlinks would follow directory symlinks in the backup"),
	NO_PUSH("atimes", A_NONE, "--atimes would rewrite access times of files shared with earlier snapshots"),
	NO("remove-source-files", "a snapshot is never changed by a transfer"),
	NO("remove-sent-files", "a snapshot is never changed by a transfer"),
	NO("super", "--super is not accepted: ownership is kept with --fake-super"),
	NO("chown", "--chown would store other owners than the client's"),
	NO("usermap", "--usermap would store other owners than the client's"),
	NO("groupmap", "--groupmap would store other owners than the client's"),
	NO("copy-devices", "--copy-devices is not accepted"),
	NO("write-devices", "--write-devices is not accepted"),
	NO("copy-as", "--copy-as is not accepted"),
	NO("existing", "--existing makes no sense: every push lands in a fresh tree"),
	NO_PUSH("list-only", A_NONE, "a push lists nothing; list with a restore (--sender)"),
	NO("copy-links", "symlinks are kept and restored as they are"),
	NO("copy-dirlinks", "symlinks are kept and restored as they are"),
	NO("insecure-links", "--insecure-links is not accepted"),
	NO("confine-root", "the server confines rsync itself"),
	NO("debug", "--debug is not accepted"),
	NO("stop-at", "--stop-at is not accepted"),
	NO("stop-after", "--stop-after is not accepted"),
	NO("password-file", no_server_paths),
	NO("early-input", no_server_paths),
};

static int all_in(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static int check_value(enum argkind kind, const char *v)
{
	static const char digits[] = "0123456789";
	static const char word[] = "abcdefghijklmnopqrstuvwxyz"
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+";

	if (strlen(v) > 128)
		return 0;
	switch (kind) {
	case A_NONE:
		return 0;
	case A_UINT:
		return all_in(v, digits) && strlen(v) <= 9;   /* rsync reads an int */
	case A_SIZE: {
		size_t d = strspn(v, digits);
		if (d == 0 || d > 15)
			return 0;
		if (v[d] == '.')
			d += 1 + strspn(v + d + 1, digits);
		return v[d] == '\0' || all_in(v + d, "KMGTkmgtBb");
	}
	case A_WORD:
		return all_in(v, word);
	case A_INFO:
		return all_in(v, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789,");
	case A_CHMOD:
		return all_in(v, "ugoaDF+-=rwxXst01234567,");
	case A_ICONV:
		return all_in(v, "abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:,");
	case A_LOGFMT:
		return !strcmp(v, "%i") || !strcmp(v, "%i%I") ||
		       !strcmp(v, "%o") || !strcmp(v, "X");
	case A_STDIN:
		return !strcmp(v, "-");
	case A_WINDOW:
		return !strcmp(v, "-1") || (all_in(v, digits) && strlen(v) <= 9);
	case A_CLAMPED:
		return all_in(v, digits) && strlen(v) <= 18;
	case A_NAME:
		return all_in(v, word) && strcmp(v, ".") && strcmp(v, "..") && strlen(v) <= 64;
	case A_LEVEL:
		return all_in(v, digits) && strlen(v) <= 2 && atoi(v) <= 22;
	case A_BLOCK:
		return all_in(v, digits) && strlen(v) <= 6 && atol(v) <= 131072;
	}
	return 0;
}

static const struct longopt *find_long(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(long_opts) / sizeof(long_opts[0]); i++)
		if (strlen(long_opts[i].name) == len &&
		    !strncmp(long_opts[i].name, name, len))
			return &long_opts[i];
	return NULL;
}

/* Print at most 64 bytes of something the client sent, for a message. */
#define SHOWN(s) 64, (s)

static int judge_short(const char *tok, struct request *r, char *why, size_t whylen)
{
	const char *ok = r->role == ROLE_PULL ? short_ok_pull : short_ok;
	size_t nflags = strlen(r->flags);

	for (const char *p = tok + 1; *p; p++) {
		if (*p == 'e' && p[1] == '.') {
			if (r->caps[0])
				return refuse(why, whylen, "capability block given twice");
			if (strlen(p + 1) >= sizeof(r->caps) ||
			    strspn(p + 2, caps_ok) != strlen(p + 2))
				return refuse(why, whylen, "bad capability block -%.*s", SHOWN(p));
			memcpy(r->caps, p + 1, strlen(p + 1) + 1);
			return 0;
		}
		if (*p == 'B') {
			/* -B8192: stock clients send --block-size as a short option */
			if (!check_value(A_BLOCK, p + 1))
				return refuse(why, whylen, "bad value for -B (--block-size): %.*s",
					      SHOWN(p + 1));
			argv_pushf(&r->opts, "--block-size=%s", p + 1);
			return 0;
		}
		if (strchr(ok, *p)) {
			if (nflags + 1 >= sizeof(r->flags))
				return refuse(why, whylen, "too many short options");
			r->flags[nflags++] = *p;
			r->flags[nflags] = '\0';
			continue;
		}
		for (size_t i = 0; short_refused[i].reason; i++)
			if (short_refused[i].c == *p)
				return refuse(why, whylen, "%s", short_refused[i].reason);
		if ((unsigned char)*p < 0x80 && (unsigned char)*p > 0x20)
			return refuse(why, whylen, "unknown option -%c", *p);
		return refuse(why, whylen, "unknown option in %.*s", SHOWN(tok));
	}
	return 0;
}

static int judge_long(size_t n, char *const words[], size_t *i,
		      struct request *r, char *why, size_t whylen)
{
	const char *tok = words[*i] + 2;
	const char *eq = strchr(tok, '=');
	size_t nlen = eq ? (size_t)(eq - tok) : strlen(tok);
	const struct longopt *o = find_long(tok, nlen);
	const char *val = eq ? eq + 1 : NULL;

	if (!o)
		return refuse(why, whylen, "unknown option --%.*s",
			      (int)(nlen > 64 ? 64 : nlen), tok);
	enum action act = o->act;
	if (r->role == ROLE_PULL && o->pull == PULL_KEEP)
		act = ACT_KEEP;
	else if (r->role == ROLE_PULL && o->pull)
		return refuse(why, whylen, "--%s %s", o->name, o->pull);
	if (act == ACT_REFUSE)
		return refuse(why, whylen, "--%s: %s", o->name, o->reason);
	if (o->arg == A_NONE && val)
		return refuse(why, whylen, "--%s takes no value", o->name);
	if (o->arg != A_NONE && !val) {
		if (*i + 1 >= n)
			return refuse(why, whylen, "--%s needs a value", o->name);
		val = words[++*i];
	}
	if (o->arg != A_NONE && !check_value(o->arg, val))
		return refuse(why, whylen, "bad value for --%s: %.*s", o->name, SHOWN(val));

	switch (act) {
	case ACT_KEEP:
		if (val)
			argv_pushf(&r->opts, "--%s=%s", o->name, val);
		else
			argv_pushf(&r->opts, "--%s", o->name);
		break;
	case ACT_TIMEOUT: {
		long t = strtol(val, NULL, 10);
		/* 0 means "no timeout" to rsync: bound it like any other */
		r->timeout = (t <= 0 || t > HS_TIMEOUT_MAX) ? HS_TIMEOUT_MAX : t;
		break;
	}
	case ACT_DROP:
	case ACT_REFUSE:
		break;
	}
	return 0;
}

/*
 * Normalise the destination the client named inside the tree: "." and ""
 * mean the top; "~/x" is what older clients send for x; absolute paths and
 * ".." are refused.
 */
static int judge_dest(const char *d, struct request *r, char *why, size_t whylen)
{
	struct strbuf out = STRBUF_INIT;

	if (strlen(d) >= PATH_MAX)
		return refuse(why, whylen, "destination too long");
	if (d[0] == '~' && (d[1] == '/' || d[1] == '\0'))
		d += 1;
	else if (d[0] == '~')
		return refuse(why, whylen, "destination %.*s names another user's home", SHOWN(d));
	else if (d[0] == '/')
		return refuse(why, whylen, "absolute destination %.*s refused: name a path "
			      "inside your backup, like server:sub/dir", SHOWN(d));
	while (*d) {
		size_t len = strcspn(d, "/");
		if (len == 2 && !strncmp(d, "..", 2)) {
			sb_release(&out);
			return refuse(why, whylen, "destination with '..' refused");
		}
		if (len > NAME_MAX) {
			sb_release(&out);
			return refuse(why, whylen, "destination component too long");
		}
		if (len && !(len == 1 && d[0] == '.')) {
			if (out.len)
				sb_addch(&out, '/');
			sb_add(&out, d, len);
		}
		d += len;
		while (*d == '/')
			d++;
	}
	r->dest = sb_detach(&out);
	return 0;
}

/* The options between "--server [--sender]" and ".": returns the index of ".". */
static int judge_options(size_t n, char *const words[], size_t i, struct request *r,
			 char *why, size_t whylen, size_t *dot)
{
	r->timeout = HS_TIMEOUT_DEFAULT;
	for (; i < n; i++) {
		const char *w = words[i];

		if (!strcmp(w, "--")) {
			i++;
			break;
		}
		if (w[0] != '-' || w[1] == '\0')
			break;
		if (w[1] == '-') {
			if (judge_long(n, words, &i, r, why, whylen) < 0)
				return -1;
		} else if (judge_short(w, r, why, whylen) < 0) {
			return -1;
		}
	}
	if (i >= n || strcmp(words[i], "."))
		return refuse(why, whylen, "malformed rsync server command: "
			      "expected '.' after the options");
	r->dry_run = strchr(r->flags, 'n') != NULL;
	for (size_t k = 0; k < r->opts.n; k++)
		if (!strcmp(r->opts.v[k], "--dry-run"))
			r->dry_run = 1;
	*dot = i;
	return 0;
}

static int judge_push(size_t n, char *const words[], struct request *r,
		      char *why, size_t whylen)
{
	size_t i;

	r->role = ROLE_PUSH;
	if (judge_options(n, words, 2, r, why, whylen, &i) < 0)
		return -1;
	i++;
	if (i >= n)
		return refuse(why, whylen, "no destination given");
	if (i + 1 < n)
		return refuse(why, whylen, "more than one destination given");
	return judge_dest(words[i], r, why, whylen);
}

/*
 * One restore source: "NAME/rest" or "current/rest". Wildcards are refused
 * outright: rsync expands them itself on the sender, and ".*" matches "..".
 * The rest goes to rsync normalised: no empty or "." components (so no
 * rsync -R "/./" anchor), ".." refused, a trailing slash kept.
 */
static int judge_source(const char *src, struct request *r, char *why, size_t whylen)
{
	struct strbuf rest = STRBUF_INIT;
	int trailing = 0;

	if (src[0] == '~' && src[1] == '/')
		src += 2;   /* what older clients send for the home, as for pushes */
	size_t sel_len = strcspn(src, "/");
	const char *p = src + sel_len;

	if (strpbrk(src, "*?[") )
		return refuse(why, whylen, "wildcards are not accepted in restore paths: %.*s",
			      SHOWN(src));
	if (strlen(src) >= PATH_MAX)
		return refuse(why, whylen, "restore path too long");
	char sel[SNAPNAME_SIZE];
	if (sel_len == 7 && !strncmp(src, "current", 7)) {
		memcpy(sel, "current", 8);
	} else if (sel_len == SNAPNAME_LEN) {
		memcpy(sel, src, SNAPNAME_LEN);
		sel[SNAPNAME_LEN] = '\0';
		if (snapname_parse(sel, NULL) < 0)
			goto bad_sel;
	} else {
		goto bad_sel;
	}
	while (*p) {
		while (*p == '/')
			p++;
		size_t len = strcspn(p, "/");
		if (!len)
			break;
		if (len == 2 && !strncmp(p, "..", 2)) {
			sb_release(&rest);
			return refuse(why, whylen, "restore path with '..' refused");
		}
		if (len > NAME_MAX) {
			sb_release(&rest);
			return refuse(why, whylen, "restore path component too long");
		}
		if (len == 1 && p[0] == '.') {
			/* "evil/." would make rsync follow a symlink the walk saw
			 * as the last component: it means "evil/", and is checked so */
			p += len;
			trailing = p[strspn(p, "/")] == '\0';
			continue;
		}
		if (rest.len)
			sb_addch(&rest, '/');
		sb_add(&rest, p, len);
		p += len;
		trailing = *p == '/' && p[strspn(p, "/")] == '\0';
	}
	if (trailing && rest.len)
		sb_addch(&rest, '/');
	argv_push(&r->src_snap, sel);
	argv_push(&r->src_rest, rest.buf);
	sb_release(&rest);
	return 0;
bad_sel:
	return refuse(why, whylen, "restore paths start with a snapshot name or current/, "
		      "not %.*s", SHOWN(src));
}

static int judge_pull(size_t n, char *const words[], struct request *r,
		      char *why, size_t whylen)
{
	size_t i;

	r->role = ROLE_PULL;
	if (judge_options(n, words, 3, r, why, whylen, &i) < 0)
		return -1;
	i++;
	if (i >= n)
		return refuse(why, whylen, "no path to restore given");
	if (n - i > HS_PULL_SOURCES_MAX)
		return refuse(why, whylen, "more than %d paths in one restore",
			      HS_PULL_SOURCES_MAX);
	for (; i < n; i++)
		if (judge_source(words[i], r, why, whylen) < 0)
			return -1;
	for (size_t k = 1; k < r->src_snap.n; k++)
		if (strcmp(r->src_snap.v[k], r->src_snap.v[0]))
			return refuse(why, whylen, "one restore reads one snapshot: "
				      "%s and %s differ", r->src_snap.v[0], r->src_snap.v[k]);
	return 0;
}

/*
 * The read-only queries and their arguments: a snapshot is an exact name or
 * "current" (times are resolved by the client, which knows the user's
 * zone); a path lies inside a snapshot, is normalised here (a leading '/'
 * dropped) and may not contain "..". Each verb takes an exact number of
 * arguments.
 */
enum qarg { Q_SNAP, Q_PATH };

static const struct query_verb {
	const char *name;
	size_t min, max;
	enum qarg args[3];
	const char *synopsis;
} query_verbs[] = {
	{ "list", 0, 0, { Q_PATH }, "" },
	{ "status", 0, 0, { Q_PATH }, "" },
	{ "versions", 1, 1, { Q_PATH }, "PATH" },
	{ "ls", 2, 2, { Q_SNAP, Q_PATH }, "SNAPSHOT PATH" },
	{ "diff", 2, 3, { Q_SNAP, Q_SNAP, Q_PATH }, "SNAPSHOT_A SNAPSHOT_B [PATH]" },
};

static int judge_query_arg(enum qarg kind, const char *arg, struct request *r,
			   char *why, size_t whylen)
{
	char *norm = NULL;
	int rc;

	if (kind == Q_SNAP) {
		if (strcmp(arg, "current") && snapname_parse(arg, NULL) < 0)
			return refuse(why, whylen, "a snapshot is named YYYY_MM_DD_HH_MM_SS "
				      "or current, not %.*s", SHOWN(arg));
		argv_push(&r->query, arg);
		return 0;
	}
	rc = snap_normalise(arg, &norm);
	if (rc == -EINVAL)
		return refuse(why, whylen, "path with '..' refused");
	if (rc < 0)
		return refuse(why, whylen, "path too long");
	argv_push(&r->query, norm);
	free(norm);
	return 0;
}

static int judge_query(size_t n, char *const words[], struct request *r,
		       char *why, size_t whylen)
{
	if (n < 2)
		return refuse(why, whylen, "hindsight: no query verb given");
	for (size_t v = 0; v < sizeof(query_verbs) / sizeof(query_verbs[0]); v++) {
		const struct query_verb *q = &query_verbs[v];
		size_t nargs = n - 2;

		if (strcmp(words[1], q->name))
			continue;
		if (nargs < q->min || nargs > q->max) {
			if (q->max == 0)
				return refuse(why, whylen, "hindsight %s takes no arguments", q->name);
			return refuse(why, whylen, "wrong number of arguments: usage is "
				      "hindsight %s %s", q->name, q->synopsis);
		}
		argv_push(&r->query, words[1]);
		for (size_t i = 0; i < nargs; i++)
			if (judge_query_arg(q->args[i], words[2 + i], r, why, whylen) < 0)
				return -1;
		r->role = ROLE_QUERY;
		return 0;
	}
	return refuse(why, whylen, "unknown query verb %.*s", SHOWN(words[1]));
}

int judge_command(size_t n, char *const words[], struct request *r,
		  char *why, size_t whylen)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (n == 0)
		rc = refuse(why, whylen, "no command given: this account only accepts "
			    "hindsight backups (interactive logins are refused)");
	else if (!strcmp(words[0], "hindsight"))
		rc = judge_query(n, words, r, why, whylen);
	else if (strcmp(words[0], "rsync"))
		rc = refuse(why, whylen, "command %.*s refused: only rsync and hindsight "
			    "queries are accepted", SHOWN(words[0]));
	else if (n < 2 || strcmp(words[1], "--server"))
		rc = refuse(why, whylen, "only rsync in server mode is accepted");
	else if (n > 2 && !strcmp(words[2], "--sender"))
		rc = judge_pull(n, words, r, why, whylen);
	else
		rc = judge_push(n, words, r, why, whylen);
	if (rc < 0)
		request_free(r);
	return rc;
}

void build_push_argv(const struct request *r, const struct push_plan *p,
		     struct argv *out)
{
	argv_push(out, p->rsync_path);
	argv_push(out, "--server");
	/* a lone "-" would be a path to rsync, not an empty option cluster */
	if (r->flags[0] || r->caps[0])
		argv_pushf(out, "-%s%s%s", r->flags, r->caps[0] ? "e" : "", r->caps);
	for (size_t i = 0; i < r->opts.n; i++)
		argv_push(out, r->opts.v[i]);
	/*
	 * rsync compares whole seconds by default, so a same-size edit within
	 * the second a file was backed up would be linked to the old inode
	 * and never stored. Nanoseconds, unless the client chose a window
	 * (a FAT source needs one).
	 */
	int window = 0;
	for (size_t i = 0; i < r->opts.n; i++)
		if (!strncmp(r->opts.v[i], "--modify-window=", 16))
			window = 1;
	if (!window)
		argv_push(out, "--modify-window=-1");
	for (size_t i = 0; i < p->n_link_dests; i++)
		argv_pushf(out, "--link-dest=%s%s%s", p->link_dests[i],
			   r->dest[0] ? "/" : "", r->dest);
	if (p->fake_super)
		argv_push(out, "--fake-super");
	argv_pushf(out, "--timeout=%ld", r->timeout);
	argv_push(out, "--max-alloc=" HS_MAX_ALLOC);
	/*
	 * A fast push receives into a clone whose history the kernel guards
	 * by ownership, under a Landlock ruleset that reads and writes only
	 * the tree and the temp dir: rsync's own per-component walk of every
	 * name (and --confine-root, which rsync will not combine with this)
	 * then guards nothing more, and costs most of the push (fastpush.h).
	 */
	if (p->insecure_links)
		argv_push(out, "--insecure-links");
	else if (p->confine_root)
		argv_pushf(out, "--confine-root=%s", p->root);
	/*
	 * rsync names a file's temporary copy after it, beside it: for a path
	 * near PATH_MAX that name is too long (and --fake-super then stats it
	 * by its full path). In a short directory of our own it always fits.
	 */
	if (p->temp_dir)
		argv_pushf(out, "--temp-dir=%s", p->temp_dir);
	if (p->log_file) {
		argv_pushf(out, "--log-file=%s", p->log_file);
		argv_push(out, p->fast ? "--log-file-format=" FASTPUSH_LOG_FORMAT
				       : "--log-file-format=%i %b %l");
		/* %I: every item is itemized, unchanged ones too (last one wins) */
		if (p->fast)
			argv_push(out, FASTPUSH_ITEMS_FORMAT);
	}
	argv_push(out, "--");
	argv_push(out, ".");
	argv_pushf(out, "%s%s%s", p->recv_dir, r->dest[0] ? "/" : "", r->dest);
}

void build_pull_argv(const struct request *r, const struct pull_plan *p,
		     struct argv *out)
{
	argv_push(out, p->rsync_path);
	argv_push(out, "--server");
	argv_push(out, "--sender");
	if (r->flags[0] || r->caps[0])
		argv_pushf(out, "-%s%s%s", r->flags, r->caps[0] ? "e" : "", r->caps);
	for (size_t i = 0; i < r->opts.n; i++)
		argv_push(out, r->opts.v[i]);
	if (p->fake_super)
		argv_push(out, "--fake-super");
	argv_pushf(out, "--timeout=%ld", r->timeout);
	argv_push(out, "--max-alloc=" HS_MAX_ALLOC);
	if (p->confine_root)
		argv_pushf(out, "--confine-root=%s", p->snapdir);
	argv_push(out, "--");
	argv_push(out, ".");
	for (size_t i = 0; i < p->n_args; i++)
		argv_push(out, p->args[i]);
}
