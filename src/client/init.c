/*
 * `hindsight init --repo REPO [--key FILE] [--config FILE] [--force]
 * [SOURCE...]`: set a machine up in one command. For a server repository
 * it makes a dedicated ed25519 key (ssh-keygen), writes the config, and
 * prints the exact command the server's admin runs to make the account
 * (`hindsight-server adduser NAME --key FILE`); then it tries the
 * connection once, without prompting, which works only once the account
 * exists: until then `hindsight status` is the test.
 */
#include "client.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/strbuf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char init_usage[] =
	"usage: hindsight init --repo REPO [--key FILE] [--config FILE] [--force] [SOURCE...]\n";

/* The account name for a repo without user@: this machine's short host name. */
static char *account_name(void)
{
	char host[256] = "";
	struct strbuf sb = STRBUF_INIT;

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	for (const char *p = host; *p && *p != '.' && sb.len < 32; p++) {
		char ch = (char)tolower((unsigned char)*p);
		if (isalnum((unsigned char)ch) || ch == '-' || ch == '_')
			sb_addch(&sb, ch);
	}
	if (!sb.len || isdigit((unsigned char)sb.buf[0]) || sb.buf[0] == '-')
		sb_addstr(&sb, sb.len ? "" : "client");
	if (isdigit((unsigned char)sb.buf[0]) || sb.buf[0] == '-') {
		char *rest = sb_detach(&sb);
		sb_addf(&sb, "h%s", rest);
		free(rest);
	}
	return sb_detach(&sb);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;
	char *d = xmalloc(n + 2);

	if (n == 0) {
		strcpy(d, slash ? "/" : ".");
		return d;
	}
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	struct strbuf sb = STRBUF_INIT;

	if (path[0] == '/')
		return xstrdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	sb_addf(&sb, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	return sb_detach(&sb);
}

/* Make the key unless it is there; print which. Returns an exit code. */
static int make_key(const char *key, const char *name)
{
	struct strbuf pub = STRBUF_INIT, comment = STRBUF_INIT, why = STRBUF_INIT;
	char host[256] = "localhost";
	char *err = NULL;
	int code = HS_EXIT_OK, rc;

	sb_addf(&pub, "%s.pub", key);
	if (access(key, F_OK) == 0) {
		if (access(pub.buf, R_OK) < 0) {
			fprintf(stderr, "hindsight: key %s exists but %s does not; make it with "
				"ssh-keygen -y -f %s > %s\n", key, pub.buf, key, pub.buf);
			code = HS_EXIT_ERROR;
		} else {
			printf("hindsight: using the existing key %s\n", key);
		}
		goto out;
	}
	char *dir = dir_of(key);
	rc = mkdir_p(dir, 0700);
	free(dir);
	if (rc < 0) {
		fprintf(stderr, "hindsight: cannot create the directory for %s: %s\n", key,
			strerror(-rc));
		code = HS_EXIT_ERROR;
		goto out;
	}
	gethostname(host, sizeof(host) - 1);
	sb_addf(&comment, "hindsight %s@%s", name, host);
	char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment.buf,
			 "-f", (char *)key, NULL };
	rc = run_program(argv, NULL, &err);
	if (rc != 0) {
		last_line(err ? err : "", &why);
		fprintf(stderr, "hindsight: ssh-keygen failed%s%s\n", why.len ? ": " : "",
			rc < 0 ? strerror(-rc) : why.buf);
		code = HS_EXIT_ERROR;
		goto out;
	}
	printf("hindsight: made a key for backups: %s\n", key);
out:
	free(err);
	sb_release(&pub);
	sb_release(&comment);
	sb_release(&why);
	return code;
}

/*
 * Try the repo once without prompting (BatchMode), with our stderr caught
 * so a refusal is one line. Returns the exit code; why gets ssh's line.
 */
static int probe(const struct repo *r, struct strbuf *why)
{
	char tmpl[] = "/tmp/hindsight-init.XXXXXX";
	char *words[] = { "status" }, *out = NULL;
	int fd = mkstemp(tmpl), saved, code;

	if (fd < 0)
		return HS_EXIT_ERROR;
	unlink(tmpl);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	code = run_query(r, words, 1, 1 << 20, &out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len < 65536)
		sb_add(&sb, buf, (size_t)n);
	close(fd);
	last_line(sb.buf, why);
	sb_release(&sb);
	free(out);
	return code;
}

static void write_config_text(struct strbuf *sb, const char *repo, const char *key,
			      const struct argv *sources)
{
	char when[40];

	format_local(time(NULL), "%Y-%m-%d %H:%M", when, sizeof(when));
	sb_addf(sb, "# hindsight client config, written by hindsight init on %s.\n"
		"# Every key is in hindsight.conf(5); check it with: hindsight config check\n\n",
		when);
	sb_addf(sb, "repo = %s\n", repo);
	if (key)
		sb_addf(sb, "ssh_key = %s\n", key);
	sb_addstr(sb, "\n# what to back up: one path per line, or indented lines below\n");
	for (size_t i = 0; i < sources->n; i++)
		sb_addf(sb, "%s%s\n", i ? "    " : "sources = ", sources->v[i]);
	sb_addstr(sb, "\n# more to leave out, in rsync filter syntax (- pattern, + pattern)\n"
		  "# exclude_file = /path/to/excludes\n\n"
		  "# scheduled runs (hindsight schedule enable)\n"
		  "interval = 1h\n"
		  "on_battery = skip\n"
		  "# bwlimit = 0\n"
		  "# nice = 10\n"
		  "# ionice = best-effort:7\n");
}

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		COMMON_LONGOPTS,
		{ "key", required_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common co;
	struct repo repo;
	struct argv sources = ARGV_INIT;
	struct strbuf text = STRBUF_INIT, spec = STRBUF_INIT, why = STRBUF_INIT;
	const char *key_opt = NULL;
	char *config = NULL, *key = NULL, *name = NULL;
	int c, force = 0, code, rc, explicit;

	common_init(&co);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': key_opt = optarg; break;
		case 'f': force = 1; break;
		case 'h': fputs(init_usage, stdout); return HS_EXIT_OK;
		default:
			if (common_option(&co, c, optarg) && c != 's')
				break;
			fputs(init_usage, stderr);
			return HS_EXIT_USAGE;
		}
	}
	if (!co.repo) {
		fputs("hindsight: init: give --repo [user@]host: or --repo DIRECTORY\n", stderr);
		fputs(init_usage, stderr);
		return HS_EXIT_USAGE;
	}
	if ((code = repo_parse(co.repo, NULL, &repo)) != 0)
		return code;
	explicit = co.config != NULL;
	config = co.config ? absolute(co.config) : config_default_path();
	if (!config) {
		fputs("hindsight: cannot find the current directory\n", stderr);
		code = HS_EXIT_ERROR;
		goto out;
	}
	if (!force && access(config, F_OK) == 0) {
		fprintf(stderr, "hindsight: %s exists; not replacing it (use --force)\n", config);
		code = HS_EXIT_ERROR;
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		char *abs = absolute(argv[i]);
		struct stat st;
		if (!abs || lstat(abs, &st) < 0) {
			fprintf(stderr, "hindsight: source %s: %s\n", argv[i],
				strerror(abs ? errno : ENAMETOOLONG));
			free(abs);
			code = HS_EXIT_NOTFOUND;
			goto out;
		}
		argv_push(&sources, abs);
		free(abs);
	}
	if (!sources.n)   /* everything for root, the home directory for anybody else */
		argv_push(&sources, geteuid() == 0 ? "/" : home_dir());

	if (repo.local) {
		sb_addstr(&spec, repo.dir);
	} else {
		name = repo.user ? xstrdup(repo.user) : account_name();
		sb_addf(&spec, "%s@%s:", name, repo.host);
		if (key_opt) {
			key = absolute(key_opt);
		} else {
			char *dir = dir_of(config);
			struct strbuf k = STRBUF_INIT;
			sb_addf(&k, "%s/id_ed25519", dir);
			free(dir);
			key = sb_detach(&k);
		}
		if (!key || strchr(key, '\n')) {
			fputs("hindsight: bad --key path\n", stderr);
			code = HS_EXIT_USAGE;
			goto out;
		}
		if ((code = make_key(key, name)) != HS_EXIT_OK)
			goto out;
	}
	write_config_text(&text, spec.buf, key, &sources);
	rc = write_file_path(config, text.buf, 0600, 0700);
	if (rc < 0) {
		fprintf(stderr, "hindsight: cannot write %s: %s\n", config, strerror(-rc));
		code = rc == -ENOSPC ? HS_EXIT_NOSPACE : HS_EXIT_ERROR;
		goto out;
	}
	printf("hindsight: wrote %s\n", config);

	struct strbuf test = STRBUF_INIT;
	sb_addstr(&test, "hindsight status");
	if (co.config)
		sb_addf(&test, " --config %s", config);
	if (repo.local) {
		printf("\nThe first backup creates %s. Back up now with:\n\n    hindsight backup%s%s\n\n"
		       "or every hour with:\n\n    hindsight schedule enable%s%s\n", repo.dir,
		       co.config ? " --config " : "", co.config ? config : "",
		       co.config ? " --config " : "", co.config ? config : "");
		sb_release(&test);
		goto out;
	}
	char *pub = NULL;
	struct strbuf pubfile = STRBUF_INIT;
	sb_addf(&pubfile, "%s.pub", key);
	if (read_file_at(AT_FDCWD, pubfile.buf, 16384, &pub) < 0) {
		fprintf(stderr, "hindsight: cannot read %s\n", pubfile.buf);
		code = HS_EXIT_ERROR;
		sb_release(&pubfile);
		sb_release(&test);
		goto out;
	}
	pub[strcspn(pub, "\n")] = '\0';
	printf("\nOn the backup server, as root, save this line as %s.pub:\n\n    %s\n\n"
	       "and create the account with:\n\n    hindsight-server adduser %s --key %s.pub\n\n",
	       name, pub, name, name);
	free(pub);
	sb_release(&pubfile);

	/* once, as the next commands will connect: through the config just written */
	struct repo pr;
	co.config = config;
	co.repo = NULL;
	common_free(&co);
	if (common_repo(&co, &pr, 0) == HS_EXIT_OK) {
		struct strbuf ssh = STRBUF_INIT;
		sb_addf(&ssh, "%s -o BatchMode=yes -o ConnectTimeout=10", pr.ssh);
		free(pr.ssh);
		pr.ssh = sb_detach(&ssh);
		if (probe(&pr, &why) == HS_EXIT_OK) {
			printf("hindsight: the server accepts this key already: the account "
			       "exists. Back up with: hindsight backup%s%s\n",
			       explicit ? " --config " : "", explicit ? config : "");
		} else {
			printf("Then test the connection from here with:\n\n    %s\n", test.buf);
			if (why.len)
				printf("\n(tried just now: %s)\n", why.buf);
		}
		repo_free(&pr);
	}
	co.config = NULL;
	sb_release(&test);
out:
	free(config);
	free(key);
	free(name);
	argv_clear(&sources);
	sb_release(&text);
	sb_release(&spec);
	sb_release(&why);
	repo_free(&repo);
	common_free(&co);
	return code;
}
