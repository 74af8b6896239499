/*
 * server.conf (srvconf.h): good files and what they mean for an account,
 * bad files and the exact error with its line; sizes and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "srvconf.h"
#include "util.h"

static char conf_path[64];

static int write_conf(const char *text)
{
	FILE *f = fopen(conf_path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

struct conf_row {
	const char *name;
	const char *text;         /* NULL: no file at all */
	const char *error;        /* expected error after "PATH:", or NULL */
	const char *account;      /* ask for this account ... */
	const char *keep;         /* ... and expect these */
	const char *min_free;     /* "5%" or bytes as a number */
	double inodes;
	unsigned long long quota;
	long long max_age;
	const char *base;
};

static const struct conf_row conf_rows[] = {
	{ "no file gives every default", NULL, NULL, "any", RET_DEFAULT, "1%", 1, 0, 26 * 3600,
	  SRVCONF_BASE },
	{ "an empty file gives every default", "", NULL, "any", RET_DEFAULT, "1%", 1, 0,
	  26 * 3600, SRVCONF_BASE },
	{ "comments and blank lines", "# a comment\n; another\n\n[server]\n; nothing\n", NULL,
	  "any", RET_DEFAULT, "1%", 1, 0, 26 * 3600, SRVCONF_BASE },
	{ "every server key",
	  "[server]\nbase = /backup\nkeep = 48h:all forever:daily\nmin_free = 10G\n"
	  "min_free_inodes = 2.5%\nquota = 500M\nmax_age = 2d\n", NULL, "x",
	  "48h:all forever:daily", "10737418240", 2.5, 500ULL << 20, 2 * 86400, "/backup" },
	{ "an account overrides only what it names",
	  "[server]\nquota = 1T\n[account laptop]\nkeep = 7d:all\nmax_age = 8d\n", NULL,
	  "laptop", "7d:all", "1%", 1, 1ULL << 40, 8 * 86400, SRVCONF_BASE },
	{ "another account gets the server's values",
	  "[server]\nquota = 1T\n[account laptop]\nkeep = 7d:all\n", NULL, "desktop",
	  RET_DEFAULT, "1%", 1, 1ULL << 40, 26 * 3600, SRVCONF_BASE },
	{ "quota none and max_age none", "[server]\nquota = none\nmax_age = none\n", NULL, "a",
	  RET_DEFAULT, "1%", 1, 0, 0, SRVCONF_BASE },
	{ "min_free 0 turns it off", "[server]\nmin_free = 0\nmin_free_inodes = 0\n", NULL, "a",
	  RET_DEFAULT, "0", 0, 0, 26 * 3600, SRVCONF_BASE },
	{ "an inline ; comment", "[server]\nquota = 2G ; two gigs\n", NULL, "a", RET_DEFAULT,
	  "1%", 1, 2ULL << 30, 26 * 3600, SRVCONF_BASE },
	{ "sizes take KiB and B suffixes", "[server]\nmin_free = 512KiB\nquota = 3GB\n", NULL, "a",
	  RET_DEFAULT, "524288", 1, 3ULL << 30, 26 * 3600, SRVCONF_BASE },
	{ "an unknown key is an error with its line", "[server]\n\nkep = 24h:all\n",
	  ":3: unknown key \"kep\" in [server]", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a bad keep names the tier", "[server]\nkeep = 24h:all 30d:dayly\n",
	  ":2: keep: tier 2 \"30d:dayly\": keep must be", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a bad size", "[server]\nmin_free = lots\n",
	  ":2: min_free: \"lots\" is not a size", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a percent over 100", "[server]\nmin_free = 101%\n", ":2: min_free: \"101%\"", NULL,
	  NULL, NULL, 0, 0, 0, NULL },
	{ "a quota cannot be a percent", "[server]\nquota = 5%\n", ":2: quota: \"5%\"", NULL,
	  NULL, NULL, 0, 0, 0, NULL },
	{ "inodes must be a percent", "[server]\nmin_free_inodes = 10G\n",
	  ":2: min_free_inodes: \"10G\" is not a percent", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a bad duration", "[server]\nmax_age = soon\n", ":2: max_age: \"soon\"", NULL, NULL,
	  NULL, 0, 0, 0, NULL },
	{ "a relative base", "[server]\nbase = srv\n", ":2: base: \"srv\" must be an absolute",
	  NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "base is not an account key", "[account a]\nbase = /x\n",
	  ":2: unknown key \"base\" in [account a]", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "an unknown section", "[servr]\nkeep = 24h:all\n", ":2: unknown section [servr]",
	  NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a bad account name", "[account ../x]\nkeep = 24h:all\n",
	  ":2: [account ../x]: \"../x\" is not an account name", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a line that is no key = value", "[server]\njust words\n",
	  ":2: expected \"key = value\"", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "the first error is the one reported", "[server]\nfoo = 1\nbar = 2\n",
	  ":2: unknown key \"foo\"", NULL, NULL, NULL, 0, 0, 0, NULL },
	{ "a key outside any section", "keep = 24h:all\n", ":1: unknown section []", NULL, NULL,
	  NULL, 0, 0, 0, NULL },
};

static void run_conf_row(void **state)
{
	const struct conf_row *row = *state;
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;

	unlink(conf_path);
	if (row->text)
		assert_int_equal(write_conf(row->text), 0);
	int rc = srvconf_load(conf_path, &c, &err);
	if (row->error) {
		if (rc == 0)
			fail_msg("%s: accepted", row->name);
		if (strncmp(err.buf, conf_path, strlen(conf_path)) ||
		    strncmp(err.buf + strlen(conf_path), row->error, strlen(row->error)))
			fail_msg("%s: error \"%s\", want \"%s%s...\"", row->name, err.buf,
				 conf_path, row->error);
	} else {
		if (rc < 0)
			fail_msg("%s: %s", row->name, err.buf);
		struct acct_conf a;
		struct strbuf keep = STRBUF_INIT;
		srvconf_account(&c, row->account, &a);
		ret_format(&a.keep, &keep);
		assert_string_equal(keep.buf, row->keep);
		sb_release(&keep);
		char mf[40];
		if (a.min_free.is_percent)
			snprintf(mf, sizeof(mf), "%g%%", a.min_free.percent);
		else
			snprintf(mf, sizeof(mf), "%llu", a.min_free.bytes);
		assert_string_equal(mf, row->min_free);
		assert_true(a.min_free_inodes == row->inodes);
		assert_int_equal(a.quota, row->quota);
		assert_int_equal(a.max_age, row->max_age);
		assert_string_equal(c.base, row->base);
	}
	srvconf_free(&c);
	sb_release(&err);
}

static void long_line_is_refused(void **state)
{
	struct srvconf c;
	struct strbuf err = STRBUF_INIT;
	char *text = xmalloc(3000);

	(void)state;
	strcpy(text, "[server]\nkeep = ");
	memset(text + strlen(text), 'x', 2000);
	strcpy(text + 16 + 2000, "\n");
	assert_int_equal(write_conf(text), 0);
	assert_int_equal(srvconf_load(conf_path, &c, &err), -1);
	assert_non_null(strstr(err.buf, ":2: line longer than 1000 bytes"));
	srvconf_free(&c);
	sb_release(&err);
	free(text);
}

/* The example shipped in contrib/ parses, and says what the defaults are. */
static void shipped_example_is_the_defaults(void **state)
{
	struct srvconf c, d;
	struct strbuf err = STRBUF_INIT;
	struct acct_conf a, b;

	(void)state;
	if (srvconf_load("contrib/server.conf", &c, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(srvconf_load("/nonexistent/server.conf", &d, &err), 0);
	srvconf_account(&c, "laptop", &a);
	srvconf_account(&d, "laptop", &b);
	struct strbuf ka = STRBUF_INIT, kb = STRBUF_INIT;
	ret_format(&a.keep, &ka);
	ret_format(&b.keep, &kb);
	assert_string_equal(ka.buf, kb.buf);
	sb_release(&ka);
	sb_release(&kb);
	assert_int_equal(a.min_free.is_percent, b.min_free.is_percent);
	assert_true(a.min_free.percent == b.min_free.percent);
	assert_true(a.min_free_inodes == b.min_free_inodes);
	assert_int_equal(a.quota, b.quota);
	assert_int_equal(a.max_age, b.max_age);
	assert_string_equal(c.base, d.base);
	assert_string_equal(c.vault_user, d.vault_user);
	assert_string_equal(c.sealer_socket, d.sealer_socket);
	srvconf_free(&c);
	srvconf_free(&d);
	sb_release(&err);
}

static void formats_bytes(void **state)
{
	char b[32];
	(void)state;
	format_bytes(512, b, sizeof(b));
	assert_string_equal(b, "512 B");
	format_bytes(1536, b, sizeof(b));
	assert_string_equal(b, "1.5 KiB");
	format_bytes(5ULL << 30, b, sizeof(b));
	assert_string_equal(b, "5.0 GiB");
}

static int setup(void **state)
{
	(void)state;
	snprintf(conf_path, sizeof(conf_path), "/tmp/hs-srvconf-%ld.conf", (long)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(conf_path);
	return 0;
}

int main(void)
{
	enum { N = sizeof(conf_rows) / sizeof(conf_rows[0]) };
	struct CMUnitTest tests[N + 3];
	size_t nt = 0;

	for (size_t i = 0; i < N; i++)
		tests[nt++] = (struct CMUnitTest){ conf_rows[i].name, run_conf_row, NULL, NULL,
						   (void *)&conf_rows[i] };
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(long_line_is_refused);
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(formats_bytes);
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(shipped_example_is_the_defaults);
	return _cmocka_run_group_tests("srvconf", tests, nt, setup, teardown);
}
