/*
 * What `hindsight-server check` says about sealed mode: the two kernel
 * settings it needs (an error where a sealed root exists, a note
 * elsewhere), each sealed root's layout and whether its newest snapshot
 * is sealed; and, for check_root.c's --repair of a sealed root, the
 * sealer's repair: a seal cut short finished or discarded, as the next
 * push would. One line per finding, as check.c.
 */
#include "check.h"
#include "../lib/exitcodes.h"
#include "../lib/sealed.h"
#include "../lib/srvconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The ids of a sealed root: its account (work/'s owner), group, vault. */
static int sealed_ids(const struct root *r, const char *config, struct seal_ids *ids,
		      char *why, size_t size)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;
	struct stat st;

	if (fstat(r->workfd, &st) < 0)
		return -errno;
	ids->acct = st.st_uid;
	if (fstat(r->fd, &st) < 0)
		return -errno;
	ids->group = st.st_gid;
	int rc = srvconf_load(config, &c, &err);
	const struct passwd *v = rc == 0 ? getpwnam(c.vault_user) : NULL;
	if (v)
		ids->vault = v->pw_uid;
	else
		snprintf(why, size, "%s", rc < 0 ? err.buf : "the vault owner does not exist");
	srvconf_free(&c);
	sb_release(&err);
	return v ? 0 : -ENOENT;
}

/* Count a sealed root at path once (seen: the roots counted so far). */
static void count_root(const char *path, struct argv *seen, int *n)
{
	struct root r;
	struct stat st;

	if (root_open(path, 0, &r) < 0)
		return;
	if (r.sealed && fstat(r.fd, &st) == 0) {
		char id[64];
		snprintf(id, sizeof(id), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		size_t i;
		for (i = 0; i < seen->n && strcmp(seen->v[i], id); i++)
			;
		if (i == seen->n) {
			argv_push(seen, id);
			(*n)++;
		}
	}
	root_close(&r);
}

/* Sealed roots under the base and among the roots given. */
static int count_sealed(const char *config, const struct argv *roots)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;
	struct argv seen = ARGV_INIT;
	int n = 0;

	if (srvconf_load(config, &c, &err) == 0) {
		int fd = open(c.base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			char path[4200];
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", c.base, de->d_name);
			count_root(path, &seen, &n);
		}
		if (d)
			closedir(d);
		else if (fd >= 0)
			close(fd);
	}
	for (size_t i = 0; i < roots->n; i++)
		count_root(roots->v[i], &seen, &n);
	argv_clear(&seen);
	srvconf_free(&c);
	sb_release(&err);
	return n;
}

void check_sealed_kernel(const char *config, const struct argv *roots, struct tally *n)
{
	int sealed = count_sealed(config, roots);
	int ph = sealed_hardlinks_protected(), le = sealed_leases_enabled();

	if (ph == 0)
		say(n, "ok", "fs.protected_hardlinks=0: sealed roots link unchanged files to history");
	else if (sealed)
		say(n, "error", "fs.protected_hardlinks=%d: pushes to the %d sealed root%s here "
		    "cannot link to history, and copy every file (install "
		    "contrib/sysctl.d/hindsight.conf; see SECURITY.md for the cost)", ph, sealed,
		    sealed == 1 ? "" : "s");
	else
		say(n, "ok", "fs.protected_hardlinks=%d: fine for simple roots (sealed mode needs 0)",
		    ph);
	if (le != 1)
		say(n, sealed ? "error" : "ok", "fs.leases-enable=%d: the sealer cannot tell a file "
		    "open for writing, so it refuses every seal%s", le, sealed ? "" : " (sealed mode "
		    "needs 1)");
}

static void sealed_root(const struct root *r, const char *config, struct tally *n)
{
	struct seal_ids ids;
	struct snaplist l;
	struct stat st;
	char why[300] = "";

	if (sealed_ids(r, config, &ids, why, sizeof(why)) < 0) {
		say(n, "error", "%s: a sealed root, but %s", r->path, why);
		return;
	}
	const struct passwd *pw = getpwuid(ids.acct);
	say(n, "ok", "%s: sealed, for %s (uid %u), history owned by uid %u", r->path,
	    pw ? pw->pw_name : "?", (unsigned)ids.acct, (unsigned)ids.vault);
	if (fstat(r->fd, &st) == 0 && (st.st_mode & 027))
		say(n, "error", "%s: mode %o lets others in or the group write (want 0750)", r->path,
		    (unsigned)(st.st_mode & 07777));
	if (fstat(r->metafd, &st) == 0 && (st.st_uid != 0 || (st.st_mode & 022)))
		say(n, "error", "%s/.hindsight is not root's, or is writable by others", r->path);
	/* a seal cut short (pending.json): check_root.c says so */
	if (root_snapshots(r->fd, &l) == 0 && l.n) {
		if (seal_verify(r->fd, l.names[l.n - 1], &ids, why, sizeof(why)) == 0)
			say(n, "ok", "%s: the newest snapshot %s is sealed", r->path, l.names[l.n - 1]);
		else
			say(n, "error", "%s: the newest snapshot %s is not sealed: %s", r->path,
			    l.names[l.n - 1], why);
	}
	snaplist_free(&l);
}

void check_sealed_root(const char *path, const char *config, struct tally *n)
{
	struct root r;

	if (root_open(path, 0, &r) < 0)
		return;
	if (r.sealed)
		sealed_root(&r, config, n);
	root_close(&r);
}

int check_sealed_repair(struct root *r, const char *config, struct tally *n)
{
	struct seal_result res;
	struct seal_opts so;
	char why[300] = "";
	int rc;

	memset(&so, 0, sizeof(so));
	memset(&res, 0, sizeof(res));
	int sl = openat(r->metafd, HS_SEAL_LOCK, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (sealed_ids(r, config, &so.ids, why, sizeof(why)) < 0)
		rc = -ENOENT;
	else if (sl < 0 || flock(sl, LOCK_EX) < 0)
		rc = -errno;
	else
		rc = sealed_repair(r, &so, NULL, &res);
	if (rc == -EPERM && res.refused)
		snprintf(why, sizeof(why), "%s", res.why);
	if (sl >= 0)
		close(sl);
	if (rc == -EPERM && why[0])
		say(n, "warning", "%s: the tree of the seal cut short could not be sealed and was "
		    "discarded: %s", r->path, why);
	else if (rc < 0)
		say(n, "error", "%s: cannot repair: %s%s%s", r->path, strerror(-rc),
		    why[0] ? ": " : "", why);
	return rc < 0 && rc != -EPERM ? HS_EXIT_ERROR : HS_EXIT_OK;
}
