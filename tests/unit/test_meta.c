/*
 * Snapshot metadata: the "reconstructed" flag survives a round trip (and
 * is absent otherwise), and the log lines a publish writes give back what
 * check --repair needs to rebuild a lost NAME.json.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

#define NAME "2026_11_29_09_00_03"
#define NAME_T ((time_t)1795942803)

struct row {
	const char *name;
	const char *line;
	int rc;
	time_t end;
	int rsync_exit;
	long long files, bytes;
	int resumed;
};

static const struct row rows[] = {
	{ "a complete publish",
	  "2026-11-29T09:01:00Z published " NAME " status=\"complete\" rsync_exit=0 files=12 "
	  "bytes=48211 resumed=0", 0, NAME_T + 57, 0, 12, 48211, 0 },
	{ "with errors: the status holds a space",
	  "2026-11-29T09:01:00Z published " NAME " status=\"with errors\" rsync_exit=23 files=1 "
	  "bytes=5 resumed=2", 0, NAME_T + 57, 23, 1, 5, 2 },
	{ "another snapshot's line",
	  "2026-11-29T09:01:00Z published 2026_11_29_09_00_04 status=\"complete\" rsync_exit=0 "
	  "files=1 bytes=5 resumed=0", -ENOENT, 0, 0, 0, 0, 0 },
	{ "a prefix of the name is not the name",
	  "2026-11-29T09:01:00Z published 2026_11_29_09_00_0 status=\"complete\" rsync_exit=0 "
	  "files=1 bytes=5 resumed=0", -ENOENT, 0, 0, 0, 0, 0 },
	{ "a push that did not complete",
	  "2026-11-29T09:01:00Z push not completed (rsync exit 12); what arrived is kept", -ENOENT, 0,
	  0, 0, 0, 0 },
	{ "a pin line", "2026-11-29T09:01:00Z " NAME " pinned", -ENOENT, 0, 0, 0, 0, 0 },
	{ "a bad time", "yesterday published " NAME " status=\"complete\" rsync_exit=0 files=1 "
	  "bytes=5 resumed=0", -ENOENT, 0, 0, 0, 0, 0 },
	{ "numbers missing", "2026-11-29T09:01:00Z published " NAME " status=\"complete\"", -ENOENT, 0,
	  0, 0, 0, 0 },
	{ "an empty line", "", -ENOENT, 0, 0, 0, 0, 0 },
};

static void run_row(void **state)
{
	const struct row *r = *state;
	struct snapmeta m;
	int rc = meta_from_log_line(r->line, NAME, &m);

	if (rc != r->rc)
		fail_msg("%s: rc %d, want %d", r->name, rc, r->rc);
	if (rc)
		return;
	assert_string_equal(m.name, NAME);
	assert_int_equal(m.start, NAME_T);
	assert_int_equal(m.end, r->end);
	assert_int_equal(m.rsync_exit, r->rsync_exit);
	assert_int_equal(m.files, r->files);
	assert_int_equal(m.bytes, r->bytes);
	assert_int_equal(m.resumed, r->resumed);
	assert_int_equal(m.reconstructed, 0);
}

static void reconstructed_round_trips(void **state)
{
	struct snapmeta m, back;
	char *json;

	(void)state;
	memset(&m, 0, sizeof(m));
	memcpy(m.name, NAME, sizeof(NAME));
	m.start = m.end = NAME_T;
	json = meta_to_json(&m);
	assert_null(strstr(json, "reconstructed"));
	assert_int_equal(meta_from_json(json, &back), 0);
	assert_int_equal(back.reconstructed, 0);
	free(json);
	m.reconstructed = 1;
	json = meta_to_json(&m);
	assert_non_null(strstr(json, "\"reconstructed\": true"));
	assert_int_equal(meta_from_json(json, &back), 0);
	assert_int_equal(back.reconstructed, 1);
	free(json);
}

int main(void)
{
	enum { N = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[N + 1];
	size_t nt = 0;

	for (size_t i = 0; i < N; i++)
		tests[nt++] = (struct CMUnitTest){ rows[i].name, run_row, NULL, NULL,
						   (void *)&rows[i] };
	tests[nt++] = (struct CMUnitTest)cmocka_unit_test(reconstructed_round_trips);
	return _cmocka_run_group_tests("meta", tests, nt, NULL, NULL);
}
