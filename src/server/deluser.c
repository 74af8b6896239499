/*
 * `hindsight-server deluser NAME [--purge]`: the reverse of adduser. Takes
 * away the key first (so no new push can start), then the account
 * (userdel, which also drops its own group), and keeps the backup root
 * unless --purge. A kept simple root stays owned by the old uid, and
 * adduser with the same name and base gives the account that uid back (a
 * kept sealed root stays root's, with the old gid: adduser refuses it).
 *
 * It acts only on hindsight accounts: not root, in the group hindsight,
 * home BASE/NAME. With --purge the root must be a real directory owned by
 * the account (sealed: root's, with the account's group); it is renamed out of the way first, so it disappears at
 * once, then deleted without following any symlink.
 */
#include "server.h"
#include "accounts.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define USERDEL_IN_USE 8   /* userdel(8): "user currently logged in" */

__attribute__((format(printf, 2, 3)))
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hindsight-server: deluser: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

struct victim {
	char name[HS_NAME_MAX + 1];
	uid_t uid;
	struct strbuf base;
	struct strbuf home;
	int root_exists;
};

static int judge(const char *name, int purge, struct victim *v)
{
	const struct passwd *pw;
	const char *why;
	struct stat st;

	if ((why = account_name_check(name)))
		return fail(HS_EXIT_USAGE, "%s: %.64s", why, name);
	if (geteuid() != 0)
		return fail(HS_EXIT_ERROR, "must run as root");
	pw = getpwnam(name);
	if (!pw)
		return fail(HS_EXIT_NOTFOUND, "no account %s", name);
	if (pw->pw_uid == 0)
		return fail(HS_EXIT_REFUSED, "%s is root's account", name);
	if (!in_hindsight_group(pw))
		return fail(HS_EXIT_REFUSED, "%s is not a hindsight account (not in group %s)",
			    name, HS_GROUP);
	if ((why = home_base(pw, &v->base)))
		return fail(HS_EXIT_REFUSED, "%s is not a hindsight account: %s (%s)", name, why,
			    pw->pw_dir ? pw->pw_dir : "");
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->uid = pw->pw_uid;
	sb_addstr(&v->home, pw->pw_dir);
	if (lstat(v->home.buf, &st) == 0) {
		v->root_exists = 1;
		/* a sealed root is root's, with the account's group */
		int sealed = st.st_uid == 0 && st.st_gid == pw->pw_gid && pw->pw_gid != 0;
		if (purge && (!S_ISDIR(st.st_mode) || (st.st_uid != v->uid && !sealed)))
			return fail(HS_EXIT_REFUSED, "%s is not a directory owned by %s: not "
				    "deleting it (nothing changed)", v->home.buf, name);
	}
	return 0;
}

static int remove_key(const struct victim *v, struct strbuf *done)
{
	int dir = open(HS_KEYS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dir < 0)
		return errno == ENOENT ? 0 :
		       fail(HS_EXIT_ERROR, "cannot open %s: %s", HS_KEYS_DIR, strerror(errno));
	if (unlinkat(dir, v->name, 0) == 0) {
		fsync_dir(dir);
		did(done, "removed %s/%s", HS_KEYS_DIR, v->name);
	} else if (errno != ENOENT) {
		int e = errno;
		close(dir);
		return fail(HS_EXIT_ERROR, "cannot remove %s/%s: %s", HS_KEYS_DIR, v->name,
			    strerror(e));
	}
	close(dir);
	return 0;
}

static int purge_root(const struct victim *v, struct strbuf *done)
{
	char tmp[HS_NAME_MAX + 16];
	int base, rc;

	if (!v->root_exists) {
		did(done, "no backup root %s to delete", v->home.buf);
		return 0;
	}
	base = open(v->base.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return fail(HS_EXIT_ERROR, "cannot open %s: %s", v->base.buf, strerror(errno));
	/* no account name starts with '.': this cannot be somebody's root */
	snprintf(tmp, sizeof(tmp), ".%s.purge", v->name);
	rc = remove_tree_at(base, tmp);
	if (rc == 0 && renameat(base, v->name, base, tmp) < 0)
		rc = -errno;
	if (rc == 0)
		rc = remove_tree_at(base, tmp);
	close(base);
	if (rc < 0)
		return fail(HS_EXIT_ERROR, "cannot delete %s (what is left is %s/%s): %s",
			    v->home.buf, v->base.buf, tmp, strerror(-rc));
	did(done, "deleted backup root %s", v->home.buf);
	return 0;
}

int cmd_deluser(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "purge", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: hindsight-server deluser NAME [--purge]\n";
	struct victim v = { .base = STRBUF_INIT, .home = STRBUF_INIT };
	struct strbuf done = STRBUF_INIT;
	int c, purge = 0, code, rc;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': purge = 1; break;
		case 'h': fputs(usage, stdout); return HS_EXIT_OK;
		default: fputs(usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return HS_EXIT_USAGE;
	}
	code = judge(argv[optind], purge, &v);
	if (code)
		goto out;
	if ((code = remove_key(&v, &done)))
		goto log;
	char *userdel[] = { USERDEL, v.name, NULL };
	rc = run_tool(userdel);
	if (rc == USERDEL_IN_USE) {
		code = fail(HS_EXIT_LOCKED, "%s is in use (a push or restore running?); its key "
			    "is gone, so nothing new starts: retry when it ends", v.name);
		goto log;
	}
	if (rc != 0) {
		code = fail(HS_EXIT_ERROR, "userdel %s failed (%d)", v.name, rc);
		goto log;
	}
	did(&done, "removed account %s (uid %u)", v.name, (unsigned)v.uid);
	if (purge)
		code = purge_root(&v, &done);
	else if (v.root_exists)
		did(&done, "kept backup root %s (uid %u owns it; adduser %s --base %s takes it "
		    "back)", v.home.buf, (unsigned)v.uid, v.name, v.base.buf);
log:
	admin_log("deluser", v.name, code, &done);
out:
	sb_release(&done);
	sb_release(&v.base);
	sb_release(&v.home);
	return code;
}
