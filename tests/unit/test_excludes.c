/*
 * What a backup leaves out: the default rules (for a home where rsync's
 * patterns already cover it and one where they do not, with swap files
 * from /proc/swaps), patterns for literal paths, and the CACHEDIR.TAG
 * search on a real tree made here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "excludes.h"
#include "fsops.h"
#include "strbuf.h"
#include "util.h"

static char *joined(const struct argv *a, size_t from)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = from; i < a->n; i++)
		sb_addf(&sb, "%s\n", a->v[i]);
	return sb_detach(&sb);
}

#define FIXED \
	"- /proc/*\n- /sys/*\n- /dev/*\n- /run/*\n- /tmp/*\n- /var/tmp/*\n- /var/cache/*\n" \
	"- /swapfile\n- /swap.img\n- /home/*/.cache/\n- /root/.cache/\n" \
	"- /home/*/.local/share/Trash/\n- /root/.local/share/Trash/\n- .Trash-[0-9]*/\n"

static void defaults_for_a_home_under_home(void **state)
{
	(void)state;
	struct argv rules = ARGV_INIT;

	default_excludes("/home/me", NULL, &rules);
	char *got = joined(&rules, 0);
	assert_string_equal(got, FIXED);
	free(got);
	argv_clear(&rules);
	default_excludes("/root", "", &rules);
	got = joined(&rules, 0);
	assert_string_equal(got, FIXED);
	free(got);
	argv_clear(&rules);
}

static void defaults_for_a_home_elsewhere(void **state)
{
	(void)state;
	struct argv rules = ARGV_INIT;

	default_excludes("/srv/users/a*b", NULL, &rules);
	char *got = joined(&rules, 14);
	assert_string_equal(got, "- /srv/users/a\\*b/.cache/\n- /srv/users/a\\*b/.local/share/Trash/\n");
	free(got);
	argv_clear(&rules);
}

static void swap_files_from_proc_swaps(void **state)
{
	(void)state;
	struct argv rules = ARGV_INIT;
	const char *swaps =
		"Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
		"/dev/dm-1                               partition\t8388604\t\t0\t\t-2\n"
		"/var/swap/big file                      file\t\t1048572\t\t0\t\t-3\n"
		"/var/swap/big\\040file2                  file\t\t1048572\t\t0\t\t-4\n"
		"/swapfile                               file\t\t1048572\t\t0\t\t-5\n"
		"/zram0 zram 1 0 100\n";

	default_excludes("/home/me", swaps, &rules);
	char *got = joined(&rules, 14);
	assert_string_equal(got, "- /var/swap/big\n- /var/swap/big file2\n");
	free(got);
	argv_clear(&rules);
}

static void patterns_for_literal_paths(void **state)
{
	(void)state;
	static const char *const rows[][2] = {
		{ "/home/me/plain dir", "/home/me/plain dir" },
		{ "/home/me/back\\slash", "/home/me/back\\slash" },   /* no wildcard: literal */
		{ "/x/a*b", "/x/a\\*b" },
		{ "/x/[abc]?", "/x/\\[abc]\\?" },
		{ "/x/a*b\\c", "/x/a\\*b\\\\c" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		filter_pattern(&sb, rows[i][0]);
		assert_string_equal(sb.buf, rows[i][1]);
		sb_release(&sb);
	}
}

static void excluded_by_rules(void **state)
{
	(void)state;
	struct argv rules = ARGV_INIT;

	default_excludes("/home/me", NULL, &rules);
	assert_true(excluded_by(&rules, "/proc/1"));
	assert_false(excluded_by(&rules, "/proc"));         /* the directory stays */
	assert_true(excluded_by(&rules, "/home/me/.cache"));
	assert_false(excluded_by(&rules, "/home/me/.cache2"));
	assert_false(excluded_by(&rules, "/home/me/src/.cache"));
	assert_true(excluded_by(&rules, "/mnt/usb/.Trash-1000"));
	assert_false(excluded_by(&rules, "/var/cache"));
	assert_true(excluded_by(&rules, "/var/cache/apt"));
	argv_clear(&rules);
}

static char *scratch(void)
{
	char tmpl[] = "/tmp/hs-test-excludes.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return xstrdup(d);
}

static void mkfile(const char *root, const char *rel, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f;

	sb_addf(&sb, "%s/%s", root, rel);
	for (char *p = sb.buf + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(sb.buf, 0700);
		*p = '/';
	}
	if (text) {
		f = fopen(sb.buf, "w");
		assert_non_null(f);
		fputs(text, f);
		fclose(f);
	} else {
		mkdir(sb.buf, 0700);
	}
	sb_release(&sb);
}

#define TAG CACHEDIR_SIGNATURE "\n# This file is a cache directory tag.\n"

static void cachedir_tags_on_a_real_tree(void **state)
{
	(void)state;
	char *root = scratch();
	struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
	struct argv rules = ARGV_INIT, skip = ARGV_INIT;
	char *sources[2];

	mkfile(root, "src/a/keep.txt", "x");
	mkfile(root, "src/build/CACHEDIR.TAG", TAG);
	mkfile(root, "src/build/inner/CACHEDIR.TAG", TAG);   /* inside a tagged one: not searched */
	mkfile(root, "src/deep/er/still/target/CACHEDIR.TAG", CACHEDIR_SIGNATURE);
	mkfile(root, "src/fake/CACHEDIR.TAG", "Signature: 0000000000000000000000000000000");
	mkfile(root, "src/short/CACHEDIR.TAG", "Signature: 8a477f");
	mkfile(root, "src/dirtag/CACHEDIR.TAG/", NULL);      /* a directory named like the tag */
	mkfile(root, "src/linked/x", "x");
	mkfile(root, "elsewhere/CACHEDIR.TAG", TAG);
	sb_addf(&sb, "%s/elsewhere", root);
	struct strbuf link = STRBUF_INIT;
	sb_addf(&link, "%s/src/linked/CACHEDIR.TAG", root);
	assert_int_equal(symlink("../../elsewhere/CACHEDIR.TAG", link.buf), 0);   /* not followed */
	sb_reset(&link);
	sb_addf(&link, "%s/src/via-symlink", root);
	assert_int_equal(symlink(sb.buf, link.buf), 0);      /* a symlinked dir is not walked */
	mkfile(root, "src/skipped/c/CACHEDIR.TAG", TAG);
	mkfile(root, "tagged-source/CACHEDIR.TAG", TAG);

	sb_reset(&sb);
	sb_addf(&sb, "- %s/src/skipped/*", root);
	argv_push(&skip, sb.buf);
	sb_reset(&sb);
	sb_addf(&sb, "%s/src/", root);
	sources[0] = xstrdup(sb.buf);
	sb_reset(&sb);
	sb_addf(&sb, "%s/tagged-source", root);
	sources[1] = xstrdup(sb.buf);
	size_t found = cachedir_excludes(sources, 2, &skip, &rules);
	assert_int_equal(found, 3);
	/* readdir order is the filesystem's: compare as a set */
	char *got = joined(&rules, 0);
	sb_addf(&want, "- %s/src/build/\n", root);
	assert_non_null(strstr(got, want.buf));
	sb_reset(&want);
	sb_addf(&want, "- %s/src/deep/er/still/target/\n", root);
	assert_non_null(strstr(got, want.buf));
	sb_reset(&want);
	sb_addf(&want, "- %s/tagged-source/\n", root);
	assert_non_null(strstr(got, want.buf));
	free(got);
	free(sources[0]);
	free(sources[1]);
	remove_tree_at(AT_FDCWD, root);
	free(root);
	argv_clear(&rules);
	argv_clear(&skip);
	sb_release(&sb);
	sb_release(&want);
	sb_release(&link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_for_a_home_under_home),
		cmocka_unit_test(defaults_for_a_home_elsewhere),
		cmocka_unit_test(swap_files_from_proc_swaps),
		cmocka_unit_test(patterns_for_literal_paths),
		cmocka_unit_test(excluded_by_rules),
		cmocka_unit_test(cachedir_tags_on_a_real_tree),
	};
	return cmocka_run_group_tests_name("excludes", tests, NULL, NULL);
}
