/*
 * What adduser accepts before it changes anything: account names, base
 * directories and public key files, one row per case, with the reason a
 * refusal gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "strbuf.h"
#include "util.h"

#define ED "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM60oBPzF4hIJGwN1hCH1SWziFxVO7LKOsAqtelwq6oE"

struct row {
	const char *name;
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *out;     /* accepted: the normalised form */
	const char *why;     /* refused: a substring of the reason */
};

#define OK(name, in, out) { name, in, 0, out, NULL }
#define NO(name, in, why) { name, in, 0, NULL, why }
/* for inputs with a NUL inside: the whole literal */
#define NO_BYTES(name, in, why) { name, in, sizeof(in) - 1, NULL, why }

static const struct row names[] = {
	OK("accepts a plain name", "laptop", "laptop"),
	OK("accepts digits, '-' and '_' after the first character", "host-01_a", "host-01_a"),
	OK("accepts a leading underscore", "_svc", "_svc"),
	OK("accepts 32 characters", "abcdefghijklmnopqrstuvwxyz012345", ""),
	NO("refuses the empty name", "", "empty"),
	NO("refuses 33 characters", "abcdefghijklmnopqrstuvwxyz0123456", "longer than 32"),
	NO("refuses capitals", "Laptop", "start with a lowercase"),
	NO("refuses capitals later on", "lapTop", "only a-z"),
	NO("refuses a leading digit", "9lives", "start with"),
	NO("refuses a leading '-' (an option to useradd)", "-laptop", "start with"),
	NO("refuses a slash", "a/b", "only a-z"),
	NO("refuses a dot", "a.b", "only a-z"),
	NO("refuses '..'", "..", "start with"),
	NO("refuses a space", "a b", "only a-z"),
	NO("refuses a colon (passwd's separator)", "a:b", "only a-z"),
	NO("refuses a trailing '$'", "host$", "only a-z"),
	NO("refuses a newline", "a\nb", "only a-z"),
	NO("refuses a byte above 0x7f", "caf\xc3\xa9", "only a-z"),
	NO("refuses the group's name", "hindsight", "group"),
};

static const struct row bases[] = {
	OK("accepts the default", "/srv/hindsight", "/srv/hindsight"),
	OK("drops trailing slashes", "/srv/hindsight//", "/srv/hindsight"),
	OK("accepts ._+- in names", "/srv/back-ups_2.0+x", "/srv/back-ups_2.0+x"),
	OK("accepts a dot-file component", "/srv/.hidden", "/srv/.hidden"),
	NO("refuses a relative path", "srv/hindsight", "absolute"),
	NO("refuses the empty path", "", "absolute"),
	NO("refuses /", "/", "not be /"),
	NO("refuses //", "//", "not be /"),
	NO("refuses an empty component", "/srv//hindsight", "empty component"),
	NO("refuses a . component", "/srv/./hindsight", ". or .."),
	NO("refuses a .. component", "/srv/../etc", ". or .."),
	NO("refuses a trailing ..", "/srv/..", ". or .."),
	NO("refuses a space", "/srv/my backups", "may hold only"),
	NO("refuses a colon (passwd's separator)", "/srv/a:b", "may hold only"),
	NO("refuses a newline", "/srv/a\nb", "may hold only"),
};

static const struct row keys[] = {
	OK("accepts an ed25519 key with a comment", ED " me@laptop\n", ED " me@laptop"),
	OK("accepts a key without a comment or newline", ED, ED),
	OK("accepts a comment with spaces", ED " root at laptop\n", ED " root at laptop"),
	OK("accepts CRLF", ED " me\r\n", ED " me"),
	OK("skips blank lines and # comments", "\n# the laptop\n\n" ED " me\n\n", ED " me"),
	OK("trims spaces and tabs around the line", "  \t" ED "\t me \n", ED " me"),
	OK("accepts ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=",
	   "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY="),
	OK("accepts a security key", "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
	   "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t"),
	NO("refuses an empty file", "", "no key"),
	NO("refuses a file of comments", "# nothing\n\n", "no key"),
	NO("refuses two keys", ED " a\n" ED " b\n", "more than one"),
	NO("refuses a private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n"
	   "-----END OPENSSH PRIVATE KEY-----\n", "private key"),
	NO("refuses an RFC 4716 key", "---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n", "RFC 4716"),
	NO("refuses restrict in front", "restrict " ED, "options in front"),
	NO("refuses command= in front", "command=\"/bin/sh\" " ED, "options in front"),
	NO("refuses options with a quoted space", "from=\"a b\",no-pty " ED, "options in front"),
	NO("refuses DSA", "ssh-dss AAAAB3NzaC1kc3MAAACBAP", "DSA"),
	NO("refuses a certificate", "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5",
	   "key type"),
	NO("refuses an unknown type", "ssh-foo AAAAC3NzaC1lZDI1NTE5", "key type"),
	NO("refuses a type alone", "ssh-ed25519\n", "no key"),
	NO("refuses bad base64", "ssh-ed25519 AAAA*BBB", "base64"),
	NO("refuses base64 of a wrong length", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5A", "base64"),
	NO("refuses a short blob", "ssh-ed25519 AAAA", "base64"),
	NO("refuses a control character in the comment", ED " a\033[2Jb", "control character"),
	NO_BYTES("refuses a NUL", ED " a\0b", "control character"),
	NO("refuses DEL", ED " a\x7f", "control character"),
	NO("refuses a bare CR in the line", ED "\r x", "control character"),
};

static void run_name(void **state)
{
	const struct row *r = *state;
	const char *why = account_name_check(r->in);

	if (r->out) {
		assert_null(why);
		return;
	}
	assert_non_null(why);
	assert_non_null(strstr(why, r->why));
}

static void run_base(void **state)
{
	const struct row *r = *state;
	struct strbuf sb = STRBUF_INIT;
	const char *why = base_path_check(r->in, &sb);

	if (r->out) {
		assert_null(why);
		assert_string_equal(sb.buf, r->out);
	} else {
		assert_non_null(why);
		assert_non_null(strstr(why, r->why));
	}
	sb_release(&sb);
}

static void run_key(void **state)
{
	const struct row *r = *state;
	struct strbuf sb = STRBUF_INIT;
	size_t len = r->len ? r->len : strlen(r->in);
	const char *why = pubkey_parse(r->in, len, &sb);

	if (r->out) {
		assert_null(why);
		assert_string_equal(sb.buf, r->out);
	} else {
		assert_non_null(why);
		if (!strstr(why, r->why))
			fail_msg("%s: reason '%s' lacks '%s'", r->name, why, r->why);
	}
	sb_release(&sb);
}

static void refuses_a_file_over_16_kib(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	char *big = xmalloc(HS_KEYFILE_MAX + 1);

	memset(big, '#', HS_KEYFILE_MAX + 1);
	assert_non_null(strstr(pubkey_parse(big, HS_KEYFILE_MAX + 1, &sb), "16 KiB"));
	free(big);
	sb_release(&sb);
}

static void bounds_the_base_at_200_bytes(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	char path[HS_BASE_MAX + 2];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[HS_BASE_MAX] = '\0';
	assert_null(base_path_check(path, &sb));
	assert_int_equal(sb.len, HS_BASE_MAX);
	path[HS_BASE_MAX] = 'a';
	path[HS_BASE_MAX + 1] = '\0';
	assert_non_null(strstr(base_path_check(path, &sb), "longer than 200"));
	sb_release(&sb);
}

static int run_table(const char *group, const struct row *t, size_t n,
		     void (*fn)(void **))
{
	struct CMUnitTest *rows = xcalloc(n, sizeof(*rows));
	int failed;

	for (size_t i = 0; i < n; i++) {
		rows[i].name = t[i].name;
		rows[i].test_func = fn;
		rows[i].initial_state = (void *)&t[i];
	}
	failed = _cmocka_run_group_tests(group, rows, n, NULL, NULL);
	free(rows);
	return failed;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(refuses_a_file_over_16_kib),
		cmocka_unit_test(bounds_the_base_at_200_bytes),
	};
	int failed = 0;

	failed += run_table("account names", names, sizeof(names) / sizeof(names[0]), run_name);
	failed += run_table("backup bases", bases, sizeof(bases) / sizeof(bases[0]), run_base);
	failed += run_table("public key files", keys, sizeof(keys) / sizeof(keys[0]), run_key);
	failed += cmocka_run_group_tests_name("bounds", tests, NULL, NULL);
	return failed ? 1 : 0;
}
