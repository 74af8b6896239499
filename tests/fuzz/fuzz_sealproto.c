/*
 * libFuzzer harness for the sealer's protocol (sealproto.h): the request
 * line is the only thing the root service reads from a caller it does not
 * trust. The same bytes are also tried as a reply, which serve parses.
 *
 * Checked with fail() (print, abort): a parse returns 0 or -EINVAL only; a
 * refused request always has a reason; an accepted one has figures within
 * bounds (end >= start > 0, rsync exit 0, 23 or 24) and formats back to
 * exactly the bytes given (one spelling per request); an accepted reply
 * formats back to the same bytes too, and has a valid snapshot name or an
 * exit code the protocol allows.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sealproto.h"
#include "snapname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 2, 3)))
static void fail(int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_sealproto.c:%d: ", line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void request(const char *buf, size_t size)
{
	struct seal_request q;
	const char *why = NULL;
	char out[SEAL_REQ_MAX + 1];
	int rc = sealreq_parse(buf, size, &q, &why);

	if (rc != 0 && rc != -EINVAL)
		fail(__LINE__, "sealreq_parse returned %d", rc);
	if (rc) {
		if (!why || !*why)
			fail(__LINE__, "a refused request without a reason");
		return;
	}
	if (q.publish && (q.m.start <= 0 || q.m.end < q.m.start || q.m.files < 0 ||
			  q.m.bytes < 0 || q.m.resumed < 0 ||
			  (q.m.rsync_exit != 0 && q.m.rsync_exit != 23 && q.m.rsync_exit != 24)))
		fail(__LINE__, "figures out of bounds accepted");
	int n = sealreq_format(&q, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, buf, size))
		fail(__LINE__, "an accepted request does not format back to itself");
}

static void reply(const char *buf, size_t size)
{
	struct seal_reply r;
	char out[SEAL_REPLY_MAX + 1];
	int rc = sealreply_parse(buf, size, &r);

	if (rc != 0 && rc != -EINVAL)
		fail(__LINE__, "sealreply_parse returned %d", rc);
	if (rc)
		return;
	if (r.code == 0 && r.name[0] && snapname_parse(r.name, NULL) < 0)
		fail(__LINE__, "a reply with a name that is not a snapshot name");
	if (r.code && (r.code == 2 || r.code == 3 || r.code > 14 || !r.msg[0]))
		fail(__LINE__, "a reply with code %d", r.code);
	int n = sealreply_format(&r, out, sizeof(out));
	if (n < 0 || (size_t)n != size || memcmp(out, buf, size))
		fail(__LINE__, "an accepted reply does not format back to itself");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes, so ASan sees any read past the end */
	char *buf = malloc(size ? size : 1);

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	request(buf, size);
	reply(buf, size);
	free(buf);
	return 0;
}
