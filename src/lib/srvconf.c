/*
 * server.conf: read whole (bounded), check line lengths ourselves, then let
 * inih split it; our handler judges every key. See srvconf.h.
 */
#include "srvconf.h"
#include "fsops.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONF_SIZE (1 << 20)
#define MAX_LINE 1000

enum { SET_KEEP = 1, SET_MIN_FREE = 2, SET_MIN_FREE_INODES = 4, SET_QUOTA = 8, SET_MAX_AGE = 16 };

struct srvconf_section {
	char *name;
	unsigned set;     /* which keys the section gives */
	struct acct_conf v;
};

struct parse_state {
	struct srvconf *c;
	struct strbuf *why;  /* the first error, without file:line */
};

int parse_size(const char *s, int allow_percent, struct space_limit *out)
{
	char *end;
	double v;

	memset(out, 0, sizeof(*out));
	if (!strcmp(s, "none") || !strcmp(s, "0"))
		return 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v) || v < 0)
		return -1;
	if (*end == '%') {
		if (!allow_percent || end[1] || v > 100)
			return -1;
		out->is_percent = 1;
		out->percent = v;
		return 0;
	}
	static const char units[] = "KMGTP";
	double mult = 1;
	if (*end) {
		const char *u = strchr(units, toupper((unsigned char)*end));
		if (!u)
			return -1;
		for (const char *p = units; p <= u; p++)
			mult *= 1024;
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
	}
	if (*end || v * mult >= 9.0e18)
		return -1;
	out->bytes = (unsigned long long)(v * mult);
	return 0;
}

int parse_duration(const char *s, long long *out)
{
	char *end;
	long long mult;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	switch (*end) {
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	case 'w': mult = 7 * 86400; break;
	default: return -1;
	}
	if (errno || end[1] || v < 1 || v > 100L * 365 * 86400 / mult)
		return -1;
	*out = v * mult;
	return 0;
}

void format_bytes(unsigned long long n, char *out, size_t size)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	size_t i = 0;

	while (v >= 1024 && i + 1 < sizeof(u) / sizeof(u[0])) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, size, "%llu B", n);
	else
		snprintf(out, size, "%.1f %s", v, u[i]);
}

static int valid_account_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32 || *s == '-')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return 0;
	return 1;
}

/* One key of [server] or [account NAME] into v; sets *bit. */
static int set_key(struct acct_conf *v, unsigned *bit, const char *key, const char *val,
		   struct strbuf *why)
{
	char rwhy[200];

	if (!strcmp(key, "keep")) {
		*bit = SET_KEEP;
		if (ret_parse(val, &v->keep, rwhy, sizeof(rwhy)) == 0)
			return 0;
		sb_addf(why, "keep: %s", rwhy);
		return -1;
	}
	if (!strcmp(key, "min_free")) {
		*bit = SET_MIN_FREE;
		if (parse_size(val, 1, &v->min_free) == 0)
			return 0;
		sb_addf(why, "min_free: \"%s\" is not a size (e.g. 10G) or a percent (e.g. 5%%)", val);
		return -1;
	}
	if (!strcmp(key, "min_free_inodes")) {
		struct space_limit l;
		*bit = SET_MIN_FREE_INODES;
		if (parse_size(val, 1, &l) == 0 && (l.is_percent || l.bytes == 0)) {
			v->min_free_inodes = l.percent;
			return 0;
		}
		sb_addf(why, "min_free_inodes: \"%s\" is not a percent (e.g. 1%%)", val);
		return -1;
	}
	if (!strcmp(key, "quota")) {
		struct space_limit l;
		*bit = SET_QUOTA;
		if (parse_size(val, 0, &l) == 0) {
			v->quota = l.bytes;
			return 0;
		}
		sb_addf(why, "quota: \"%s\" is not a size (e.g. 200G, or none)", val);
		return -1;
	}
	if (!strcmp(key, "max_age")) {
		*bit = SET_MAX_AGE;
		if (!strcmp(val, "none")) {
			v->max_age = 0;
			return 0;
		}
		if (parse_duration(val, &v->max_age) == 0)
			return 0;
		sb_addf(why, "max_age: \"%s\" is not a duration (e.g. 26h, 7d, or none)", val);
		return -1;
	}
	sb_addf(why, "unknown key \"%s\"", key);
	return -1;
}

static int on_entry(void *user, const char *section, const char *key, const char *val)
{
	struct parse_state *ps = user;
	struct srvconf *c = ps->c;
	unsigned bit = 0;

	if (ps->why->len)
		return 0;
	if (!strcmp(section, "server")) {
		if (!strcmp(key, "base")) {
			if (val[0] != '/' || strstr(val, "/../") || !strcmp(val, "/")) {
				sb_addf(ps->why, "base: \"%s\" must be an absolute directory", val);
				return 0;
			}
			free(c->base);
			c->base = xstrdup(val);
			return 1;
		}
		if (!strcmp(key, "vault_user")) {
			if (!valid_account_name(val) || val[0] == '.') {
				sb_addf(ps->why, "vault_user: \"%s\" is not a user name", val);
				return 0;
			}
			free(c->vault_user);
			c->vault_user = xstrdup(val);
			return 1;
		}
		if (!strcmp(key, "sealer_socket")) {
			if (val[0] != '/' || strstr(val, "/../") || strlen(val) >= 108) {
				sb_addf(ps->why, "sealer_socket: \"%s\" must be an absolute path "
					"(shorter than 108 bytes)", val);
				return 0;
			}
			free(c->sealer_socket);
			c->sealer_socket = xstrdup(val);
			return 1;
		}
		if (set_key(&c->defaults, &bit, key, val, ps->why) < 0) {
			if (!strncmp(ps->why->buf, "unknown key", 11))
				sb_addstr(ps->why, " in [server] (known: base, keep, min_free, "
					  "min_free_inodes, quota, max_age, vault_user, "
					  "sealer_socket)");
			return 0;
		}
		return 1;
	}
	if (!strncmp(section, "account ", 8)) {
		const char *name = section + 8;
		if (!valid_account_name(name)) {
			sb_addf(ps->why, "[%s]: \"%s\" is not an account name", section, name);
			return 0;
		}
		struct srvconf_section *s = NULL;
		for (size_t i = 0; i < c->n_accounts; i++)
			if (!strcmp(c->accounts[i].name, name))
				s = &c->accounts[i];
		if (!s) {
			c->accounts = xrealloc(c->accounts,
					       xmul(c->n_accounts + 1, sizeof(*c->accounts)));
			s = &c->accounts[c->n_accounts++];
			memset(s, 0, sizeof(*s));
			s->name = xstrdup(name);
		}
		if (set_key(&s->v, &bit, key, val, ps->why) < 0) {
			if (!strncmp(ps->why->buf, "unknown key", 11))
				sb_addf(ps->why, " in [%s] (known: keep, min_free, "
					"min_free_inodes, quota, max_age)", section);
			return 0;
		}
		s->set |= bit;
		return 1;
	}
	sb_addf(ps->why, "unknown section [%s] (known: [server], [account NAME])", section);
	return 0;
}

static void set_defaults(struct srvconf *c)
{
	char why[100];

	memset(c, 0, sizeof(*c));
	c->base = xstrdup(SRVCONF_BASE);
	c->vault_user = xstrdup(SRVCONF_VAULT);
	c->sealer_socket = xstrdup(SRVCONF_SEALER);
	ret_parse(RET_DEFAULT, &c->defaults.keep, why, sizeof(why));
	c->defaults.min_free.is_percent = 1;
	c->defaults.min_free.percent = 1;
	c->defaults.min_free_inodes = 1;
	c->defaults.max_age = 26 * 3600;
}

int srvconf_load(const char *path, struct srvconf *c, struct strbuf *err)
{
	struct strbuf why = STRBUF_INIT;
	char *text = NULL;
	int rc;

	set_defaults(c);
	c->path = xstrdup(path ? path : SRVCONF_PATH);
	/* the admin's path: a symlink into config management is fine */
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	rc = fd < 0 ? -errno : read_fd(fd, MAX_CONF_SIZE, &text);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		sb_addf(err, "%s: %s", c->path, rc == -EFBIG ? "too large" : strerror(-rc));
		return -1;
	}
	int line = 1;
	for (const char *p = text; *p; line++) {
		size_t len = strcspn(p, "\n");
		if (len > MAX_LINE) {
			sb_addf(err, "%s:%d: line longer than %d bytes", c->path, line, MAX_LINE);
			free(text);
			return -1;
		}
		p += len + (p[len] == '\n');
	}
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_max_line = MAX_LINE + 3;
	struct parse_state ps = { c, &why };
	rc = ini_parse_string(text, on_entry, &ps);
	free(text);
	if (rc != 0) {
		sb_addf(err, "%s:%d: %s", c->path, rc,
			why.len ? why.buf : "expected \"key = value\", \"[section]\" or a comment");
		sb_release(&why);
		return -1;
	}
	sb_release(&why);
	return 0;
}

void srvconf_free(struct srvconf *c)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		free(c->accounts[i].name);
	free(c->accounts);
	free(c->base);
	free(c->vault_user);
	free(c->sealer_socket);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int srvconf_has_account(const struct srvconf *c, const char *name)
{
	for (size_t i = 0; i < c->n_accounts; i++)
		if (!strcmp(c->accounts[i].name, name))
			return 1;
	return 0;
}

void srvconf_account(const struct srvconf *c, const char *name, struct acct_conf *out)
{
	*out = c->defaults;
	for (size_t i = 0; name && i < c->n_accounts; i++) {
		const struct srvconf_section *s = &c->accounts[i];
		if (strcmp(s->name, name))
			continue;
		if (s->set & SET_KEEP)
			out->keep = s->v.keep;
		if (s->set & SET_MIN_FREE)
			out->min_free = s->v.min_free;
		if (s->set & SET_MIN_FREE_INODES)
			out->min_free_inodes = s->v.min_free_inodes;
		if (s->set & SET_QUOTA)
			out->quota = s->v.quota;
		if (s->set & SET_MAX_AGE)
			out->max_age = s->v.max_age;
	}
}

void srvconf_account_of(int rootfd, const char *rootpath, char *out, size_t size)
{
	struct stat st;
	struct passwd *pw;

	if (fstat(rootfd, &st) == 0 && st.st_uid != 0 && (pw = getpwuid(st.st_uid)) != NULL) {
		snprintf(out, size, "%s", pw->pw_name);
		return;
	}
	const char *slash = strrchr(rootpath, '/');
	snprintf(out, size, "%s", slash ? slash + 1 : rootpath);
}
