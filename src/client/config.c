/*
 * The client's config file (config.h). inih splits each line into key and
 * value and strips comments; we feed it one line per call from our own
 * reader, so we always know the line number (the Debian build of inih
 * does not pass it to the handler), and so that a line inih would reject
 * is reported by us, with its number, instead of only the first one.
 */
#include "config.h"
#include "../lib/cmdsplit.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const key_names[CFG_NKEYS] = {
	[CFG_REPO] = "repo",
	[CFG_SSH_COMMAND] = "ssh_command",
	[CFG_SSH_KEY] = "ssh_key",
	[CFG_SSH_OPTIONS] = "ssh_options",
	[CFG_SOURCES] = "sources",
	[CFG_EXCLUDE_FILE] = "exclude_file",
	[CFG_BWLIMIT] = "bwlimit",
	[CFG_NICE] = "nice",
	[CFG_IONICE] = "ionice",
	[CFG_INTERVAL] = "interval",
	[CFG_ON_BATTERY] = "on_battery",
};

const char *config_key_name(enum config_key k)
{
	return k < CFG_NKEYS ? key_names[k] : "?";
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->nice = 10;
	c->ionice_class = IONICE_BEST_EFFORT;
	c->ionice_level = 7;
	c->interval = 3600;
	c->on_battery_skip = 1;
}

void config_free(struct config *c)
{
	free(c->file);
	free(c->repo);
	free(c->ssh_command);
	free(c->ssh_key);
	free(c->ssh_options);
	argv_clear(&c->sources);
	free(c->exclude_file);
	free(c->bwlimit);
	config_init(c);
}

/* ------------------------------------------------------------ values */

struct parse {
	const char *name;       /* the file, for messages */
	const char *home;
	const char *p, *end;    /* what the reader has not given inih yet */
	int lineno;
	int have_key;           /* a key line came before: indented lines continue it */
	int continuation;       /* the current line is an indented continuation */
	int last_key;           /* the key of the last key line, or -1 */
	struct config *c;
	struct argv *errors;
	int nerrors;
};

static void error_at(struct parse *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void error_at(struct parse *ps, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	sb_addf(&sb, "%s:%d: ", ps->name, ps->lineno);
	va_start(ap, fmt);
	sb_vaddf(&sb, fmt, ap);
	va_end(ap);
	argv_push(ps->errors, sb.buf);
	sb_release(&sb);
	ps->nerrors++;
}

/* A value as it may be quoted in a message: at most 64 bytes, no control characters. */
static const char *shown(const char *v, char buf[80])
{
	size_t i;

	for (i = 0; i < 64 && v[i]; i++)
		buf[i] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
	if (v[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* "/abs" as it is, "~/x" as HOME/x; anything else is NULL. */
static char *expand_path(const char *v, const char *home)
{
	struct strbuf sb = STRBUF_INIT;

	if (v[0] == '/')
		return xstrdup(v);
	if (v[0] == '~' && (v[1] == '/' || v[1] == '\0') && home && home[0] == '/') {
		sb_addstr(&sb, home);
		if (v[1] && v[2]) {
			if (sb.len > 1)
				sb_addch(&sb, '/');
			sb_addstr(&sb, v + 2);
		}
		return sb_detach(&sb);
	}
	return NULL;
}

/* The same rules as repo_parse() (repo.c), without printing. */
static const char *repo_problem(const char *v)
{
	const char *colon = strchr(v, ':');
	const char *slash = strchr(v, '/');

	if (colon && (!slash || colon < slash)) {
		const char *at = memchr(v, '@', (size_t)(colon - v));
		const char *host = at ? at + 1 : v;
		if (colon[1])
			return "a remote repository is [user@]host: with nothing after the colon";
		if (host == colon || (at && at == v) || host[0] == '-' || strpbrk(v, " \t"))
			return "bad user or host";
		return NULL;
	}
	return "a remote repository is [user@]host:, a local one an absolute path";
}

static int digits_only(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

int parse_duration(const char *s, long long *out)
{
	static const struct { const char *word; long long secs; } words[] = {
		{ "hourly", 3600 }, { "daily", 86400 }, { "weekly", 7 * 86400 },
	};
	static const struct { const char *unit; long long secs; } units[] = {
		{ "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
		{ "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
		{ "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
		{ "d", 86400 }, { "day", 86400 }, { "days", 86400 },
		{ "w", 7 * 86400 }, { "week", 7 * 86400 }, { "weeks", 7 * 86400 },
	};
	long long total = 0;
	int terms = 0;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(s, words[i].word)) {
			*out = words[i].secs;
			return 0;
		}
	if (!strcmp(s, "0")) {
		*out = 0;
		return 0;
	}
	while (*s) {
		long long n = 0, mult = -1;
		size_t len = 0;
		while (*s == ' ')
			s++;
		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			n = n * 10 + (*s++ - '0');
			if (n > CONFIG_MAX_INTERVAL)
				return -1;
		}
		while (*s == ' ')
			s++;
		while (isalpha((unsigned char)s[len]))
			len++;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].unit) == len && !strncasecmp(s, units[i].unit, len))
				mult = units[i].secs;
		if (mult < 0)
			return -1;
		s += len;
		total += n * mult;
		if (total > CONFIG_MAX_INTERVAL)
			return -1;
		terms++;
		while (*s == ' ')
			s++;
	}
	if (!terms)
		return -1;
	*out = total;
	return 0;
}

/* What rsync's --bwlimit and the server (policy.c, A_SIZE) accept. */
static int bwlimit_ok(const char *v)
{
	size_t d = strspn(v, "0123456789");

	if (d == 0 || d > 15)
		return 0;
	if (v[d] == '.') {
		size_t f = strspn(v + d + 1, "0123456789");
		if (f == 0)
			return 0;
		d += 1 + f;
	}
	if (v[d] && strchr("KMGTkmgt", v[d]))
		d++;
	if (v[d] && strchr("Bb", v[d]))
		d++;
	return v[d] == '\0';
}

/*
 * Set key k from v, or explain on the current line why not. Every key
 * but sources takes one value.
 */
static void set_key(struct parse *ps, int k, const char *v)
{
	struct config *c = ps->c;
	char q[80], *path;
	const char *why = NULL;
	struct argv words = ARGV_INIT;
	long long secs;

	switch (k) {
	case CFG_REPO:
		if (v[0] == '~')
			path = expand_path(v, ps->home);
		else
			path = xstrdup(v);
		if (!path || (path[0] != '/' && (why = repo_problem(path)))) {
			error_at(ps, "bad repo '%s': %s", shown(v, q), path ? why :
				 "a local repository is an absolute path");
			free(path);
			return;
		}
		free(c->repo);
		c->repo = path;
		break;
	case CFG_SSH_COMMAND:
	case CFG_SSH_OPTIONS:
		if (split_command(v, &words, &why) < 0) {
			error_at(ps, "bad %s '%s': %s", key_names[k], shown(v, q), why);
			argv_clear(&words);
			return;
		}
		argv_clear(&words);
		if (k == CFG_SSH_COMMAND) {
			free(c->ssh_command);
			c->ssh_command = xstrdup(v);
		} else {
			free(c->ssh_options);
			c->ssh_options = xstrdup(v);
		}
		break;
	case CFG_SSH_KEY:
	case CFG_EXCLUDE_FILE:
	case CFG_SOURCES:
		path = expand_path(v, ps->home);
		if (!path) {
			error_at(ps, "bad %s '%s': not an absolute path (or one starting with ~/)",
				 key_names[k], shown(v, q));
			return;
		}
		if (k == CFG_SOURCES) {
			if (c->sources.n >= CONFIG_MAX_SOURCES) {
				error_at(ps, "too many sources (at most %d)", CONFIG_MAX_SOURCES);
				free(path);
				return;
			}
			c->source_line[c->sources.n] = ps->lineno;
			argv_push(&c->sources, path);
			free(path);
		} else if (k == CFG_SSH_KEY) {
			free(c->ssh_key);
			c->ssh_key = path;
		} else {
			free(c->exclude_file);
			c->exclude_file = path;
		}
		break;
	case CFG_BWLIMIT:
		if (!bwlimit_ok(v)) {
			error_at(ps, "bad bwlimit '%s': a rate in KiB/s, or with a suffix K, M "
				 "or G (0: no limit)", shown(v, q));
			return;
		}
		free(c->bwlimit);
		c->bwlimit = xstrdup(v);
		break;
	case CFG_NICE:
		if (!digits_only(v) || strlen(v) > 2 || atoi(v) > 19) {
			error_at(ps, "bad nice '%s': a whole number from 0 to 19", shown(v, q));
			return;
		}
		c->nice = atoi(v);
		break;
	case CFG_IONICE:
		if (!strcmp(v, "idle")) {
			c->ionice_class = IONICE_IDLE;
			c->ionice_level = 0;
		} else if (!strcmp(v, "none")) {
			c->ionice_class = IONICE_NONE;
			c->ionice_level = 0;
		} else if (!strcmp(v, "best-effort")) {
			c->ionice_class = IONICE_BEST_EFFORT;
			c->ionice_level = 7;
		} else if (!strncmp(v, "best-effort:", 12) && v[12] >= '0' && v[12] <= '7' &&
			   !v[13]) {
			c->ionice_class = IONICE_BEST_EFFORT;
			c->ionice_level = v[12] - '0';
		} else {
			error_at(ps, "bad ionice '%s': idle, best-effort, best-effort:N "
				 "(N from 0 to 7, 7 the lowest) or none", shown(v, q));
			return;
		}
		break;
	case CFG_INTERVAL:
		if (parse_duration(v, &secs) < 0) {
			error_at(ps, "bad interval '%s': a duration such as 1h, 30m, 1d, 1h30m "
				 "or hourly, at most a year", shown(v, q));
			return;
		}
		c->interval = secs;
		break;
	case CFG_ON_BATTERY:
		if (strcmp(v, "skip") && strcmp(v, "run")) {
			error_at(ps, "bad on_battery '%s': skip or run", shown(v, q));
			return;
		}
		c->on_battery_skip = !strcmp(v, "skip");
		break;
	}
	if (!c->line[k])
		c->line[k] = ps->lineno;
}

/* Levenshtein distance, for "did you mean"; short strings only. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[40];

	if (la >= 40 || lb >= 40)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	char q[80];
	int k;

	(void)section;   /* always "": the reader turns section lines into errors */
	for (k = 0; k < CFG_NKEYS; k++)
		if (!strcmp(name, key_names[k]))
			break;
	if (ps->continuation) {
		if (ps->last_key == CFG_SOURCES)
			set_key(ps, CFG_SOURCES, value);
		else if (ps->last_key >= 0)
			error_at(ps, "an indented line continues %s, which takes one value "
				 "(only sources takes more lines)", key_names[ps->last_key]);
		return 1;
	}
	ps->last_key = k < CFG_NKEYS ? k : -1;
	if (k == CFG_NKEYS) {
		const char *near = NULL;
		for (int i = 0; i < CFG_NKEYS; i++)
			if (distance(name, key_names[i]) <= 2)
				near = key_names[i];
		if (near)
			error_at(ps, "unknown key '%s' (did you mean %s?)", shown(name, q), near);
		else
			error_at(ps, "unknown key '%s'", shown(name, q));
		return 1;
	}
	if (!*value) {
		error_at(ps, "%s has no value", key_names[k]);
		return 1;
	}
	if (k != CFG_SOURCES && ps->c->line[k]) {
		error_at(ps, "%s is set twice (first on line %d)", key_names[k], ps->c->line[k]);
		return 1;
	}
	set_key(ps, k, value);
	return 1;
}

/*
 * inih's reader: one line per call, so that ps->lineno is the line the
 * handler is called for. Lines inih would reject, or split because they
 * are longer than its buffer, are reported here and handed on blank.
 */
static char *reader(char *buf, int size, void *stream)
{
	struct parse *ps = stream;
	const char *nl, *s;
	size_t len, lead;

	if (ps->p >= ps->end)
		return NULL;
	nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	len = nl ? (size_t)(nl - ps->p) : (size_t)(ps->end - ps->p);
	s = ps->p;
	ps->p += len + (nl != NULL);
	ps->lineno++;
	ps->continuation = 0;
	strcpy(buf, "\n");   /* a blank line, unless the line is good */
	if (memchr(s, '\0', len)) {
		error_at(ps, "a NUL byte in the line");
		return buf;
	}
	if (len + 2 > (size_t)size) {
		error_at(ps, "line longer than %d bytes", size - 2);
		return buf;
	}
	lead = 0;
	while (lead < len && (s[lead] == ' ' || s[lead] == '\t' || s[lead] == '\r'))
		lead++;
	if (ps->lineno == 1 && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		lead = 3;   /* inih skips a UTF-8 byte order mark */
	if (lead == len || s[lead] == '#' || s[lead] == ';')
		return buf;   /* blank or comment */
	if (s[lead] == '[') {
		error_at(ps, "sections are not used: every key goes at the top level");
		ps->have_key = 0;
		return buf;
	}
	if (lead > 0 && ps->have_key) {
		ps->continuation = 1;
	} else if (!memchr(s, '=', len) && !memchr(s, ':', len)) {
		error_at(ps, "expected KEY = VALUE");
		return buf;
	} else {
		ps->have_key = 1;
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

int config_parse(const char *name, const char *text, size_t len, const char *home,
		 struct config *c, struct argv *errors)
{
	struct parse ps = { 0 };
	int rc;

	ps.name = name;
	ps.home = home;
	ps.p = text;
	ps.end = text + len;
	ps.last_key = -1;
	ps.c = c;
	ps.errors = errors;
	if (len > CONFIG_MAX_BYTES) {
		struct strbuf sb = STRBUF_INIT;
		sb_addf(&sb, "%s: larger than %d KiB", name, CONFIG_MAX_BYTES / 1024);
		argv_push(errors, sb.buf);
		sb_release(&sb);
		return 1;
	}
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (rc != 0 && ps.nerrors == 0) {
		/* inih found what our reader let through: still say where */
		ps.lineno = rc > 0 ? rc : ps.lineno;
		error_at(&ps, rc > 0 ? "not a KEY = VALUE line" : "cannot parse");
	}
	return ps.nerrors;
}

/* ------------------------------------------------------------ files */

const char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h && h[0] == '/')
		return h;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : "/";
}

char *config_default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	struct strbuf sb = STRBUF_INIT;

	if (x && x[0] == '/')
		sb_addf(&sb, "%s/hindsight/config", x);
	else if (geteuid() == 0)
		sb_addstr(&sb, "/etc/hindsight/client.conf");
	else
		sb_addf(&sb, "%s/.config/hindsight/config", home_dir());
	return sb_detach(&sb);
}

int config_load(const char *file, struct config *c)
{
	char *path = file ? xstrdup(file) : config_default_path();
	struct argv errors = ARGV_INIT;
	struct strbuf text = STRBUF_INIT;
	struct stat st;
	char buf[4096];
	int code = HS_EXIT_OK, fd;

	config_init(c);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && !file)
			goto out;   /* no config: the defaults, and --repo or the environment */
		fprintf(stderr, "hindsight: cannot read config %s: %s\n", path, strerror(errno));
		code = errno == ENOENT ? HS_EXIT_NOTFOUND : HS_EXIT_USAGE;
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "hindsight: config %s is not a regular file\n", path);
		code = HS_EXIT_USAGE;
		goto out;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022)) {
		fprintf(stderr, "hindsight: config %s may be changed by others (owner %u, "
			"mode %04o): its ssh settings would run their commands; make it yours "
			"and chmod go-w\n", path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		code = HS_EXIT_USAGE;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "hindsight: cannot read config %s: %s\n", path, strerror(errno));
			code = HS_EXIT_USAGE;
			goto out;
		}
		if (n == 0)
			break;
		sb_add(&text, buf, (size_t)n);
		if (text.len > CONFIG_MAX_BYTES)
			break;
	}
	c->file = xstrdup(path);
	if (config_parse(path, text.buf, text.len, home_dir(), c, &errors) > 0) {
		for (size_t i = 0; i < errors.n; i++)
			fprintf(stderr, "hindsight: %s\n", errors.v[i]);
		code = HS_EXIT_USAGE;
	}
out:
	if (fd >= 0)
		close(fd);
	sb_release(&text);
	argv_clear(&errors);
	free(path);
	return code;
}
