/*
 * The sealer's request and reply lines (sealproto.h), one table row per
 * case: what is accepted with which figures, what is refused and why, and
 * that formatting gives back the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "exitcodes.h"
#include "sealproto.h"

struct req_row {
	const char *name;
	const char *line;
	int ok;
	int publish;
	long long start, end;
	int exit_code;
	long long files, bytes;
	int resumed;
	const char *why;       /* substring of the reason when !ok */
};

static const struct req_row req_rows[] = {
	{ "a bare seal asks to finish and tidy", "seal\n", 1, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "figures ask to publish too", "seal 1795942804 1795942861 0 12 48211 2\n", 1, 1,
	  1795942804, 1795942861, 0, 12, 48211, 2, NULL },
	{ "rsync exit 23 is a push with errors", "seal 5 5 23 0 0 0\n", 1, 1, 5, 5, 23, 0, 0, 0, NULL },
	{ "rsync exit 24 (vanished files) completes", "seal 5 6 24 1 1 0\n", 1, 1, 5, 6, 24, 1, 1, 0, NULL },
	{ "the largest counts", "seal 1 1 0 4611686018427387904 4611686018427387904 1000\n", 1, 1,
	  1, 1, 0, 4611686018427387904LL, 4611686018427387904LL, 1000, NULL },
	{ "no newline is refused", "seal", 0, 0, 0, 0, 0, 0, 0, 0, "not a request" },
	{ "a carriage return is refused", "seal\r\n", 0, 0, 0, 0, 0, 0, 0, 0, "not a request" },
	{ "another verb is refused", "publish\n", 0, 0, 0, 0, 0, 0, 0, 0, "unknown request" },
	{ "a path is refused", "seal /srv/hindsight/x\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "five figures are refused", "seal 1 2 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "seven figures are refused", "seal 1 2 0 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "two spaces are refused", "seal  1 2 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "a leading zero is refused", "seal 01 2 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "a sign is refused", "seal +1 2 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "a negative count is refused", "seal 1 2 0 -1 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "malformed" },
	{ "a start of 0 is refused", "seal 0 2 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "ended before" },
	{ "an end before the start is refused", "seal 3 2 0 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "ended before" },
	{ "rsync exit 1 is refused", "seal 1 2 1 0 0 0\n", 0, 0, 0, 0, 0, 0, 0, 0, "rsync's exit code" },
	{ "a time past year 9999 is refused", "seal 253402300800 253402300800 0 0 0 0\n", 0, 0,
	  0, 0, 0, 0, 0, 0, "malformed" },
	{ "a count past 2^62 is refused", "seal 1 2 0 4611686018427387905 0 0\n", 0, 0, 0, 0, 0,
	  0, 0, 0, "malformed" },
	{ "an overflowing number is refused", "seal 99999999999999999999 2 0 0 0 0\n", 0, 0, 0,
	  0, 0, 0, 0, 0, "malformed" },
	{ "more than 1000 resumes is refused", "seal 1 2 0 0 0 1001\n", 0, 0, 0, 0, 0, 0, 0, 0,
	  "malformed" },
};

static void requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(req_rows) / sizeof(req_rows[0]); i++) {
		const struct req_row *t = &req_rows[i];
		struct seal_request q;
		const char *why = NULL;
		char out[SEAL_REQ_MAX + 1];
		int rc = sealreq_parse(t->line, strlen(t->line), &q, &why);
		print_message("%s\n", t->name);
		if (!t->ok) {
			assert_int_equal(rc, -EINVAL);
			assert_non_null(why);
			assert_non_null(strstr(why, t->why));
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(q.publish, t->publish);
		assert_int_equal(q.m.start, t->start);
		assert_int_equal(q.m.end, t->end);
		assert_int_equal(q.m.rsync_exit, t->exit_code);
		assert_int_equal(q.m.files, t->files);
		assert_int_equal(q.m.bytes, t->bytes);
		assert_int_equal(q.m.resumed, t->resumed);
		assert_int_equal(sealreq_format(&q, out, sizeof(out)), (int)strlen(t->line));
		assert_string_equal(out, t->line);
	}
}

static void a_request_longer_than_the_maximum_is_refused(void **state)
{
	char line[SEAL_REQ_MAX + 2];
	struct seal_request q;
	const char *why;

	(void)state;
	memset(line, '1', sizeof(line));
	memcpy(line, "seal ", 5);
	line[sizeof(line) - 1] = '\n';
	assert_int_equal(sealreq_parse(line, sizeof(line), &q, &why), -EINVAL);
}

struct reply_row {
	const char *name;
	const char *line;
	int ok;
	int code;
	const char *name_or_msg;
};

static const struct reply_row reply_rows[] = {
	{ "ok", "ok\n", 1, 0, "" },
	{ "ok with the snapshot published", "ok 2026_11_29_09_00_04\n", 1, 0, "2026_11_29_09_00_04" },
	{ "a refusal", "error 12 refused: no account has this uid\n", 1, 12,
	  "refused: no account has this uid" },
	{ "locked", "error 11 another push holds the lock\n", 1, 11, "another push holds the lock" },
	{ "out of space", "error 14 full\n", 1, 14, "full" },
	{ "ok with a name that is not a snapshot", "ok 2026_13_29_09_00_04\n", 0, 0, NULL },
	{ "ok with junk", "ok go\n", 0, 0, NULL },
	{ "an error code the protocol does not use", "error 3 x\n", 0, 0, NULL },
	{ "an error code with a leading zero", "error 012 x\n", 0, 0, NULL },
	{ "an error without a message", "error 12 \n", 0, 0, NULL },
	{ "a control character", "error 12 a\x1b[2J\n", 0, 0, NULL },
	{ "no newline", "ok", 0, 0, NULL },
};

static void replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(reply_rows) / sizeof(reply_rows[0]); i++) {
		const struct reply_row *t = &reply_rows[i];
		struct seal_reply r;
		char out[SEAL_REPLY_MAX + 1];
		int rc = sealreply_parse(t->line, strlen(t->line), &r);
		print_message("%s\n", t->name);
		if (!t->ok) {
			assert_int_equal(rc, -EINVAL);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(r.code, t->code);
		assert_string_equal(r.code ? r.msg : r.name, t->name_or_msg);
		assert_int_equal(sealreply_format(&r, out, sizeof(out)), (int)strlen(t->line));
		assert_string_equal(out, t->line);
	}
}

static void a_message_is_made_printable_and_bounded(void **state)
{
	struct seal_reply r = { .code = HS_EXIT_REFUSED };
	char out[SEAL_REPLY_MAX + 1];

	(void)state;
	memset(r.msg, 'x', SEAL_MSG_MAX);
	r.msg[0] = '\n';
	r.msg[SEAL_MSG_MAX] = '\0';
	int n = sealreply_format(&r, out, sizeof(out));
	assert_true(n > 0 && n <= SEAL_REPLY_MAX);
	assert_int_equal(sealreply_parse(out, (size_t)n, &r), 0);
	assert_int_equal(r.msg[0], '?');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests),
		cmocka_unit_test(a_request_longer_than_the_maximum_is_refused),
		cmocka_unit_test(replies),
		cmocka_unit_test(a_message_is_made_printable_and_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
