/*
 * The default excludes and the CACHEDIR.TAG search (excludes.h).
 */
#include "excludes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The contents of the volatile trees go, the directories stay (a restored
 * system needs /proc, /tmp with its sticky mode, ...). Caches and trash go
 * whole. With --relative every path in the transfer is absolute, so "/x"
 * anchors at the real root.
 */
static const char *const fixed[] = {
	"- /proc/*",
	"- /sys/*",
	"- /dev/*",
	"- /run/*",
	"- /tmp/*",
	"- /var/tmp/*",
	"- /var/cache/*",
	"- /swapfile",
	"- /swap.img",
	"- /home/*/.cache/",
	"- /root/.cache/",
	"- /home/*/.local/share/Trash/",
	"- /root/.local/share/Trash/",
	"- .Trash-[0-9]*/",
};

void filter_pattern(struct strbuf *sb, const char *path)
{
	/* rsync reads a backslash as an escape only in a pattern with a wildcard */
	int wild = strpbrk(path, "*?[") != NULL;

	for (const char *p = path; *p; p++) {
		if (wild && strchr("*?[\\", *p))
			sb_addch(sb, '\\');
		sb_addch(sb, *p);
	}
}

static void add_rule(struct argv *rules, const char *path, int dir)
{
	struct strbuf sb = STRBUF_INIT;

	sb_addstr(&sb, "- ");
	filter_pattern(&sb, path);
	if (dir && (sb.len == 0 || sb.buf[sb.len - 1] != '/'))
		sb_addch(&sb, '/');
	argv_push(rules, sb.buf);
	sb_release(&sb);
}

/* Is dir already covered by the fixed rules for /home/USER and /root? */
static int home_is_standard(const char *home)
{
	const char *rest;

	if (!strcmp(home, "/root"))
		return 1;
	if (strncmp(home, "/home/", 6))
		return 0;
	rest = home + 6;
	return *rest && !strchr(rest, '/');
}

/* Undo the octal escapes (\040) the kernel uses in /proc/swaps. */
static void unescape_octal(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

void default_excludes(const char *home, const char *swaps, struct argv *rules)
{
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv_push(rules, fixed[i]);
	if (home && home[0] == '/' && strcmp(home, "/") && !home_is_standard(home)) {
		struct strbuf sb = STRBUF_INIT;
		sb_addf(&sb, "%s/.cache", home);
		add_rule(rules, sb.buf, 1);
		sb_reset(&sb);
		sb_addf(&sb, "%s/.local/share/Trash", home);
		add_rule(rules, sb.buf, 1);
		sb_release(&sb);
	}
	/* "Filename  Type  Size  Used  Priority": the swap files in use */
	for (const char *p = swaps; p && *p;) {
		size_t len = strcspn(p, "\n");
		char *line = xmalloc(len + 1), *type;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (p[len] == '\n');
		type = strpbrk(line, " \t");
		if (line[0] == '/' && type) {
			*type++ = '\0';
			type += strspn(type, " \t");
			if (!strncmp(type, "file", 4) && (type[4] == ' ' || type[4] == '\t')) {
				unescape_octal(line);
				if (!strchr(line, '\n') && strcmp(line, "/swapfile") &&
				    strcmp(line, "/swap.img"))
					add_rule(rules, line, 0);
			}
		}
		free(line);
	}
}

int has_cachedir_tag(int dirfd)
{
	char buf[sizeof(CACHEDIR_SIGNATURE) - 1];
	struct stat st;
	size_t got = 0;
	int fd = openat(dirfd, "CACHEDIR.TAG", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			O_NOCTTY);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	while (got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return got == sizeof(buf) && !memcmp(buf, CACHEDIR_SIGNATURE, sizeof(buf));
}

int excluded_by(const struct argv *rules, const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < rules->n; i++) {
		const char *r = rules->v[i];
		char pat[4096];
		size_t len;
		if (strncmp(r, "- ", 2))
			continue;
		r += 2;
		len = strlen(r);
		if (len >= sizeof(pat))
			continue;
		memcpy(pat, r, len + 1);
		if (len > 1 && pat[len - 1] == '/')
			pat[len - 1] = '\0';   /* we only ask about directories */
		if (pat[0] == '/' ? fnmatch(pat, path, FNM_PATHNAME) == 0
				  : fnmatch(pat, base, 0) == 0)
			return 1;
	}
	return 0;
}

struct walk {
	const struct argv *skip;
	struct argv *rules;
	size_t found;
};

/* fd is the directory path (absolute); it is closed here. */
static void walk_dir(struct walk *w, int fd, struct strbuf *path, int depth)
{
	DIR *d;
	struct dirent *e;

	if (has_cachedir_tag(fd)) {
		if (!strchr(path->buf, '\n')) {
			add_rule(w->rules, path->buf, 1);
			w->found++;
		} else {
			fprintf(stderr, "hindsight: cannot leave out the cache directory %s: a "
				"newline in its name\n", path->buf);
		}
		close(fd);
		return;
	}
	if (depth >= EXCLUDE_WALK_DEPTH || !(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		size_t keep = path->len;
		int child;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (keep > 1)
			sb_addch(path, '/');
		sb_addstr(path, e->d_name);
		if (!excluded_by(w->skip, path->buf)) {
			child = openat(dirfd(d), e->d_name,
				       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (child >= 0)
				walk_dir(w, child, path, depth + 1);
		}
		path->len = keep;
		path->buf[keep] = '\0';
	}
	closedir(d);
}

size_t cachedir_excludes(char *const sources[], size_t n, const struct argv *skip,
			 struct argv *rules)
{
	struct walk w = { skip, rules, 0 };

	for (size_t i = 0; i < n; i++) {
		struct strbuf path = STRBUF_INIT;
		int fd;
		sb_addstr(&path, sources[i]);
		while (path.len > 1 && path.buf[path.len - 1] == '/')
			path.buf[--path.len] = '\0';
		/* a source is searched even where a rule would skip it: it was named */
		fd = open(path.buf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			walk_dir(&w, fd, &path, 0);
		sb_release(&path);
	}
	return w.found;
}
