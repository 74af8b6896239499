/*
 * `hindsight schedule enable|disable|status`: back up every hour without
 * being asked. With systemd: a timer and a oneshot service (system units
 * for root, user units for anybody else) running `hindsight backup
 * --if-due`, so the config's interval and on_battery decide. Without
 * systemd: one crontab line. The units and the line carry a marker, so
 * disable removes only what enable wrote.
 */
#include "client.h"
#include "state.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MARKER "# Written by hindsight schedule enable; hindsight schedule disable removes it."
#define CRON_MARKER "# hindsight schedule"
#define UNIT "hindsight"

static const char schedule_usage[] =
	"usage: hindsight schedule enable [--systemd|--cron] [--unit-dir DIR] [--config FILE]\n"
	"       hindsight schedule disable [--unit-dir DIR]\n"
	"       hindsight schedule status [--unit-dir DIR] [--config FILE]\n";

enum how { HOW_AUTO, HOW_SYSTEMD, HOW_CRON };

struct sched {
	enum how how;
	const char *unit_dir_opt;   /* --unit-dir: write there, run no systemctl */
	char *unit_dir;
	int user;                   /* user units (not root) */
};

/* systemd is PID 1 (sd_booted()), and for user units our manager runs. */
static int systemd_usable(int user)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	struct strbuf sb = STRBUF_INIT;
	int ok;

	if (access("/run/systemd/system", F_OK) < 0)
		return 0;
	if (!user)
		return 1;
	if (!rt || rt[0] != '/')
		return 0;
	sb_addf(&sb, "%s/systemd/private", rt);
	ok = access(sb.buf, F_OK) == 0;
	sb_release(&sb);
	return ok;
}

static int have_program(const char *name)
{
	const char *path = getenv("PATH");
	char *copy = xstrdup(path && *path ? path : "/usr/bin:/bin"), *save = NULL;
	int found = 0;

	for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		struct strbuf sb = STRBUF_INIT;
		sb_addf(&sb, "%s/%s", d, name);
		found = access(sb.buf, X_OK) == 0;
		sb_release(&sb);
	}
	free(copy);
	return found;
}

static char *default_unit_dir(int user)
{
	const char *x = getenv("XDG_CONFIG_HOME");
	struct strbuf sb = STRBUF_INIT;

	if (!user)
		sb_addstr(&sb, "/etc/systemd/system");
	else if (x && x[0] == '/')
		sb_addf(&sb, "%s/systemd/user", x);
	else
		sb_addf(&sb, "%s/.config/systemd/user", home_dir());
	return sb_detach(&sb);
}

/* Characters a unit file and a crontab line take without quoting. */
static int plain_path(const char *p)
{
	return p[0] == '/' &&
	       strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-@,:=")
	       == strlen(p);
}

static char *self_path(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return xstrdup(buf);
}

/*
 * The command the schedule runs: ourselves, backup --if-due, the config
 * file, and XDG_STATE_HOME when it is set now (else the scheduled runs
 * would keep another state than the one status reads).
 */
static int scheduled_command(const char *config, struct strbuf *env, struct strbuf *cmd)
{
	char *self = self_path();
	const char *state = getenv("XDG_STATE_HOME");
	int ok = 1;

	if (!self || !plain_path(self) || !plain_path(config) ||
	    (state && *state && !plain_path(state))) {
		fprintf(stderr, "hindsight: cannot schedule: %s has characters a unit file or "
			"crontab would need quoted\n", !self || !plain_path(self) ? "the program path"
			: !plain_path(config) ? config : "XDG_STATE_HOME");
		ok = 0;
	} else {
		sb_addf(cmd, "%s backup --if-due --config %s", self, config);
		if (state && *state)
			sb_addf(env, "XDG_STATE_HOME=%s", state);
	}
	free(self);
	return ok;
}

static void unit_texts(const struct config *cfg, const char *env, const char *cmd,
		       struct strbuf *service, struct strbuf *timer)
{
	sb_addf(service, "%s\n[Unit]\nDescription=hindsight backup, if one is due\n"
		"Documentation=man:hindsight(1) man:hindsight.conf(5)\n"
		"Wants=network-online.target\nAfter=network-online.target\n", MARKER);
	if (cfg->on_battery_skip)
		sb_addstr(service, "ConditionACPower=true\n");
	sb_addf(service, "\n[Service]\nType=oneshot\nExecStart=%s\n", cmd);
	if (*env)
		sb_addf(service, "Environment=%s\n", env);
	sb_addstr(service, "Nice=19\nIOSchedulingClass=idle\n");
	/* a fixed offset per host (FixedRandomDelay), so a fleet does not push at :00 */
	sb_addf(timer, "%s\n[Unit]\nDescription=hourly hindsight backup\n"
		"Documentation=man:hindsight(1)\n\n[Timer]\nOnCalendar=hourly\nPersistent=true\n"
		"RandomizedDelaySec=50min\nFixedRandomDelay=true\n\n[Install]\n"
		"WantedBy=timers.target\n", MARKER);
}

static int unit_is_ours(const char *path)
{
	char buf[sizeof(MARKER)];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n == (ssize_t)sizeof(buf) - 1 && !memcmp(buf, MARKER, sizeof(buf) - 1);
}

static char *unit_path(const struct sched *s, const char *suffix)
{
	struct strbuf sb = STRBUF_INIT;
	sb_addf(&sb, "%s/" UNIT ".%s", s->unit_dir, suffix);
	return sb_detach(&sb);
}

/* systemctl [--user] WORDS...; prints its complaint. Returns its status. */
static int systemctl(const struct sched *s, const char *a, const char *b, const char *c,
		     char **out)
{
	char *argv[8], *err = NULL;
	int n = 0, st;
	struct strbuf why = STRBUF_INIT;

	argv[n++] = "systemctl";
	if (s->user)
		argv[n++] = "--user";
	argv[n++] = (char *)a;
	if (b)
		argv[n++] = (char *)b;
	if (c)
		argv[n++] = (char *)c;
	argv[n] = NULL;
	st = run_program(argv, out, &err);
	if (st != 0 && !out) {
		last_line(err ? err : "", &why);
		fprintf(stderr, "hindsight: systemctl %s%s failed: %s\n", s->user ? "--user " : "",
			a, st < 0 ? strerror(-st) : why.len ? why.buf : "no reason given");
	}
	free(err);
	sb_release(&why);
	return st;
}

/* ------------------------------------------------------------ cron */

/* A fixed minute for this host and user, so a fleet does not push at :00. */
static int cron_minute(void)
{
	char *id = NULL;
	char host[256] = "";
	uint64_t h = 0xcbf29ce484222325ULL;
	struct strbuf sb = STRBUF_INIT;

	if (read_file_at(AT_FDCWD, "/etc/machine-id", 256, &id) < 0) {
		gethostname(host, sizeof(host) - 1);
		id = xstrdup(host);
	}
	sb_addf(&sb, "%s/%u", id, (unsigned)geteuid());
	for (const unsigned char *p = (const unsigned char *)sb.buf; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	free(id);
	sb_release(&sb);
	return (int)(h % 60);
}

/* The user's crontab (empty if none). Returns 0 or an exit code. */
static int crontab_read(char **text)
{
	char *argv[] = { "crontab", "-l", NULL }, *err = NULL;
	int st = run_program(argv, text, &err);

	if (st == 0 || (st == 1 && err && strstr(err, "no crontab"))) {
		if (st != 0) {
			free(*text);
			*text = xstrdup("");
		}
		free(err);
		return HS_EXIT_OK;
	}
	struct strbuf why = STRBUF_INIT;
	last_line(err ? err : "", &why);
	fprintf(stderr, "hindsight: crontab -l failed: %s\n",
		st < 0 ? strerror(-st) : why.len ? why.buf : "no reason given");
	sb_release(&why);
	free(err);
	free(*text);
	*text = NULL;
	return HS_EXIT_ERROR;
}

/* Install text as the user's crontab. Returns 0 or an exit code. */
static int crontab_write(const char *text)
{
	char tmpl[] = "/tmp/hindsight-crontab.XXXXXX";
	int fd = mkstemp(tmpl), st, code = HS_EXIT_OK;
	size_t len = strlen(text), off = 0;
	char *err = NULL;

	if (fd < 0) {
		fprintf(stderr, "hindsight: cannot create a temporary file: %s\n", strerror(errno));
		return HS_EXIT_ERROR;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	char *argv[] = { "crontab", tmpl, NULL };
	st = off == len ? run_program(argv, NULL, &err) : -EIO;
	if (st != 0) {
		struct strbuf why = STRBUF_INIT;
		last_line(err ? err : "", &why);
		fprintf(stderr, "hindsight: crontab failed: %s\n",
			st < 0 ? strerror(-st) : why.len ? why.buf : "no reason given");
		sb_release(&why);
		code = HS_EXIT_ERROR;
	}
	free(err);
	unlink(tmpl);
	return code;
}

/* text without our lines; *found: how many there were. */
static char *without_ours(const char *text, int *found, struct strbuf *ours)
{
	struct strbuf sb = STRBUF_INIT;

	*found = 0;
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		int mine = len >= strlen(CRON_MARKER) &&
			   !memcmp(p + len - strlen(CRON_MARKER), CRON_MARKER, strlen(CRON_MARKER));
		if (mine) {
			(*found)++;
			if (ours)
				sb_add(ours, p, len);
		} else {
			sb_add(&sb, p, len);
			sb_addch(&sb, '\n');
		}
		p += len + (p[len] == '\n');
	}
	return sb_detach(&sb);
}

/* ------------------------------------------------------------ verbs */

static int enable(struct sched *s, struct common *co)
{
	struct strbuf env = STRBUF_INIT, cmd = STRBUF_INIT, service = STRBUF_INIT,
		      timer = STRBUF_INIT;
	char *config, *spath = NULL, *tpath = NULL, *text = NULL;
	int code = HS_EXIT_ERROR, rc;

	if ((code = common_load(co)) != HS_EXIT_OK)
		return code;
	config = co->cfg.file ? xstrdup(co->cfg.file) : NULL;
	if (!config || !co->cfg.repo || !co->cfg.sources.n) {
		if (config)
			fprintf(stderr, "hindsight: cannot schedule: %s needs repo and sources\n",
				config);
		else
			fputs("hindsight: cannot schedule: no config file (hindsight init writes "
			      "one)\n", stderr);
		code = HS_EXIT_USAGE;
		goto out;
	}
	code = HS_EXIT_ERROR;
	if (!scheduled_command(config, &env, &cmd))
		goto out;
	if (s->how == HOW_AUTO)
		s->how = s->unit_dir_opt || systemd_usable(s->user) ? HOW_SYSTEMD
			: have_program("crontab") ? HOW_CRON : HOW_AUTO;
	if (s->how == HOW_AUTO) {
		fputs("hindsight: cannot schedule: systemd is not running here and there is no "
		      "crontab program (install cron)\n", stderr);
		goto out;
	}
	if (s->how == HOW_CRON) {
		struct strbuf line = STRBUF_INIT;
		char *rest;
		int found;
		if ((code = crontab_read(&text)) != HS_EXIT_OK)
			goto out;
		rest = without_ours(text, &found, NULL);
		int minute = cron_minute();
		sb_addf(&line, "%s%d * * * * %s%s%s >/dev/null %s\n", rest, minute, env.buf,
			env.len ? " " : "", cmd.buf, CRON_MARKER);
		free(rest);
		code = crontab_write(line.buf);
		sb_release(&line);
		if (code == HS_EXIT_OK)
			printf("hindsight: hourly backups enabled: crontab, at minute %d of every hour "
			       "(the config's interval and on_battery decide each run)\n", minute);
		goto out;
	}
	unit_texts(&co->cfg, env.buf, cmd.buf, &service, &timer);
	spath = unit_path(s, "service");
	tpath = unit_path(s, "timer");
	if ((rc = write_file_path(spath, service.buf, 0644, 0755)) < 0 ||
	    (rc = write_file_path(tpath, timer.buf, 0644, 0755)) < 0) {
		fprintf(stderr, "hindsight: cannot write the units in %s: %s\n", s->unit_dir,
			strerror(-rc));
		goto out;
	}
	if (s->unit_dir_opt || !systemd_usable(s->user)) {
		printf("hindsight: wrote %s and %s; %s, enable them with: systemctl%s enable "
		       "--now " UNIT ".timer\n", spath, tpath,
		       s->unit_dir_opt ? "not enabled" : "systemd is not running here",
		       s->user ? " --user" : "");
		code = HS_EXIT_OK;
		goto out;
	}
	if (systemctl(s, "daemon-reload", NULL, NULL, NULL) != 0 ||
	    systemctl(s, "enable", "--now", UNIT ".timer", NULL) != 0)
		goto out;
	printf("hindsight: hourly backups enabled: systemd %s timer " UNIT ".timer (%s)\n",
	       s->user ? "user" : "system", tpath);
	code = HS_EXIT_OK;
out:
	free(config);
	free(spath);
	free(tpath);
	free(text);
	sb_release(&env);
	sb_release(&cmd);
	sb_release(&service);
	sb_release(&timer);
	return code;
}

static int disable(struct sched *s)
{
	char *spath = unit_path(s, "service"), *tpath = unit_path(s, "timer"), *text = NULL;
	int done = 0, code = HS_EXIT_OK;

	if (unit_is_ours(tpath) || unit_is_ours(spath)) {
		if (!s->unit_dir_opt && systemd_usable(s->user))
			systemctl(s, "disable", "--now", UNIT ".timer", NULL);
		if ((unit_is_ours(tpath) && unlink(tpath) < 0) ||
		    (unit_is_ours(spath) && unlink(spath) < 0)) {
			fprintf(stderr, "hindsight: cannot remove the units in %s: %s\n",
				s->unit_dir, strerror(errno));
			code = HS_EXIT_ERROR;
		}
		if (!s->unit_dir_opt && systemd_usable(s->user))
			systemctl(s, "daemon-reload", NULL, NULL, NULL);
		printf("hindsight: removed the systemd units in %s\n", s->unit_dir);
		done = 1;
	}
	if (!s->unit_dir_opt && have_program("crontab") && crontab_read(&text) == HS_EXIT_OK) {
		int found;
		char *rest = without_ours(text, &found, NULL);
		if (found && rest[strspn(rest, " \t\n")] == '\0') {
			/* nothing else in it: no crontab at all, as before enable */
			char *argv[] = { "crontab", "-r", NULL };
			code = run_program(argv, NULL, NULL) == 0 ? HS_EXIT_OK : HS_EXIT_ERROR;
			if (code == HS_EXIT_OK)
				puts("hindsight: removed the crontab line");
			done = 1;
		} else if (found) {
			code = crontab_write(rest);
			if (code == HS_EXIT_OK)
				puts("hindsight: removed the crontab line");
			done = 1;
		}
		free(rest);
	}
	if (!done)
		puts("hindsight: no schedule to disable");
	free(text);
	free(spath);
	free(tpath);
	return code;
}

static int status(struct sched *s, struct common *co)
{
	char *tpath = unit_path(s, "timer"), *text = NULL, *out = NULL;
	struct strbuf line = STRBUF_INIT;
	int code, any = 0;

	if (unit_is_ours(tpath)) {
		any = 1;
		if (!s->unit_dir_opt && systemd_usable(s->user)) {
			char *en = NULL;
			systemctl(s, "is-enabled", UNIT ".timer", NULL, &en);
			printf("%-12s systemd %s timer " UNIT ".timer, %s\n", "schedule",
			       s->user ? "user" : "system", en && *en ? strtok(en, "\n") : "unknown");
			free(en);
			if (systemctl(s, "show", "--property=NextElapseUSecRealtime", UNIT ".timer",
				      &out) == 0 && out) {
				const char *v = strchr(out, '=');
				v = v ? v + 1 : "";
				printf("%-12s %.*s\n", "next run", (int)strcspn(v, "\n"),
				       *v && *v != '\n' ? v : "not planned");
			}
		} else {
			printf("%-12s units in %s, %s\n", "schedule", s->unit_dir,
			       s->unit_dir_opt ? "not enabled by hindsight" : "systemd is not running");
		}
	}
	if (!s->unit_dir_opt && have_program("crontab") && crontab_read(&text) == HS_EXIT_OK) {
		int found;
		char *rest = without_ours(text, &found, &line);
		if (found) {
			int minute = atoi(line.buf);
			time_t now = time(NULL), next;
			struct tm tm;
			char when[40];
			localtime_r(&now, &tm);   /* cron's minutes are local time */
			tm.tm_min = minute;
			tm.tm_sec = 0;
			next = mktime(&tm);
			if (next <= now)
				next += 3600;
			format_local(next, "%Y-%m-%d %H:%M", when, sizeof(when));
			printf("%-12s crontab, at minute %d of every hour\n", "schedule", minute);
			printf("%-12s %s\n", "next run", when);
			any = 1;
		}
		free(rest);
	}
	if (!any)
		printf("%-12s none (hindsight schedule enable)\n", "schedule");
	code = common_load(co);
	if (code == HS_EXIT_OK) {
		struct repo r;
		if (common_repo(co, &r, 0) == HS_EXIT_OK) {
			char *name = repo_name(&r), *file = state_file(name);
			struct backup_state st;
			if (state_read(file, &st) < 0)
				memset(&st, 0, sizeof(st));
			render_local(&st, &co->cfg, name, time(NULL));
			if (st.attempt_start > 0 && (st.attempt_exit == 0 || st.attempt_exit == 3))
				printf("%-12s ok%s\n", "last result",
				       st.attempt_exit == 3 ? ", with warnings" : "");
			free(name);
			free(file);
			repo_free(&r);
		} else {
			code = HS_EXIT_OK;   /* no repo: nothing more to say */
		}
	}
	free(tpath);
	free(text);
	free(out);
	sb_release(&line);
	return code;
}

int cmd_schedule(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "systemd", no_argument, NULL, 'S' },
		{ "cron", no_argument, NULL, 'c' },
		{ "unit-dir", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sched s = { HOW_AUTO, NULL, NULL, geteuid() != 0 };
	struct common co;
	int c, code;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': s.how = HOW_SYSTEMD; break;
		case 'c': s.how = HOW_CRON; break;
		case 'u': s.unit_dir_opt = optarg; break;
		case 'h': fputs(schedule_usage, stdout); return HS_EXIT_OK;
		default:
			if (c == 'C' && common_option(&co, c, optarg))
				break;
			fputs(schedule_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fputs(schedule_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if (s.unit_dir_opt && s.how == HOW_CRON) {
		fputs("hindsight: schedule: --unit-dir is for systemd units, not --cron\n", stderr);
		return HS_EXIT_USAGE;
	}
	s.unit_dir = s.unit_dir_opt ? xstrdup(s.unit_dir_opt) : default_unit_dir(s.user);
	if (s.unit_dir[0] != '/') {
		fprintf(stderr, "hindsight: schedule: --unit-dir must be absolute: %s\n", s.unit_dir);
		free(s.unit_dir);
		return HS_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "enable"))
		code = enable(&s, &co);
	else if (!strcmp(argv[optind], "disable"))
		code = disable(&s);
	else if (!strcmp(argv[optind], "status"))
		code = status(&s, &co);
	else {
		fprintf(stderr, "hindsight: schedule: unknown action '%.64s'\n", argv[optind]);
		fputs(schedule_usage, stderr);
		code = HS_EXIT_USAGE;
	}
	free(s.unit_dir);
	common_free(&co);
	return code;
}
