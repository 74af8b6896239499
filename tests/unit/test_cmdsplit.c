/*
 * split_command() and quote_word()/quote_argv(): how SSH_ORIGINAL_COMMAND
 * becomes words, one table row per case, and the round trip back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdsplit.h"
#include "strbuf.h"
#include "util.h"

#define MAXW 8

struct split_row {
	const char *name;
	const char *cmd;
	int ok;                    /* 1: split succeeds */
	size_t n;                  /* words expected when ok */
	const char *words[MAXW];
	const char *why;           /* substring of the reason when !ok */
};

#define OK(name, cmd, n, ...) { name, cmd, 1, n, { __VA_ARGS__ }, NULL }
#define ERR(name, cmd, why) { name, cmd, 0, 0, { NULL }, why }

static struct split_row split_rows[] = {
	OK("splits plain words on single spaces",
	   "rsync --server -logDtprze.iLsfxCIvu --delete . .", 6,
	   "rsync", "--server", "-logDtprze.iLsfxCIvu", "--delete", ".", "."),
	OK("treats runs of spaces and tabs as one separator",
	   "  a \t\t b   c\t", 3, "a", "b", "c"),
	OK("gives no words for an empty string", "", 0, NULL),
	OK("gives no words for blanks only", " \t  \t", 0, NULL),
	OK("keeps a backslash-escaped space inside the word",
	   "a\\ b c", 2, "a b", "c"),
	OK("keeps an escaped space at the end of a word",
	   "a\\  b", 2, "a ", "b"),
	OK("makes a word of one space from an escaped space alone",
	   "\\ ", 1, " "),
	OK("unescapes double and single quotes",
	   "\\\"a\\' \\'b\\\"", 2, "\"a'", "'b\""),
	OK("treats unescaped quotes as ordinary characters",
	   "'a b' \"c d\"", 4, "'a", "b'", "\"c", "d\""),
	OK("unescapes a backslash",
	   "a\\\\b \\\\", 2, "a\\b", "\\"),
	OK("unescapes star and dollar",
	   "\\*.txt \\$HOME \\$\\(id\\)", 3, "*.txt", "$HOME", "$(id)"),
	OK("treats unescaped shell characters as ordinary",
	   "$(id);x `id` a|b&c *", 4, "$(id);x", "`id`", "a|b&c", "*"),
	OK("takes an escaped ordinary letter as the letter",
	   "\\a\\b\\c", 1, "abc"),
	OK("undoes rsync's escaping of a leading tilde in the destination",
	   "rsync --server -re.iLsfxCIvu . \\~/x", 5,
	   "rsync", "--server", "-re.iLsfxCIvu", ".", "~/x"),
	OK("passes UTF-8 bytes through unchanged",
	   "caf\xc3\xa9 \xe2\x82\xac", 2, "caf\xc3\xa9", "\xe2\x82\xac"),
	OK("unescapes escaped non-ASCII bytes",
	   "\\\xc3\\\xa9", 1, "\xc3\xa9"),
	ERR("refuses a trailing backslash", "a b\\", "trailing backslash"),
	ERR("refuses a lone backslash", "\\", "trailing backslash"),
	ERR("refuses a newline", "rsync --server\n. x", "control character"),
	ERR("refuses an escaped newline", "a\\\nb", "control character"),
	ERR("refuses a trailing newline", "rsync --server . x\n", "control character"),
	ERR("refuses a carriage return", "a\rb", "control character"),
	ERR("refuses an escape character", "a\x1b" "[0m", "control character"),
	ERR("refuses DEL", "a\x7f" "b", "control character"),
	ERR("refuses an escaped tab, which is a control character in a word",
	    "a\\\tb", "control character"),
	ERR("refuses an escaped DEL", "a\\\x7f", "control character"),
};

static void run_split_row(void **state)
{
	const struct split_row *row = *state;
	struct argv out = ARGV_INIT;
	const char *why = NULL;
	int rc = split_command(row->cmd, &out, &why);

	if (!row->ok) {
		assert_int_equal(rc, -1);
		assert_non_null(why);
		assert_non_null(strstr(why, row->why));
		assert_null(strchr(why, '\n'));
		assert_int_equal(out.n, 0);   /* nothing half-split is left behind */
		argv_clear(&out);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(out.n, row->n);
	for (size_t i = 0; i < row->n; i++)
		assert_string_equal(out.v[i], row->words[i]);
	if (out.n)
		assert_null(out.v[out.n]);
	argv_clear(&out);
}

/* A command of n one-letter words: "a a a ...". Caller frees. */
static char *words_cmd(size_t n)
{
	char *s = xmalloc(2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = 'a';
		s[2 * i + 1] = ' ';
	}
	s[n ? 2 * n - 1 : 0] = '\0';
	return s;
}

/* A command of exactly len bytes, in words of at most 200 bytes. Caller frees. */
static char *long_cmd(size_t len)
{
	char *s = xmalloc(len + 1);

	for (size_t i = 0; i < len; i++)
		s[i] = (i % 201 == 200) ? ' ' : 'x';
	s[len] = '\0';
	return s;
}

static void accepts_exactly_the_most_words(void **state)
{
	(void)state;
	char *cmd = words_cmd(HS_ARGS_MAX);
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	assert_int_equal(split_command(cmd, &out, &why), 0);
	assert_int_equal(out.n, HS_ARGS_MAX);
	argv_clear(&out);
	free(cmd);
}

static void refuses_one_word_too_many(void **state)
{
	(void)state;
	char *cmd = words_cmd(HS_ARGS_MAX + 1);
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	assert_int_equal(split_command(cmd, &out, &why), -1);
	assert_non_null(strstr(why, "too many"));
	assert_int_equal(out.n, 0);
	argv_clear(&out);
	free(cmd);
}

static void refuses_one_word_too_many_with_trailing_blank(void **state)
{
	(void)state;
	char *base = words_cmd(HS_ARGS_MAX + 1);
	size_t len = strlen(base);
	char *cmd = xmalloc(len + 2);
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	memcpy(cmd, base, len);
	cmd[len] = ' ';
	cmd[len + 1] = '\0';
	assert_int_equal(split_command(cmd, &out, &why), -1);
	assert_non_null(strstr(why, "too many"));
	argv_clear(&out);
	free(base);
	free(cmd);
}

static void accepts_a_command_of_exactly_the_longest_length(void **state)
{
	(void)state;
	char *cmd = long_cmd(HS_CMD_MAX);
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	assert_int_equal(split_command(cmd, &out, &why), 0);
	assert_true(out.n > 0 && out.n <= HS_ARGS_MAX);
	argv_clear(&out);
	free(cmd);
}

static void refuses_a_command_one_byte_too_long(void **state)
{
	(void)state;
	char *cmd = long_cmd(HS_CMD_MAX + 1);
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	assert_int_equal(split_command(cmd, &out, &why), -1);
	assert_non_null(strstr(why, "too long"));
	assert_int_equal(out.n, 0);
	argv_clear(&out);
	free(cmd);
}

/* Words that a shell would mangle; each must survive quote then split. */
static const char *const awkward[] = {
	"plain",
	"with space",
	"two  spaces",
	" leading and trailing ",
	"\"double\"",
	"'single'",
	"a;b",
	"$(x)",
	"`id`",
	"${HOME}",
	"back\\slash",
	"trailing\\",
	"\\",
	"\\\\",
	"*",
	"?[a-z]",
	"~/x",
	"~root",
	"-rf",
	"--link-dest=/x",
	"#not a comment",
	"a|b&c<d>e",
	"!event",
	"%i %b %l",
	"caf\xc3\xa9",
	"\xe2\x82\xac\xf0\x9f\x92\xbe",
	"\xff\xfe not UTF-8",
	"=",
};

#define N_AWKWARD (sizeof(awkward) / sizeof(awkward[0]))

static void round_trips_each_awkward_word_alone(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_AWKWARD; i++) {
		struct strbuf sb = STRBUF_INIT;
		struct argv out = ARGV_INIT;
		const char *why = NULL;

		quote_word(&sb, awkward[i]);
		if (split_command(sb.buf, &out, &why) != 0 || out.n != 1 ||
		    strcmp(out.v[0], awkward[i]))
			fail_msg("word %zu (%s) did not survive quoting as %s", i,
				 awkward[i], sb.buf);
		argv_clear(&out);
		sb_release(&sb);
	}
}

static void round_trips_all_awkward_words_as_one_command(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	struct argv out = ARGV_INIT;
	const char *why = NULL;

	quote_argv(&sb, (char *const *)awkward, N_AWKWARD);
	assert_int_equal(split_command(sb.buf, &out, &why), 0);
	assert_int_equal(out.n, N_AWKWARD);
	for (size_t i = 0; i < N_AWKWARD; i++)
		assert_string_equal(out.v[i], awkward[i]);
	argv_clear(&out);
	sb_release(&sb);
}

static void quoting_leaves_safe_words_alone(void **state)
{
	(void)state;
	static const char *const safe[] = {
		"rsync", "--server", "-logDtprze.iLsfxCIvu", "--log-format=%i",
		"/srv/backup/inprogress/sub/dir", "user@host:", "a+b,c",
	};
	for (size_t i = 0; i < sizeof(safe) / sizeof(safe[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		quote_word(&sb, safe[i]);
		assert_string_equal(sb.buf, safe[i]);
		sb_release(&sb);
	}
}

static void quoting_escapes_each_special_character_once(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;

	quote_word(&sb, "a b;$\\");
	assert_string_equal(sb.buf, "a\\ b\\;\\$\\\\");
	sb_release(&sb);
}

static void quoting_joins_words_with_single_spaces(void **state)
{
	(void)state;
	static const char *const w[] = { "rsync", "a b", "--" };
	struct strbuf sb = STRBUF_INIT;

	quote_argv(&sb, (char *const *)w, 3);
	assert_string_equal(sb.buf, "rsync a\\ b --");
	sb_reset(&sb);
	quote_argv(&sb, (char *const *)w, 0);
	assert_string_equal(sb.buf, "");
	sb_release(&sb);
}

int main(void)
{
	size_t nrows = sizeof(split_rows) / sizeof(split_rows[0]);
	struct CMUnitTest *rows = xcalloc(nrows, sizeof(*rows));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_exactly_the_most_words),
		cmocka_unit_test(refuses_one_word_too_many),
		cmocka_unit_test(refuses_one_word_too_many_with_trailing_blank),
		cmocka_unit_test(accepts_a_command_of_exactly_the_longest_length),
		cmocka_unit_test(refuses_a_command_one_byte_too_long),
		cmocka_unit_test(round_trips_each_awkward_word_alone),
		cmocka_unit_test(round_trips_all_awkward_words_as_one_command),
		cmocka_unit_test(quoting_leaves_safe_words_alone),
		cmocka_unit_test(quoting_escapes_each_special_character_once),
		cmocka_unit_test(quoting_joins_words_with_single_spaces),
	};
	int failed;

	for (size_t i = 0; i < nrows; i++) {
		rows[i].name = split_rows[i].name;
		rows[i].test_func = run_split_row;
		rows[i].initial_state = &split_rows[i];
	}
	failed = _cmocka_run_group_tests("split_command table", rows, nrows, NULL, NULL);
	failed += cmocka_run_group_tests_name("split_command limits and quoting",
					      tests, NULL, NULL);
	free(rows);
	return failed ? 1 : 0;
}
