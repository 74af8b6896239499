/*
 * `hindsight-server adduser NAME --key FILE [--base DIR] [--sealed|--simple]`:
 * one command to give a client machine its account on this server.
 * Sealed (the default for a new root; an existing root keeps its mode):
 *
 *   vault      the vault owner (server.conf's vault_user, hindsight-vault),
 *              a system user that owns sealed history, made if missing
 *   root       BASE/NAME, root's with the account's group, 0750, in the
 *              sealed layout (sealed.h); BASE must be server.conf's base,
 *              where the sealer looks
 *
 * Simple:
 *
 *   group      hindsight (a system group, made if missing): the account's
 *              supplementary group, which the sshd drop-in matches; its
 *              primary group is its own (sealed mode will make history
 *              readable by that group, so it must not be shared)
 *   account    a system account, shell /bin/sh (sshd runs the forced
 *              command through it), password field '*' (no password, and
 *              not locked: sshd without PAM refuses locked accounts even
 *              for keys), home BASE/NAME
 *   root       BASE/NAME, the account's, mode 0700; BASE root's, 0755
 *
 * Both:
 *
 *   key        /etc/ssh/authorized_keys/NAME, root's, 0644 (directory
 *              0755): restrict,command="THIS-PROGRAM serve" KEY
 *
 * Everything is judged first (name, base, key, what exists already), and
 * only then changed; a refusal changes nothing. Rerunning with the same
 * arguments changes nothing; with another key it replaces the key; a
 * missing or wrong piece is made right. The tools of Debian's passwd
 * package are run by absolute path, never through a shell.
 */
#include "server.h"
#include "accounts.h"
#include "../lib/exitcodes.h"
#include "../lib/fsops.h"
#include "../lib/sealed.h"
#include "../lib/spawn.h"
#include "../lib/srvconf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <shadow.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct plan {
	const char *name;
	const char *keyfile;
	struct strbuf base;      /* no trailing slash */
	struct strbuf home;      /* BASE/NAME */
	struct strbuf key;       /* the key line as given, checked */
	struct strbuf line;      /* what the keys file will hold */
	struct strbuf fpr;       /* ssh-keygen -l's line, for the message */
	char exe[PATH_MAX];      /* this program, which the key runs */
	int has_account;
	uid_t uid;               /* the account's, once it exists */
	gid_t gid;
	int reuse_uid;           /* the root outlived its account: take its uid */
	uid_t old_uid;
	int sealed;              /* -1 as it is (new roots: sealed), 0 simple, 1 sealed */
	struct srvconf conf;     /* for the vault owner and the sealer's base */
	uid_t vault;             /* once it exists */
	int has_vault;
};

__attribute__((format(printf, 2, 3)))
static int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("hindsight-server: adduser: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ssh-keygen -l on exactly the line we checked, from a memfd; 0 if it accepts it. */
static int keygen_accepts(struct plan *p)
{
	char *argv[] = { SSH_KEYGEN, "-l", "-f", "/dev/fd/3", NULL };
	struct spawn_opts o = SPAWN_OPTS_INIT;
	int in = memfd_create("key", MFD_CLOEXEC), out = memfd_create("fpr", MFD_CLOEXEC);
	int rc = -1, interrupted;
	char buf[512];

	if (in < 0 || out < 0)
		goto out;
	if (write(in, p->key.buf, p->key.len) != (ssize_t)p->key.len || write(in, "\n", 1) != 1)
		goto out;
	o.keep_fd = in;
	o.out_fd = out;
	o.err_fd = out;
	o.in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (o.in_fd < 0)
		goto out;
	pid_t pid = spawn_with(SSH_KEYGEN, argv, tool_envp, &o);
	close(o.in_fd);
	if (pid < 0)
		goto out;
	rc = wait_child(pid, &interrupted);
	ssize_t n = pread(out, buf, sizeof(buf) - 1, 0);
	if (rc == 0 && n > 0) {
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		sb_addstr(&p->fpr, buf);
	}
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int read_key(struct plan *p)
{
	char buf[HS_KEYFILE_MAX + 1];
	struct stat st;
	size_t len = 0;
	const char *why;
	int fd = open(p->keyfile, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0)
		return fail(errno == ENOENT || errno == ENOTDIR ? HS_EXIT_NOTFOUND : HS_EXIT_ERROR,
			    "cannot open the key file %s: %s", p->keyfile, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(HS_EXIT_USAGE, "the key file %s is not a regular file", p->keyfile);
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return fail(HS_EXIT_ERROR, "cannot read %s: %s", p->keyfile, strerror(e));
		}
		len += (size_t)n;
		if (n == 0 || len == sizeof(buf))
			break;
	}
	close(fd);
	why = pubkey_parse(buf, len, &p->key);
	if (why)
		return fail(HS_EXIT_USAGE, "%s: %s", p->keyfile, why);
	if (keygen_accepts(p) != 0)
		return fail(HS_EXIT_USAGE, "%s: ssh-keygen does not accept the key", p->keyfile);
	return 0;
}

/* The forced command names this very program by its absolute path. */
static int forced_command(struct plan *p)
{
	char *exe = p->exe;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(p->exe) - 1);

	if (n <= 0)
		return fail(HS_EXIT_ERROR, "cannot find this program's path: %s", strerror(errno));
	exe[n] = '\0';
	/* it goes inside command="..." and through /bin/sh -c: plain characters only */
	for (ssize_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._+-",
			    exe[i]))
			return fail(HS_EXIT_ERROR, "this program's path cannot go in a forced "
				    "command: %s", exe);
	sb_addf(&p->line, "restrict,command=\"%s serve\" %s\n", exe, p->key.buf);
	return 0;
}

/* -1 no root, 0 simple, 1 sealed; *history: it holds more than .hindsight/. */
static int root_mode(const char *home, int *history)
{
	struct root r;
	int mode = -1;

	if (root_open(home, 0, &r) < 0)
		return -1;
	mode = r.sealed;
	int fd = openat(r.fd, ".", DIR_FLAGS);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    strcmp(de->d_name, HS_META_DIR) && strcmp(de->d_name, HS_INPROGRESS))
			*history = 1;
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	root_close(&r);
	return mode;
}

/* Which mode, and whether sealed mode can be had here. */
static int judge_sealed(struct plan *p, int mode, int history)
{
	if (p->sealed == 0 && mode == 1)
		return fail(HS_EXIT_REFUSED, "%s is a sealed root: it cannot be made simple",
			    p->home.buf);
	if (p->sealed == 1 && mode == 0 && history)
		return fail(HS_EXIT_REFUSED, "%s is a simple root with history: converting it to "
			    "sealed is not supported (give --simple)", p->home.buf);
	if (p->sealed < 0)
		p->sealed = mode == 0 ? 0 : 1;
	if (!p->sealed)
		return 0;
	if (strcmp(p->base.buf, p->conf.base))
		return fail(HS_EXIT_REFUSED, "the sealer finds backup roots under %s (base in %s): "
			    "give --base %s, or set base = %s there", p->conf.base, p->conf.path,
			    p->conf.base, p->base.buf);
	const struct passwd *v = getpwnam(p->conf.vault_user);
	if (v && (v->pw_uid == 0 || in_hindsight_group(v) || !strcmp(v->pw_name, p->name)))
		return fail(HS_EXIT_REFUSED, "the vault owner %s is root or a backup account",
			    p->conf.vault_user);
	if (v) {
		p->has_vault = 1;
		p->vault = v->pw_uid;
	}
	return 0;
}

/* What exists already, and whether we may build on it. */
static int judge_system(struct plan *p)
{
	const struct passwd *pw = getpwnam(p->name);
	const char *why;
	struct stat st;

	if (pw) {
		if (pw->pw_uid == 0)
			return fail(HS_EXIT_REFUSED, "%s is root's account", p->name);
		if (!in_hindsight_group(pw))
			return fail(HS_EXIT_REFUSED, "an account %s exists and is not a hindsight "
				    "account (not in group %s); choose another name", p->name, HS_GROUP);
		const struct group *gr = getgrnam(HS_GROUP);
		if (gr && pw->pw_gid == gr->gr_gid)
			return fail(HS_EXIT_REFUSED, "%s's primary group is %s; it needs a group of "
				    "its own (usermod -g)", p->name, HS_GROUP);
		if (!pw->pw_dir || strcmp(pw->pw_dir, p->home.buf))
			return fail(HS_EXIT_REFUSED, "%s's backup root is %s, not %s (give its --base)",
				    p->name, pw->pw_dir ? pw->pw_dir : "(none)", p->home.buf);
		p->has_account = 1;
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
	} else if (getgrnam(p->name)) {
		return fail(HS_EXIT_REFUSED, "a group %s exists already, and the account must "
			    "have a group of its own", p->name);
	}
	if ((why = root_owned_dir(p->base.buf, 1, 1)))
		return fail(HS_EXIT_REFUSED, "the base %s %s", p->base.buf, why);
	if ((why = root_owned_dir(HS_KEYS_DIR, 1, 0)))
		return fail(HS_EXIT_REFUSED, "%s %s", HS_KEYS_DIR, why);
	if (lstat(p->home.buf, &st) < 0)
		return judge_sealed(p, -1, 0);
	if (!S_ISDIR(st.st_mode))
		return fail(HS_EXIT_REFUSED, "%s exists and is not a directory", p->home.buf);
	int history = 0, mode = root_mode(p->home.buf, &history);
	if (mode == 1) {
		if (!p->has_account)
			return fail(HS_EXIT_REFUSED, "%s is a sealed root whose account is gone; "
				    "giving it a new account is not supported", p->home.buf);
		if (st.st_gid != p->gid)
			return fail(HS_EXIT_REFUSED, "%s is a sealed root of group %u, not of %s",
				    p->home.buf, (unsigned)st.st_gid, p->name);
		return judge_sealed(p, mode, history);
	}
	if (p->has_account && st.st_uid != p->uid && !(st.st_uid == 0 && !history))
		return fail(HS_EXIT_REFUSED, "%s belongs to uid %u, not to %s", p->home.buf,
			    (unsigned)st.st_uid, p->name);
	if (!p->has_account) {
		const struct passwd *owner = getpwuid(st.st_uid);
		if (owner)
			return fail(HS_EXIT_REFUSED, "%s exists and belongs to %s", p->home.buf,
				    owner->pw_name);
		/* kept by deluser: the account comes back with the uid that owns it */
		p->reuse_uid = 1;
		p->old_uid = st.st_uid;
	}
	return judge_sealed(p, mode, history);
}

static int make_account(struct plan *p, struct strbuf *done)
{
	char uid[32];
	int rc;

	if (!getgrnam(HS_GROUP)) {
		char *argv[] = { GROUPADD, "--system", HS_GROUP, NULL };
		if ((rc = run_tool(argv)) != 0)
			return fail(HS_EXIT_ERROR, "groupadd %s failed (%d)", HS_GROUP, rc);
		did(done, "created group %s", HS_GROUP);
	}
	if (p->sealed && !p->has_vault) {
		char *argv[] = { USERADD, "--system", "--shell", "/usr/sbin/nologin", "--home-dir",
				 "/nonexistent", "--no-create-home", "--user-group", "--comment",
				 "hindsight vault, owner of sealed history", p->conf.vault_user, NULL };
		if ((rc = run_tool(argv)) != 0)
			return fail(HS_EXIT_ERROR, "useradd %s failed (%d)", p->conf.vault_user, rc);
		const struct passwd *v = getpwnam(p->conf.vault_user);
		if (!v)
			return fail(HS_EXIT_ERROR, "useradd made no account %s", p->conf.vault_user);
		p->vault = v->pw_uid;
		p->has_vault = 1;
		did(done, "created the vault owner %s (uid %u)", p->conf.vault_user,
		    (unsigned)p->vault);
	}
	if (!p->has_account) {
		char *argv[] = { USERADD, "--system", "--shell", "/bin/sh", "--home-dir",
				 p->home.buf, "--no-create-home", "--user-group", "--groups",
				 HS_GROUP, "--password", "*", "--comment", "hindsight backup account",
				 "--uid", uid, (char *)p->name, NULL };
		snprintf(uid, sizeof(uid), "%u", (unsigned)p->old_uid);
		if (!p->reuse_uid) {
			argv[14] = (char *)p->name;   /* no --uid */
			argv[15] = NULL;
		}
		if ((rc = run_tool(argv)) != 0)
			return fail(HS_EXIT_ERROR, "useradd %s failed (%d)", p->name, rc);
		const struct passwd *pw = getpwnam(p->name);
		if (!pw)
			return fail(HS_EXIT_ERROR, "useradd made no account %s", p->name);
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
		did(done, "created account %s (uid %u), shell /bin/sh, home %s", p->name,
		    (unsigned)p->uid, p->home.buf);
		return 0;
	}
	/* it exists: put right what somebody changed */
	const struct passwd *pw = getpwnam(p->name);
	if (pw && pw->pw_shell && strcmp(pw->pw_shell, "/bin/sh")) {
		char *argv[] = { USERMOD, "--shell", "/bin/sh", (char *)p->name, NULL };
		if ((rc = run_tool(argv)) != 0)
			return fail(HS_EXIT_ERROR, "usermod --shell %s failed (%d)", p->name, rc);
		did(done, "set %s's shell to /bin/sh", p->name);
	}
	const struct spwd *sp = getspnam(p->name);
	if (sp && strcmp(sp->sp_pwdp, "*")) {
		char *argv[] = { USERMOD, "--password", "*", (char *)p->name, NULL };
		if ((rc = run_tool(argv)) != 0)
			return fail(HS_EXIT_ERROR, "usermod --password %s failed (%d)", p->name, rc);
		did(done, "set %s's password field to * (no password, not locked)", p->name);
	}
	return 0;
}

/* The sealed layout in the root fd (made: just now). */
static int make_sealed(struct plan *p, int fd, int made, struct strbuf *done)
{
	struct seal_ids ids = { p->uid, p->gid, p->vault };
	struct strbuf notes = STRBUF_INIT;
	int rc = sealed_layout(fd, &ids, &notes);

	if (rc < 0) {
		sb_release(&notes);
		return fail(rc == -EEXIST ? HS_EXIT_REFUSED : HS_EXIT_ERROR, "cannot make %s a sealed "
			    "root: %s", p->home.buf, rc == -EEXIST ? "it holds simple history" :
			    strerror(-rc));
	}
	if (made)
		did(done, "created sealed backup root %s (root:%s, 0750; history owned by %s)",
		    p->home.buf, p->name, p->conf.vault_user);
	else if (notes.len)
		did(done, "put right sealed backup root %s: %s", p->home.buf, notes.buf);
	sb_release(&notes);
	if (sealed_hardlinks_protected() != 0)
		printf("note: fs.protected_hardlinks is not 0: sealed pushes cannot link unchanged "
		       "files (install contrib/sysctl.d/hindsight.conf; see hindsight-server check)\n");
	return 0;
}

static int make_root(struct plan *p, struct strbuf *done)
{
	struct stat st;
	int base, fd, made = 0, made_base = 0, code = HS_EXIT_ERROR;

	if (stat(p->base.buf, &st) < 0) {
		int rc = mkdir_p(p->base.buf, 0755);
		if (rc < 0)
			return fail(HS_EXIT_ERROR, "cannot make %s: %s", p->base.buf, strerror(-rc));
		made_base = 1;
	}
	base = open(p->base.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (base < 0)
		return fail(HS_EXIT_ERROR, "cannot open %s: %s", p->base.buf, strerror(errno));
	if (made_base) {
		fchmod(base, 0755);
		did(done, "created %s (root, 0755)", p->base.buf);
	}
	const char *why = root_owned_fd(base, 1);
	if (why) {
		close(base);
		return fail(HS_EXIT_REFUSED, "the base %s %s", p->base.buf, why);
	}
	if (mkdirat(base, p->name, p->sealed ? 0750 : 0700) == 0)
		made = 1;
	else if (errno != EEXIST) {
		fail(HS_EXIT_ERROR, "cannot make %s: %s", p->home.buf, strerror(errno));
		goto out;
	}
	fd = openat(base, p->name, DIR_FLAGS);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fail(HS_EXIT_ERROR, "cannot open %s: %s", p->home.buf, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	if (p->sealed) {
		code = make_sealed(p, fd, made, done);
		close(fd);
		goto out;
	}
	int owner = st.st_uid != p->uid || st.st_gid != p->gid;
	int mode = (st.st_mode & 07777) != 0700;
	if ((owner && fchown(fd, p->uid, p->gid) < 0) || (mode && fchmod(fd, 0700) < 0)) {
		fail(HS_EXIT_ERROR, "cannot give %s to %s: %s", p->home.buf, p->name, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (made)
		did(done, "created backup root %s (%s, 0700)", p->home.buf, p->name);
	else if (owner || mode)
		did(done, "gave backup root %s to %s, mode 0700", p->home.buf, p->name);
	code = 0;
out:
	close(base);
	return code;
}

static int write_key(struct plan *p, struct strbuf *done)
{
	struct stat st;
	char *old = NULL;
	const char *why;
	int dir, rc, wrc, made = 0, code = HS_EXIT_ERROR;

	if (lstat(HS_KEYS_DIR, &st) < 0) {
		if ((rc = mkdir_p(HS_KEYS_DIR, 0755)) < 0)
			return fail(HS_EXIT_ERROR, "cannot make %s: %s", HS_KEYS_DIR, strerror(-rc));
		made = 1;
	}
	dir = open(HS_KEYS_DIR, DIR_FLAGS);
	if (dir < 0)
		return fail(HS_EXIT_ERROR, "cannot open %s: %s", HS_KEYS_DIR, strerror(errno));
	if (made) {
		fchmod(dir, 0755);
		did(done, "created %s (root, 0755)", HS_KEYS_DIR);
	}
	if ((why = root_owned_fd(dir, 1))) {
		close(dir);
		return fail(HS_EXIT_REFUSED, "%s %s", HS_KEYS_DIR, why);
	}
	rc = read_file_at(dir, p->name, 65536, &old);
	int same = rc == 0 && !strcmp(old, p->line.buf);
	if (same && fstatat(dir, p->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == 0 && st.st_gid == 0 && (st.st_mode & 07777) == 0644) {
		code = 0;
		goto out;
	}
	if (!same && (wrc = write_file_atomic(dir, p->name, p->line.buf, p->line.len)) < 0) {
		fail(HS_EXIT_ERROR, "cannot write %s/%s: %s", HS_KEYS_DIR, p->name, strerror(-wrc));
		goto out;
	}
	if (fchownat(dir, p->name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(dir, p->name, 0644, 0) < 0) {
		fail(HS_EXIT_ERROR, "cannot make %s/%s root's, 0644: %s", HS_KEYS_DIR, p->name,
		     strerror(errno));
		goto out;
	}
	did(done, "%s %s/%s: %s", rc == -ENOENT ? "wrote" : same ? "fixed the owner and mode of" :
	    "replaced the key in", HS_KEYS_DIR, p->name, p->fpr.buf);
	if (strcmp(p->exe, BINDIR "/hindsight-server"))
		printf("note: the key runs %s, not the installed %s\n", p->exe,
		       BINDIR "/hindsight-server");
	code = 0;
out:
	free(old);
	close(dir);
	return code;
}

static int adduser(struct plan *p, int sealed)
{
	struct strbuf done = STRBUF_INIT;
	const char *why;
	int code;

	if ((why = account_name_check(p->name)))
		return fail(HS_EXIT_USAGE, "%s: %.64s", why, p->name);
	p->sealed = sealed;
	if (geteuid() != 0)
		return fail(HS_EXIT_ERROR, "must run as root");
	if ((code = read_key(p)) || (code = forced_command(p)) || (code = judge_system(p)))
		return code;
	/* decided; from here on, each step is one the next run would redo */
	umask(022);
	if (!(code = make_account(p, &done)) && !(code = make_root(p, &done)))
		code = write_key(p, &done);
	if (!code && !done.len)
		printf("%s is set up already: nothing changed\n", p->name);
	admin_log("adduser", p->name, code, &done);
	sb_release(&done);
	return code;
}

int cmd_adduser(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "base", required_argument, NULL, 'b' },
		{ "sealed", no_argument, NULL, 'S' },
		{ "simple", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char usage[] = "usage: hindsight-server adduser NAME --key FILE "
				    "[--base DIR] [--sealed|--simple]\n";
	struct plan p = { .base = STRBUF_INIT, .home = STRBUF_INIT, .key = STRBUF_INIT,
			  .line = STRBUF_INIT, .fpr = STRBUF_INIT };
	const char *base = HS_DEFAULT_BASE, *why;
	int c, sealed = -1, code;

	/* NAME may come before the options, as in the synopsis */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': p.keyfile = optarg; break;
		case 'b': base = optarg; break;
		case 'S':
		case 's':
			if (sealed >= 0 && sealed != (c == 'S'))
				return fail(HS_EXIT_USAGE, "--sealed and --simple exclude each other");
			sealed = c == 'S';
			break;
		case 'h': fputs(usage, stdout); return HS_EXIT_OK;
		default: fputs(usage, stderr); return HS_EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !p.keyfile) {
		fputs(usage, stderr);
		return HS_EXIT_USAGE;
	}
	p.name = argv[optind];
	if ((why = base_path_check(base, &p.base))) {
		sb_release(&p.base);
		return fail(HS_EXIT_USAGE, "%s: %.200s", why, base);
	}
	sb_addf(&p.home, "%s/%s", p.base.buf, p.name);
	struct strbuf err = STRBUF_INIT;
	if (srvconf_load(getenv("HINDSIGHT_SERVER_CONF"), &p.conf, &err) < 0) {
		code = fail(HS_EXIT_USAGE, "%s", err.buf);
	} else {
		code = adduser(&p, sealed);
	}
	srvconf_free(&p.conf);
	sb_release(&err);
	sb_release(&p.base);
	sb_release(&p.home);
	sb_release(&p.key);
	sb_release(&p.line);
	sb_release(&p.fpr);
	return code;
}
