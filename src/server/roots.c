/*
 * Which backup roots an admin verb works on, and the configuration it
 * reads: shared by prune, status, report and check.
 */
#include "server.h"
#include "../lib/exitcodes.h"
#include "../lib/root.h"
#include "../lib/srvconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int home_root(struct argv *roots)
{
	struct passwd *pw = getpwuid(getuid());

	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/') {
		fprintf(stderr, "hindsight-server: no home directory for uid %u; give --root\n",
			(unsigned)getuid());
		return HS_EXIT_USAGE;
	}
	argv_push(roots, pw->pw_dir);
	return HS_EXIT_OK;
}

static int cmp_paths(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Is base/name the home of the account that owns it? */
static int owners_home(const char *base, const char *name, const struct stat *st)
{
	struct passwd *pw = st->st_uid ? getpwuid(st->st_uid) : NULL;
	size_t n = strlen(base);

	while (n > 1 && base[n - 1] == '/')
		n--;
	return pw && pw->pw_dir && !strncmp(pw->pw_dir, base, n) && pw->pw_dir[n] == '/' &&
	       !strcmp(pw->pw_dir + n + 1, name);
}

int roots_under(const char *base, int homes, struct argv *roots)
{
	DIR *d = opendir(base);
	struct dirent *de;
	struct argv found = ARGV_INIT;

	if (!d) {
		fprintf(stderr, "hindsight-server: cannot read the base %s: %s\n", base,
			strerror(errno));
		return errno == ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char meta[512];
		if (de->d_name[0] == '.')
			continue;
		snprintf(meta, sizeof(meta), "%s/" HS_META_DIR, de->d_name);
		if ((fstatat(dirfd(d), meta, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) ||
		    (homes && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		     S_ISDIR(st.st_mode) && owners_home(base, de->d_name, &st)))
			argv_pushf(&found, "%s/%s", base, de->d_name);
	}
	closedir(d);
	/* a stable order for people and scripts */
	qsort(found.v, found.n, sizeof(char *), cmp_paths);
	for (size_t i = 0; i < found.n; i++)
		argv_push(roots, found.v[i]);
	argv_clear(&found);
	return HS_EXIT_OK;
}

int load_conf(const char *path, struct srvconf *c)
{
	struct strbuf err = STRBUF_INIT;

	if (srvconf_load(path, c, &err) == 0)
		return HS_EXIT_OK;
	fprintf(stderr, "hindsight-server: %s\n", err.buf);
	sb_release(&err);
	srvconf_free(c);
	return HS_EXIT_USAGE;
}
