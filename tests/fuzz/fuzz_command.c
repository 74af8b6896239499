/*
 * libFuzzer harness for the path an untrusted SSH_ORIGINAL_COMMAND takes
 * through `hindsight-server serve`, minus the filesystem: split_command(),
 * judge_command(), and the argv built for an accepted push or restore.
 *
 * Every property below is checked with fail(), which prints what broke and
 * aborts, so libFuzzer reports it like a crash and saves the input. The
 * oracle is written here, not borrowed from policy.c: which option names
 * may reach rsync, and how the forced options look, are stated again below
 * so that a mistake in the policy's table shows up as a violation. A new
 * option in the policy's allowlist needs a row in pass_opts[] too.
 * docs/FUZZING.md lists the invariants.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdsplit.h"
#include "policy.h"
#include "snapname.h"
#include "strbuf.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Long enough to reach the "command too long" refusal and a little past it. */
#define INPUT_MAX (HS_CMD_MAX + 64)

#define ROOT "/srv/hindsight/alice"
#define RSYNC "/usr/bin/rsync"
#define SNAP "2026_11_28_09_00_03"

static const char *const bases[] = {
	ROOT "/" SNAP,
	ROOT "/2026_11_27_09_00_03",
};

/* A real push: linked against two snapshots, logged, fake-super, confined. */
static const struct push_plan push_full = {
	.rsync_path = RSYNC,
	.root = ROOT,
	.recv_dir = ROOT "/inprogress",
	.link_dests = bases,
	.n_link_dests = 2,
	.log_file = ROOT "/.hindsight/transfer.log",
	.fake_super = 1,
	.confine_root = 1,
};

/* A dry run as serve plans it: no bases, no log; and as root, no confinement. */
static const struct push_plan push_dry = {
	.rsync_path = RSYNC,
	.root = ROOT,
	.recv_dir = ROOT "/.hindsight/dry-run",
	.link_dests = NULL,
	.n_link_dests = 0,
	.log_file = NULL,
	.fake_super = 0,
	.confine_root = 0,
};

static const char *current_input;

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\nfuzz_command.c:%d: invariant violated: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\ninput: \"%.300s\"\n", current_input ? current_input : "");
	abort();
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, __VA_ARGS__); } while (0)

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

static int same_words(const struct argv *a, const struct argv *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return 0;
	return a->v == NULL || a->v[a->n] == NULL;
}

static void copy_words(struct argv *dst, const struct argv *src)
{
	for (size_t i = 0; i < src->n; i++)
		argv_push(dst, src->v[i]);
}

/*
 * Does path contain a component equal to comp? Components are what lies
 * between slashes; a leading or doubled slash makes an empty one.
 */
static int has_component(const char *path, const char *comp)
{
	size_t clen = strlen(comp);

	for (const char *p = path;;) {
		size_t len = strcspn(p, "/");
		if (len == clen && !strncmp(p, comp, clen))
			return 1;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

/*
 * A path as the policy hands it on: relative, no "." or ".." component,
 * no empty one (so no "//"), none longer than NAME_MAX, and a trailing
 * slash only where allowed.
 */
static void check_clean_path(const char *what, const char *path, int trailing_ok)
{
	size_t len = strlen(path);

	CHECK(len < PATH_MAX, "%s too long (%zu)", what, len);
	if (!len)
		return;
	CHECK(path[0] != '/', "%s is absolute: %s", what, path);
	CHECK(!has_component(path, ".."), "%s has a '..' component: %s", what, path);
	CHECK(!has_component(path, "."), "%s has a '.' component: %s", what, path);
	CHECK(!strstr(path, "//"), "%s has an empty component: %s", what, path);
	if (path[len - 1] == '/')
		CHECK(trailing_ok && len > 1, "%s ends in '/': %s", what, path);
	for (const char *p = path; *p;) {
		size_t clen = strcspn(p, "/");
		CHECK(clen <= NAME_MAX, "%s has a component of %zu bytes", what, clen);
		p += clen + (p[clen] == '/');
	}
}

/* ---- the oracle for rsync's argv ---- */

enum who { BOTH, PUSH_ONLY, PULL_ONLY };

/*
 * Long options a client may get passed on to rsync, whether each takes a
 * value (always joined with '=' by the policy), and for which role.
 * Nothing here names a path on the server; --partial-dir names one
 * directory inside the tree being received.
 */
static const struct pass_opt {
	const char *name;
	int value;
	enum who who;
} pass_opts[] = {
	{ "delete", 0, PUSH_ONLY }, { "delete-before", 0, PUSH_ONLY },
	{ "delete-during", 0, PUSH_ONLY }, { "delete-after", 0, PUSH_ONLY },
	{ "delete-delay", 0, PUSH_ONLY }, { "delete-excluded", 0, PUSH_ONLY },
	{ "delete-missing-args", 0, PUSH_ONLY }, { "force", 0, PUSH_ONLY },
	{ "partial", 0, PUSH_ONLY }, { "max-delete", 1, PUSH_ONLY },
	{ "fsync", 0, PUSH_ONLY }, { "delay-updates", 0, PUSH_ONLY },
	{ "preallocate", 0, PUSH_ONLY }, { "mkpath", 0, PUSH_ONLY },
	{ "copy-unsafe-links", 0, PUSH_ONLY }, { "files-from", 1, PUSH_ONLY },
	{ "partial-dir", 1, PUSH_ONLY },
	/* meaningless or read-only for rsync's sender */
	{ "append", 0, PULL_ONLY }, { "append-verify", 0, PULL_ONLY },
	{ "atimes", 0, PULL_ONLY }, { "inplace", 0, PULL_ONLY },
	{ "list-only", 0, PULL_ONLY },
	{ "ignore-missing-args", 0, BOTH }, { "ignore-errors", 0, BOTH },
	{ "numeric-ids", 0, BOTH }, { "size-only", 0, BOTH },
	{ "ignore-times", 0, BOTH }, { "ignore-existing", 0, BOTH },
	{ "update", 0, BOTH }, { "min-size", 1, BOTH }, { "max-size", 1, BOTH },
	{ "modify-window", 1, BOTH }, { "bwlimit", 1, BOTH },
	{ "compress-level", 1, BOTH }, { "compress-choice", 1, BOTH },
	{ "checksum-choice", 1, BOTH }, { "checksum-seed", 1, BOTH },
	{ "block-size", 1, BOTH }, { "old-compress", 0, BOTH },
	{ "new-compress", 0, BOTH }, { "stats", 0, BOTH },
	{ "open-noatime", 0, BOTH }, { "no-implied-dirs", 0, BOTH },
	{ "safe-links", 0, BOTH }, { "munge-links", 0, BOTH },
	{ "from0", 0, BOTH }, { "info", 1, BOTH }, { "msgs2stderr", 0, BOTH },
	{ "no-msgs2stderr", 0, BOTH }, { "iconv", 1, BOTH }, { "chmod", 1, BOTH },
	{ "log-format", 1, BOTH }, { "no-W", 0, BOTH }, { "no-whole-file", 0, BOTH },
	{ "no-r", 0, BOTH }, { "no-relative", 0, BOTH }, { "no-specials", 0, BOTH },
	{ "no-devices", 0, BOTH }, { "fuzzy", 0, BOTH },
	{ "prune-empty-dirs", 0, BOTH }, { "omit-dir-times", 0, BOTH },
	{ "omit-link-times", 0, BOTH }, { "crtimes", 0, BOTH },
	{ "links", 0, BOTH }, { "hard-links", 0, BOTH }, { "owner", 0, BOTH },
	{ "group", 0, BOTH }, { "devices", 0, BOTH }, { "specials", 0, BOTH },
	{ "times", 0, BOTH }, { "perms", 0, BOTH }, { "acls", 0, BOTH },
	{ "xattrs", 0, BOTH }, { "recursive", 0, BOTH }, { "relative", 0, BOTH },
	{ "one-file-system", 0, BOTH }, { "checksum", 0, BOTH },
	{ "dirs", 0, BOTH }, { "sparse", 0, BOTH }, { "whole-file", 0, BOTH },
	{ "executability", 0, BOTH }, { "verbose", 0, BOTH }, { "quiet", 0, BOTH },
	{ "compress", 0, BOTH }, { "cvs-exclude", 0, BOTH }, { "dry-run", 0, BOTH },
};

/*
 * Never from a client, in any spelling: each would name a server path, run
 * something, hide arguments, or reach outside the tree. A token starting
 * with one of these may only be one the server built itself (checked
 * separately), so this list is a second net under pass_opts[].
 */
static const char *const never_from_client[] = {
	"--link-dest", "--copy-dest", "--compare-dest", "--temp-dir", "--backup-dir",
	"--backup", "--suffix", "--rsh", "--rsync-path", "--log-file", "--write-batch",
	"--read-batch", "--only-write-batch", "--config", "--daemon", "--remote-option",
	"--secluded-args", "--protect-args", "--super", "--chown",
	"--usermap", "--groupmap", "--copy-as", "--confine-root", "--fake-super",
	"--max-alloc", "--timeout", "--exclude", "--include", "--filter", "--password-file",
	"--early-input", "--remove-source-files", "--remove-sent-files", "--keep-dirlinks",
	"--copy-devices", "--write-devices", "--server", "--sender", "--debug",
	"--stop-at", "--stop-after", "--copy-links", "--copy-dirlinks", "--insecure-links",
	"--old-args", "--existing",
};

/* Short letters that may reach rsync: none takes an argument. */
static const char short_push[] = "vqlHogDtpAXrRxcdSWIEJOmnuyzCN";
static const char short_pull[] = "vqlHogDtpAXrRxcdSWIEJOmnuyzCNUb";
static const char caps_letters[] = "iLsfxCIvuVa";

static const struct pass_opt *find_pass(const char *name, size_t len, enum hs_role role)
{
	for (size_t i = 0; i < sizeof(pass_opts) / sizeof(pass_opts[0]); i++) {
		const struct pass_opt *o = &pass_opts[i];
		if (strlen(o->name) != len || strncmp(o->name, name, len))
			continue;
		if (o->who == BOTH || (o->who == PUSH_ONLY) == (role == ROLE_PUSH))
			return o;
	}
	return NULL;
}

/* The short-option word we build: -FLAGS[e.CAPS], checked letter by letter. */
static void check_cluster(const char *w, enum hs_role role)
{
	const char *ok = role == ROLE_PUSH ? short_push : short_pull;
	const char *p = w + 1;

	CHECK(w[0] == '-' && w[1] && w[1] != '-', "not a short-option word: %s", w);
	for (; *p && *p != 'e'; p++)
		CHECK(strchr(ok, *p), "short option -%c reaches rsync in %s", *p, w);
	if (*p == 'e') {
		CHECK(p[1] == '.', "-e without a capability block in %s", w);
		CHECK(strspn(p + 2, caps_letters) == strlen(p + 2),
		      "bad capability letters in %s", w);
		CHECK(strlen(p + 1) < 32, "capability block too long in %s", w);
	}
}

struct seen {
	size_t link_dest, log_file, log_format, timeout, max_alloc, fake_super,
	       confine, window, window_ours, cluster;
};

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * One word between "--server [--sender]" and "--". dest_suffix is what
 * follows the base in each --link-dest ("" or "/DEST"); root is what
 * --confine-root must name.
 */
static void check_option(const char *w, size_t pos, size_t first, enum hs_role role,
			 const struct request *r, const char *root, const char *dest_suffix,
			 const struct push_plan *pp, struct seen *s)
{
	if (w[0] == '-' && w[1] != '-') {
		CHECK(pos == first, "a short-option word at %zu, not %zu: %s", pos, first, w);
		check_cluster(w, role);
		s->cluster++;
		return;
	}
	CHECK(starts(w, "--") && w[2], "not an option before \"--\": %s", w);

	/* what the server adds itself, checked against the plan */
	if (starts(w, "--link-dest")) {
		CHECK(role == ROLE_PUSH && pp && s->link_dest < pp->n_link_dests,
		      "unexpected %s", w);
		struct strbuf want = STRBUF_INIT;
		sb_addf(&want, "--link-dest=%s%s", pp->link_dests[s->link_dest], dest_suffix);
		CHECK(!strcmp(w, want.buf), "%s is not %s", w, want.buf);
		sb_release(&want);
		s->link_dest++;
		return;
	}
	if (starts(w, "--log-file-format")) {
		CHECK(role == ROLE_PUSH && pp && pp->log_file &&
		      !strcmp(w, "--log-file-format=%i %b %l"), "unexpected %s", w);
		s->log_format++;
		return;
	}
	if (starts(w, "--log-file")) {
		CHECK(role == ROLE_PUSH && pp && pp->log_file && starts(w, "--log-file=") &&
		      !strcmp(w + 11, pp->log_file), "--log-file other than the plan's: %s", w);
		s->log_file++;
		return;
	}
	if (starts(w, "--timeout")) {
		char *end = NULL;
		long t = starts(w, "--timeout=") ? strtol(w + 10, &end, 10) : -1;
		CHECK(t >= 1 && t <= HS_TIMEOUT_MAX && *end == '\0' && t == r->timeout,
		      "bad forced timeout %s (request says %ld)", w, r->timeout);
		s->timeout++;
		return;
	}
	if (starts(w, "--max-alloc")) {
		CHECK(!strcmp(w, "--max-alloc=" HS_MAX_ALLOC), "bad %s", w);
		s->max_alloc++;
		return;
	}
	if (starts(w, "--fake-super")) {
		CHECK(!strcmp(w, "--fake-super"), "bad %s", w);
		s->fake_super++;
		return;
	}
	if (starts(w, "--confine-root")) {
		CHECK(starts(w, "--confine-root=") && !strcmp(w + 15, root),
		      "--confine-root other than %s: %s", root, w);
		s->confine++;
		return;
	}
	/* what the client asked for: the allowlist above, in canonical form */
	for (size_t i = 0; i < sizeof(never_from_client) / sizeof(never_from_client[0]); i++) {
		const char *bad = never_from_client[i];
		size_t blen = strlen(bad);
		CHECK(strncmp(w, bad, blen) || (w[blen] != '\0' && w[blen] != '='),
		      "client option %s reaches rsync", w);
	}
	const char *eq = strchr(w, '=');
	size_t nlen = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
	const struct pass_opt *o = find_pass(w + 2, nlen, role);
	CHECK(o, "option %s is not on the fuzz oracle's allowlist for this role", w);
	if (!o->value) {
		CHECK(!eq, "%s takes no value", w);
		return;
	}
	CHECK(eq && eq[1], "%s without its value joined by '='", w);
	CHECK(!strchr(eq + 1, '/'), "a client value names a path: %s", w);
	if (!strcmp(o->name, "files-from"))
		CHECK(!strcmp(eq + 1, "-"), "--files-from other than '-': %s", w);
	if (!strcmp(o->name, "partial-dir"))
		CHECK(strcmp(eq + 1, ".") && strcmp(eq + 1, ".."),
		      "--partial-dir leaves the directory: %s", w);
	if (!strcmp(o->name, "modify-window")) {
		s->window++;
		s->window_ours += !strcmp(w, "--modify-window=-1");
	}
}

/*
 * The argv built for an accepted push or restore: fixed words first, then
 * options (ours checked exactly, the client's against the allowlist), then
 * "--", ".", and the paths.
 */
struct expect {
	enum hs_role role;
	const char *root;                /* what --confine-root must name */
	int confine_root, fake_super;
	const struct push_plan *pp;      /* ROLE_PUSH */
	char *const *args;               /* ROLE_PULL: the plan's paths */
	size_t n_args;
};

static void check_built(const struct argv *a, const struct request *r,
			const struct expect *e)
{
	enum hs_role role = e->role;
	const struct push_plan *pp = e->pp;
	size_t first = role == ROLE_PUSH ? 2 : 3, dd = 0, n_tail;
	const char *root = e->root;
	struct strbuf suffix = STRBUF_INIT;
	struct seen s;

	memset(&s, 0, sizeof(s));
	CHECK(a->n >= first + 2 && a->v[a->n] == NULL, "argv too short or not terminated");
	CHECK(!strcmp(a->v[0], RSYNC), "argv[0] is %s", a->v[0]);
	CHECK(!strcmp(a->v[1], "--server"), "argv[1] is %s", a->v[1]);
	if (role == ROLE_PULL)
		CHECK(!strcmp(a->v[2], "--sender"), "argv[2] is %s", a->v[2]);
	for (size_t i = 0; i < a->n; i++) {
		CHECK(!has_control(a->v[i]), "control byte in argv[%zu]", i);
		if (!dd && !strcmp(a->v[i], "--"))
			dd = i;
	}
	CHECK(dd >= first, "no \"--\" before the paths");
	CHECK(dd + 1 < a->n && !strcmp(a->v[dd + 1], "."), "no \".\" after \"--\"");
	n_tail = a->n - dd - 2;

	if (role == ROLE_PUSH && r->dest[0])
		sb_addf(&suffix, "/%s", r->dest);
	for (size_t i = first; i < dd; i++)
		check_option(a->v[i], i, first, role, r, root, suffix.buf, pp, &s);

	CHECK(s.cluster == (r->flags[0] || r->caps[0]), "short-option word count %zu", s.cluster);
	CHECK(s.timeout == 1 && s.max_alloc == 1, "forced --timeout/--max-alloc not once each");
	CHECK(s.confine == (size_t)e->confine_root, "--confine-root %zu times", s.confine);
	CHECK(s.fake_super == (size_t)e->fake_super, "--fake-super %zu times", s.fake_super);
	if (role == ROLE_PUSH && pp) {
		CHECK(s.link_dest == pp->n_link_dests, "%zu --link-dest, plan has %zu",
		      s.link_dest, pp->n_link_dests);
		CHECK(s.log_file == (pp->log_file != NULL) && s.log_format == s.log_file,
		      "--log-file/--log-file-format count");
		/* nanosecond comparison unless the client chose a window */
		size_t asked = 0;
		for (size_t i = 0; i < r->opts.n; i++)
			asked += starts(r->opts.v[i], "--modify-window=");
		CHECK(asked ? s.window == asked : s.window == 1 && s.window_ours == 1,
		      "--modify-window: %zu in argv, %zu asked for", s.window, asked);
		CHECK(n_tail == 1, "%zu destinations", n_tail);

		/* the destination: the plan's tree or a clean path below it */
		const char *d = a->v[a->n - 1];
		size_t rl = strlen(pp->recv_dir), dl = strlen(d);
		CHECK(!strncmp(d, pp->recv_dir, rl) && (d[rl] == '\0' || d[rl] == '/'),
		      "destination %s outside %s", d, pp->recv_dir);
		CHECK(!strstr(d, "/../") && !strstr(d, "/./") && !strstr(d, "//"),
		      "destination %s not normalised", d);
		CHECK(!(dl >= 3 && !strcmp(d + dl - 3, "/..")) &&
		      !(dl >= 2 && !strcmp(d + dl - 2, "/.")) && d[dl - 1] != '/',
		      "destination %s ends badly", d);
		CHECK(!strcmp(d + rl, suffix.buf), "destination %s is not the request's %s",
		      d, r->dest);
	} else {
		size_t asked = 0;
		for (size_t i = 0; i < r->opts.n; i++)
			asked += starts(r->opts.v[i], "--modify-window=");
		CHECK(s.link_dest == 0 && s.log_file == 0 && s.window == asked,
		      "push-only forced options in a restore");
		CHECK(n_tail == e->n_args, "%zu paths, plan has %zu", n_tail, e->n_args);
		for (size_t i = 0; i < n_tail; i++) {
			const char *p = a->v[dd + 2 + i];
			CHECK(!strcmp(p, e->args[i]), "restore path %s is not %s", p, e->args[i]);
			CHECK(p[0] != '/' && !has_component(p, ".."),
			      "restore path %s escapes the snapshot", p);
			CHECK(!strpbrk(p, "*?["), "restore path %s would be globbed", p);
		}
	}
	sb_release(&suffix);
}

/* serve --check prints quote_argv() of the argv: it must split back. */
static void check_quotes_back(const struct argv *a)
{
	struct strbuf q = STRBUF_INIT;
	struct argv back = ARGV_INIT;
	const char *why = NULL;

	quote_argv(&q, a->v, a->n);
	if (q.len <= HS_CMD_MAX && a->n <= HS_ARGS_MAX) {
		CHECK(split_command(q.buf, &back, &why) == 0,
		      "quoted argv does not split: %s", why ? why : "?");
		CHECK(same_words(&back, a), "quoted argv splits to other words");
	}
	argv_clear(&back);
	sb_release(&q);
}

static void check_push(const struct request *r, const struct push_plan *p)
{
	struct argv a = ARGV_INIT, again = ARGV_INIT;

	build_push_argv(r, p, &a);
	const struct expect e = {
		.role = ROLE_PUSH, .root = p->root, .confine_root = p->confine_root,
		.fake_super = p->fake_super, .pp = p,
	};
	check_built(&a, r, &e);
	check_quotes_back(&a);
	build_push_argv(r, p, &again);
	CHECK(same_words(&a, &again), "build_push_argv is not deterministic");
	argv_clear(&again);
	argv_clear(&a);
}

static void check_request(const struct request *r, const struct argv *words)
{
	CHECK(r->timeout >= 0 && r->timeout <= HS_TIMEOUT_MAX, "timeout %ld", r->timeout);
	CHECK(strlen(r->flags) < sizeof(r->flags) && strlen(r->caps) < sizeof(r->caps),
	      "flags or caps not terminated");
	CHECK(!r->caps[0] || r->caps[0] == '.', "caps %s", r->caps);

	switch (r->role) {
	case ROLE_PUSH:
		CHECK(!strcmp(words->v[0], "rsync") && !strcmp(words->v[1], "--server") &&
		      (words->n < 3 || strcmp(words->v[2], "--sender")),
		      "a push from a command that is not one");
		CHECK(r->dest, "accepted push without a destination");
		check_clean_path("push destination", r->dest, 0);
		CHECK(r->src_snap.n == 0 && r->query.n == 0, "push with restore or query parts");
		check_push(r, r->dry_run ? &push_dry : &push_full);
		/* both plans' branches: fake-super, confine-root, log, bases */
		check_push(r, r->dry_run ? &push_full : &push_dry);
		break;
	case ROLE_PULL: {
		CHECK(!strcmp(words->v[0], "rsync") && !strcmp(words->v[1], "--server") &&
		      words->n > 2 && !strcmp(words->v[2], "--sender"),
		      "a restore from a command that is not one");
		CHECK(r->src_snap.n >= 1 && r->src_snap.n <= HS_PULL_SOURCES_MAX &&
		      r->src_rest.n == r->src_snap.n, "%zu sources", r->src_snap.n);
		CHECK(r->dest == NULL && r->query.n == 0, "restore with push or query parts");
		struct argv args = ARGV_INIT;
		for (size_t i = 0; i < r->src_snap.n; i++) {
			const char *sel = r->src_snap.v[i];
			CHECK(!strcmp(sel, r->src_snap.v[0]), "two snapshots in one restore");
			CHECK(!strcmp(sel, "current") || snapname_parse(sel, NULL) == 0,
			      "snapshot selector %s", sel);
			check_clean_path("restore path", r->src_rest.v[i], 1);
			CHECK(!strpbrk(r->src_rest.v[i], "*?["), "wildcard in %s", r->src_rest.v[i]);
			/* what run_pull passes: the rest, or "." for the top */
			argv_push(&args, r->src_rest.v[i][0] ? r->src_rest.v[i] : ".");
		}
		for (int variant = 0; variant < 2; variant++) {
			struct pull_plan lp = {
				.rsync_path = RSYNC,
				.snapdir = ROOT "/" SNAP,
				.args = args.v,
				.n_args = args.n,
				.fake_super = variant,
				.confine_root = !variant,
			};
			struct argv a = ARGV_INIT;
			build_pull_argv(r, &lp, &a);
			const struct expect e = {
				.role = ROLE_PULL, .root = lp.snapdir, .confine_root = lp.confine_root,
				.fake_super = lp.fake_super, .args = lp.args, .n_args = lp.n_args,
			};
			check_built(&a, r, &e);
			check_quotes_back(&a);
			argv_clear(&a);
		}
		argv_clear(&args);
		break;
	}
	case ROLE_QUERY: {
		static const struct { const char *verb; const char *kinds; } verbs[] = {
			{ "list", "" }, { "status", "" }, { "versions", "p" },
			{ "ls", "sp" }, { "diff", "ss" }, { "diff", "ssp" },
		};
		size_t v;
		CHECK(!strcmp(words->v[0], "hindsight"), "a query from %s", words->v[0]);
		CHECK(r->query.n >= 1 && !strcmp(r->query.v[0], words->v[1]),
		      "query verb is not the client's");
		CHECK(r->dest == NULL && r->src_snap.n == 0 && !r->flags[0] && !r->caps[0],
		      "query with push or restore parts");
		for (v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
			if (!strcmp(verbs[v].verb, r->query.v[0]) &&
			    strlen(verbs[v].kinds) == r->query.n - 1)
				break;
		CHECK(v < sizeof(verbs) / sizeof(verbs[0]), "query %s with %zu arguments",
		      r->query.v[0], r->query.n - 1);
		for (size_t i = 1; i < r->query.n; i++) {
			const char *arg = r->query.v[i];
			if (verbs[v].kinds[i - 1] == 's')
				CHECK(!strcmp(arg, "current") || snapname_parse(arg, NULL) == 0,
				      "query snapshot %s", arg);
			else
				check_clean_path("query path", arg, 0);
		}
		break;
	}
	case ROLE_NONE:
	default:
		fail(__LINE__, "accepted with role %d", (int)r->role);
	}
}

/*
 * A refusal: one printable line, whole in HS_REASON_MAX. Judged once with
 * a big buffer (nothing may be cut) and once as serve does, with exactly
 * HS_REASON_MAX bytes and a guard after them.
 */
static void check_judge(const struct argv *words)
{
	enum { GUARD = 32 };
	char big[1024], small[HS_REASON_MAX + GUARD];
	struct request r, r2;
	struct argv before = ARGV_INIT;
	int rc, rc2;

	copy_words(&before, words);
	memset(big, 0x5a, sizeof(big));
	memset(small, 0x5a, sizeof(small));
	rc = judge_command(words->n, words->v, &r, big, sizeof(big));
	CHECK(rc == 0 || rc == -1, "judge_command returned %d", rc);
	CHECK(same_words(words, &before), "judge_command changed its input");
	rc2 = judge_command(words->n, words->v, &r2, small, HS_REASON_MAX);
	CHECK(rc2 == rc, "judge_command is not deterministic (%d, %d)", rc, rc2);
	for (size_t i = HS_REASON_MAX; i < sizeof(small); i++)
		CHECK(small[i] == 0x5a, "reason written past HS_REASON_MAX");

	if (rc < 0) {
		size_t len = strnlen(big, sizeof(big));
		CHECK(len < sizeof(big), "reason not terminated");
		CHECK(len > 0, "empty reason");
		CHECK(len < HS_REASON_MAX, "reason of %zu bytes would be cut: %s", len, big);
		CHECK(!has_control(big), "reason is not one printable line: %s", big);
		CHECK(!strcmp(big, small), "reason differs with a smaller buffer");
	} else {
		check_request(&r, words);
		CHECK(r.role == r2.role && r.timeout == r2.timeout && r.dry_run == r2.dry_run &&
		      !strcmp(r.flags, r2.flags) && !strcmp(r.caps, r2.caps) &&
		      same_words(&r.opts, &r2.opts) && same_words(&r.query, &r2.query) &&
		      same_words(&r.src_snap, &r2.src_snap) &&
		      same_words(&r.src_rest, &r2.src_rest) &&
		      (r.dest == r2.dest || (r.dest && r2.dest && !strcmp(r.dest, r2.dest))),
		      "the same command judged twice gives two requests");
		request_free(&r);
		request_free(&r2);
	}
	argv_clear(&before);
}

/*
 * split_command: bounded, no control bytes, no empty words, the same as a
 * plain split where there is no backslash, and quote_argv() undoes it.
 */
static void check_split(const char *cmd, const struct argv *words, int rc, const char *why)
{
	size_t len = strlen(cmd);
	int control = 0;

	for (const char *p = cmd; *p; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			control = 1;
	if (rc < 0) {
		CHECK(why && why[0] && strlen(why) < HS_REASON_MAX && !has_control(why),
		      "split refusal without a one-line reason");
		CHECK(words->n == 0 && words->v == NULL, "split refusal left words behind");
		return;
	}
	CHECK(rc == 0, "split_command returned %d", rc);
	CHECK(len <= HS_CMD_MAX, "a %zu-byte command was split", len);
	CHECK(!control, "a command with a control byte was split");
	CHECK(words->n <= HS_ARGS_MAX, "%zu words", words->n);
	for (size_t i = 0; i < words->n; i++) {
		CHECK(words->v[i][0], "empty word %zu", i);
		CHECK(!has_control(words->v[i]), "control byte in word %zu", i);
	}
	if (!strchr(cmd, '\\')) {
		char *copy = xstrdup(cmd), *save = NULL;
		size_t k = 0;
		for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save), k++)
			CHECK(k < words->n && !strcmp(t, words->v[k]), "word %zu differs from a plain split", k);
		CHECK(k == words->n, "%zu words, a plain split gives %zu", words->n, k);
		free(copy);
	}
	check_quotes_back(words);
}

/*
 * The client's words framed as each part of a command: options of a push
 * or a restore, a push destination, restore sources, a query. A token
 * reaches the allowlist however the rest of the input looks, so the fuzzer
 * need not stumble on a well-formed command around every option it tries.
 */
static void check_framed(const struct argv *words)
{
	static const struct frame {
		const char *pre[6], *post[3];
	} frames[] = {
		{ { "rsync", "--server" }, { ".", "x" } },
		{ { "rsync", "--server", "--sender" }, { ".", "current/x" } },
		{ { "rsync", "--server", "-re.iLsfxCIvu", "." }, { NULL } },
		{ { "rsync", "--server", "--sender", "-re.iLsfxCIvu", "." }, { NULL } },
		{ { "hindsight" }, { NULL } },
	};

	for (size_t f = 0; f < sizeof(frames) / sizeof(frames[0]); f++) {
		struct argv framed = ARGV_INIT;

		for (size_t k = 0; frames[f].pre[k]; k++)
			argv_push(&framed, frames[f].pre[k]);
		copy_words(&framed, words);
		for (size_t k = 0; frames[f].post[k]; k++)
			argv_push(&framed, frames[f].post[k]);
		if (framed.n <= HS_ARGS_MAX)
			check_judge(&framed);
		argv_clear(&framed);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd;
	struct argv words = ARGV_INIT;
	const char *why = NULL;
	int rc;

	if (size > INPUT_MAX)
		size = INPUT_MAX;
	cmd = xmalloc(size + 1);
	memcpy(cmd, data, size);
	cmd[size] = '\0';
	current_input = cmd;

	rc = split_command(cmd, &words, &why);
	check_split(cmd, &words, rc, why);
	if (rc == 0) {
		check_judge(&words);
		check_framed(&words);
	}

	argv_clear(&words);
	current_input = NULL;
	free(cmd);
	return 0;
}
