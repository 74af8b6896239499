/*
 * `hindsight-server prune [--root DIR | --all] [--dry-run] [--now T] [--json]`
 * prints every snapshot with keep or delete and the rule that decided it,
 * then (unless --dry-run) deletes. `pin NAME` / `unpin NAME` protect a
 * snapshot from every rule. Without --root or --all: the caller's home, the
 * root of the account running it. --config FILE (or HINDSIGHT_SERVER_CONF)
 * names server.conf.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/prune.h"
#include "../lib/timespec.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct prune_opts {
	int dry_run, json, all;
	time_t now;
	const char *config;
	struct argv roots;
};

static const char prune_usage[] =
	"usage: hindsight-server prune [--root DIR | --all] [--dry-run] [--now TIME] [--json]\n"
	"                              [--config FILE]\n";

static json_t *item_json(const struct prune_item *it)
{
	char exp[32];
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", it->name,
			      "action", it->v.keep ? "keep" : "delete", "reason", it->v.reason,
			      "pinned", (it->flags & RET_PINNED) != 0);
	if (it->expiry && it->v.keep) {
		format_iso_utc(it->expiry, exp);
		json_object_set_new(o, "expires", json_string(exp));
	} else {
		json_object_set_new(o, "expires", json_null());
	}
	return o;
}

static void print_plan(const char *path, const char *account, const struct ret_policy *p,
		       time_t now, const struct prune_plan *plan)
{
	struct strbuf keep = STRBUF_INIT;
	char when[32], exp[32];
	size_t npinned = 0;

	ret_format(p, &keep);
	format_iso_utc(now, when);
	printf("%s: account %s, keep %s, at %s\n", path, account, keep.buf, when);
	if (!plan->n)
		printf("  no snapshots\n");
	for (size_t i = 0; i < plan->n; i++) {
		const struct prune_item *it = &plan->items[i];
		npinned += (it->flags & RET_PINNED) != 0;
		if (it->v.keep && it->expiry) {
			format_iso_utc(it->expiry, exp);
			printf("  %s  keep    %s (until %s)\n", it->name, it->v.reason, exp);
		} else {
			printf("  %s  %s  %s\n", it->name, it->v.keep ? "keep  " : "delete",
			       it->v.reason);
		}
	}
	printf("  pinned:");
	for (size_t i = 0; i < plan->n; i++)
		if (plan->items[i].flags & RET_PINNED)
			printf(" %s", plan->items[i].name);
	printf("%s\n", npinned ? "" : " none");
	sb_release(&keep);
}

static int prune_one(const char *path, const struct srvconf *c, const struct prune_opts *po,
		     json_t *out)
{
	struct root r;
	struct acct_conf a;
	struct prune_plan plan;
	struct freed f = { 0, 0, 0 };
	char account[64], freed[32];
	int code = HS_EXIT_OK;

	int rc = root_open(path, 0, &r);
	if (rc < 0 || r.metafd < 0) {
		fprintf(stderr, "hindsight-server: %s: not a backup root: %s\n", path,
			rc < 0 ? strerror(-rc) : "no .hindsight/");
		if (rc == 0)
			root_close(&r);
		return rc == -ENOENT || rc == 0 ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	srvconf_account_of(r.fd, r.path, account, sizeof(account));
	srvconf_account(c, account, &a);
	int plfd = -1;
	if (!po->dry_run) {
		plfd = prune_lock(&r, 0);
		if (plfd < 0) {
			fprintf(stderr, "hindsight-server: %s: %s; retry later\n", path,
				plfd == -EWOULDBLOCK ? "a prune is already running there"
						     : strerror(-plfd));
			root_close(&r);
			return plfd == -EWOULDBLOCK ? HS_EXIT_LOCKED : HS_EXIT_ERROR;
		}
		/* finish what an interrupted deletion left */
		trash_empty(&r, 1, &f);
	}
	rc = prune_plan(&r, &a.keep, po->now, &plan);
	if (rc < 0) {
		fprintf(stderr, "hindsight-server: %s: cannot list snapshots: %s\n", path,
			strerror(-rc));
		code = HS_EXIT_ERROR;
		goto out;
	}
	if (!po->dry_run && prune_apply(&r, &plan, &f) < 0) {
		fprintf(stderr, "hindsight-server: %s: some snapshots could not be deleted "
			"(see %s/.hindsight/log)\n", path, path);
		code = HS_EXIT_ERROR;
	}
	size_t ndel = 0;
	for (size_t i = 0; i < plan.n; i++)
		ndel += !plan.items[i].v.keep;
	format_bytes(f.bytes, freed, sizeof(freed));
	if (out) {
		struct strbuf keep = STRBUF_INIT;
		json_t *arr = json_array();
		ret_format(&a.keep, &keep);
		for (size_t i = 0; i < plan.n; i++)
			json_array_append_new(arr, item_json(&plan.items[i]));
		json_array_append_new(out, json_pack(
			"{s:s, s:s, s:s, s:b, s:o, s:I, s:I}", "root", path, "account", account,
			"keep", keep.buf, "dry_run", po->dry_run, "snapshots", arr,
			"deleted", (json_int_t)(po->dry_run ? 0 : f.snapshots),
			"freed_bytes", (json_int_t)f.bytes));
		sb_release(&keep);
	} else {
		print_plan(path, account, &a.keep, po->now, &plan);
		if (po->dry_run)
			printf("  would delete %zu snapshot%s (dry run)\n", ndel, ndel == 1 ? "" : "s");
		else
			printf("  deleted %d snapshot%s, freed %s\n", f.snapshots,
			       f.snapshots == 1 ? "" : "s", freed);
	}
	prune_plan_free(&plan);
out:
	if (plfd >= 0)
		close(plfd);
	root_close(&r);
	return code;
}

int cmd_prune(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "now", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct prune_opts po = { .now = time(NULL), .config = getenv("HINDSIGHT_SERVER_CONF"),
				 .roots = ARGV_INIT };
	const char *now_spec = NULL;
	struct srvconf c;
	int ch, code = HS_EXIT_OK;

	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': argv_push(&po.roots, optarg); break;
		case 'a': po.all = 1; break;
		case 'n': po.dry_run = 1; break;
		case 't': now_spec = optarg; break;
		case 'j': po.json = 1; break;
		case 'C': po.config = optarg; break;
		case 'h': fputs(prune_usage, stdout); argv_clear(&po.roots); return HS_EXIT_OK;
		default: fputs(prune_usage, stderr); argv_clear(&po.roots); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc || (po.all && po.roots.n)) {
		fputs(prune_usage, stderr);
		argv_clear(&po.roots);
		return HS_EXIT_USAGE;
	}
	if (now_spec) {
		char why[200];
		if (parse_time_expr(now_spec, po.now, &po.now, why, sizeof(why)) < 0) {
			fprintf(stderr, "hindsight-server: --now: %s\n", why);
			argv_clear(&po.roots);
			return HS_EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < po.roots.n; i++)
		if (po.roots.v[i][0] != '/') {
			fprintf(stderr, "hindsight-server: --root must be an absolute path: %s\n",
				po.roots.v[i]);
			argv_clear(&po.roots);
			return HS_EXIT_USAGE;
		}
	if ((code = load_conf(po.config, &c)) != HS_EXIT_OK) {
		argv_clear(&po.roots);
		return code;
	}
	if (po.all)
		code = roots_under(c.base, 0, &po.roots);
	else if (!po.roots.n)
		code = home_root(&po.roots);
	json_t *arr = po.json ? json_array() : NULL;
	for (size_t i = 0; code == HS_EXIT_OK && i < po.roots.n; i++) {
		int rc = prune_one(po.roots.v[i], &c, &po, arr);
		/* every root is tried; the exit code is the first failure's */
		if (rc != HS_EXIT_OK && code == HS_EXIT_OK)
			code = rc;
	}
	if (arr) {
		json_t *top = json_pack("{s:i, s:s, s:o}", "protocol", 1, "verb", "prune",
					"roots", arr);
		json_dumpf(top, stdout, JSON_INDENT(1));
		putchar('\n');
		json_decref(top);
	}
	srvconf_free(&c);
	argv_clear(&po.roots);
	return code;
}

/* pin NAME / unpin NAME [--root DIR]: NAME may be any snapshot expression. */
static int pin_cmd(int argc, char **argv, int pinned)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = pinned ? "usage: hindsight-server pin SNAPSHOT [--root DIR]\n"
				   : "usage: hindsight-server unpin SNAPSHOT [--root DIR]\n";
	struct argv roots = ARGV_INIT;
	struct root r;
	struct snaplist l;
	char why[200];
	size_t idx;
	int ch, code;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': argv_clear(&roots); argv_push(&roots, optarg); break;
		case 'h': fputs(usage, stdout); argv_clear(&roots); return HS_EXIT_OK;
		default: fputs(usage, stderr); argv_clear(&roots); return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || (roots.n && roots.v[0][0] != '/')) {
		fputs(usage, stderr);
		argv_clear(&roots);
		return HS_EXIT_USAGE;
	}
	if (!roots.n && (code = home_root(&roots)) != HS_EXIT_OK)
		return code;
	int rc = root_open(roots.v[0], 0, &r);
	if (rc < 0 || r.metafd < 0) {
		fprintf(stderr, "hindsight-server: %s: not a backup root\n", roots.v[0]);
		if (rc == 0)
			root_close(&r);
		argv_clear(&roots);
		return HS_EXIT_NOTFOUND;
	}
	argv_clear(&roots);
	if (root_snapshots(r.fd, &l) < 0) {
		root_close(&r);
		return HS_EXIT_ERROR;
	}
	rc = resolve_snapshot(argv[optind], time(NULL), l.names, l.n, &idx, why, sizeof(why));
	if (rc < 0 && pinned) {
		fprintf(stderr, "hindsight-server: %s\n", why);
		code = rc == -EINVAL ? HS_EXIT_USAGE : HS_EXIT_NOTFOUND;
		goto out;
	}
	/* a pin may outlive its snapshot's name in a list; unpin takes it literally too */
	const char *name = rc == 0 ? l.names[idx] : argv[optind];
	rc = pin_set(&r, name, pinned);
	if (rc == 0 || rc == -EALREADY) {
		static const char *const what[2][2] = { { "unpinned", "was not pinned" },
							{ "pinned", "was already pinned" } };
		struct strbuf line = STRBUF_INIT;
		sb_addf(&line, "%s %s", name, what[pinned][rc != 0]);
		printf("%s in %s\n", line.buf, r.path);
		if (rc == 0)
			root_log(&r, line.buf);
		sb_release(&line);
		code = HS_EXIT_OK;
	} else {
		fprintf(stderr, "hindsight-server: cannot %spin %s: %s\n", pinned ? "" : "un", name,
			strerror(-rc));
		code = rc == -ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
out:
	snaplist_free(&l);
	root_close(&r);
	return code;
}

int cmd_pin(int argc, char **argv)
{
	return pin_cmd(argc, argv, 1);
}

int cmd_unpin(int argc, char **argv)
{
	return pin_cmd(argc, argv, 0);
}
