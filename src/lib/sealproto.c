/*
 * The sealer's request and reply lines: see sealproto.h.
 */
#include "sealproto.h"
#include "exitcodes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_EPOCH 253402300799LL   /* 9999-12-31T23:59:59Z, the last name there is */
#define MAX_COUNT (1LL << 62)
#define MAX_RESUMED 1000

/*
 * A decimal number from *p up to the next space or the end: digits only,
 * no sign, no leading zero, at most 19 digits, at most max.
 */
static int number(const char **p, const char *end, long long max, long long *out)
{
	const char *s = *p;
	long long v = 0;

	if (s == end || *s < '0' || *s > '9')
		return -1;
	if (*s == '0' && s + 1 < end && s[1] != ' ')
		return -1;
	for (int n = 0; s < end && *s != ' '; s++, n++) {
		if (*s < '0' || *s > '9' || n == 19)
			return -1;
		int d = *s - '0';
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	*p = s;
	return 0;
}

int sealreq_format(const struct seal_request *q, char *buf, size_t size)
{
	int n;

	if (!q->publish)
		n = snprintf(buf, size, "seal\n");
	else
		n = snprintf(buf, size, "seal %lld %lld %d %lld %lld %d\n", (long long)q->m.start,
			     (long long)q->m.end, q->m.rsync_exit, q->m.files, q->m.bytes,
			     q->m.resumed);
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int sealreq_parse(const char *buf, size_t len, struct seal_request *q, const char **why)
{
	const char *end = buf + len, *p = buf;
	long long v[6];
	static const long long max[6] = { MAX_EPOCH, MAX_EPOCH, 255, MAX_COUNT, MAX_COUNT,
					  MAX_RESUMED };

	memset(q, 0, sizeof(*q));
	*why = "not a request line";
	if (len == 0 || len > SEAL_REQ_MAX || buf[len - 1] != '\n')
		return -EINVAL;
	end--;
	for (const char *c = buf; c < end; c++)
		if (*c < 0x20 || *c > 0x7e)
			return -EINVAL;
	if (end - p < 4 || memcmp(p, "seal", 4)) {
		*why = "unknown request (the only one is seal)";
		return -EINVAL;
	}
	p += 4;
	if (p == end)
		return 0;
	*why = "malformed figures (seal START END RSYNC_EXIT FILES BYTES RESUMED)";
	for (int i = 0; i < 6; i++) {
		if (p == end || *p != ' ')
			return -EINVAL;
		p++;
		if (number(&p, end, max[i], &v[i]) < 0)
			return -EINVAL;
	}
	if (p != end)
		return -EINVAL;
	if (v[0] == 0 || v[1] < v[0]) {
		*why = "the push ended before it started";
		return -EINVAL;
	}
	if (v[2] != 0 && v[2] != 23 && v[2] != 24) {
		*why = "rsync's exit code is not one that completes a push (0, 23, 24)";
		return -EINVAL;
	}
	q->publish = 1;
	q->m.start = (time_t)v[0];
	q->m.end = (time_t)v[1];
	q->m.rsync_exit = (int)v[2];
	q->m.files = v[3];
	q->m.bytes = v[4];
	q->m.resumed = (int)v[5];
	*why = NULL;
	return 0;
}

static int reply_code_ok(int code)
{
	return code == HS_EXIT_ERROR || code == HS_EXIT_NOTFOUND || code == HS_EXIT_LOCKED ||
	       code == HS_EXIT_REFUSED || code == HS_EXIT_NOSPACE;
}

int sealreply_format(const struct seal_reply *r, char *buf, size_t size)
{
	char msg[SEAL_MSG_MAX + 1];
	size_t i;
	int n;

	if (r->code == 0) {
		n = r->name[0] ? snprintf(buf, size, "ok %.19s\n", r->name) : snprintf(buf, size, "ok\n");
	} else {
		for (i = 0; i < SEAL_MSG_MAX && r->msg[i]; i++)
			msg[i] = r->msg[i] >= 0x20 && r->msg[i] <= 0x7e ? r->msg[i] : '?';
		msg[i] = '\0';
		n = snprintf(buf, size, "error %d %s\n", reply_code_ok(r->code) ? r->code : 1,
			     i ? msg : "failed");
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : n;
}

int sealreply_parse(const char *buf, size_t len, struct seal_reply *r)
{
	const char *end = buf + len;

	memset(r, 0, sizeof(*r));
	if (len == 0 || len > SEAL_REPLY_MAX || buf[len - 1] != '\n')
		return -EINVAL;
	end--;
	for (const char *c = buf; c < end; c++)
		if (*c < 0x20 || *c > 0x7e)
			return -EINVAL;
	if (end - buf == 2 && !memcmp(buf, "ok", 2))
		return 0;
	if (end - buf == 3 + SNAPNAME_LEN && !memcmp(buf, "ok ", 3)) {
		memcpy(r->name, buf + 3, SNAPNAME_LEN);
		r->name[SNAPNAME_LEN] = '\0';
		return snapname_parse(r->name, NULL) == 0 ? 0 : -EINVAL;
	}
	if (end - buf < 9 || memcmp(buf, "error ", 6))
		return -EINVAL;
	const char *p = buf + 6;
	int code = 0;
	if (*p == '0')
		return -EINVAL;
	for (int n = 0; p < end && *p >= '0' && *p <= '9'; p++, n++) {
		if (n == 3)
			return -EINVAL;
		code = code * 10 + (*p - '0');
	}
	if (p == end || *p != ' ' || p + 1 == end || !reply_code_ok(code) ||
	    end - (p + 1) > SEAL_MSG_MAX)
		return -EINVAL;
	r->code = code;
	memcpy(r->msg, p + 1, (size_t)(end - (p + 1)));
	r->msg[end - (p + 1)] = '\0';
	return 0;
}
