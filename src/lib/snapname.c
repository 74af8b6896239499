#include "snapname.h"

#include <stdio.h>
#include <string.h>

int snapname_format(time_t t, char out[SNAPNAME_SIZE])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
		return -1;
	int n = snprintf(out, SNAPNAME_SIZE, "%04d_%02d_%02d_%02d_%02d_%02d",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n == SNAPNAME_LEN ? 0 : -1;
}

int snapname_parse(const char *s, time_t *t)
{
	static const char shape[] = "dddd_dd_dd_dd_dd_dd";
	int v[6] = { 0 }, k = 0;
	struct tm tm;

	if (strlen(s) != SNAPNAME_LEN)
		return -1;
	for (size_t i = 0; i < SNAPNAME_LEN; i++) {
		if (shape[i] == '_') {
			if (s[i] != '_')
				return -1;
			k++;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v[k] = v[k] * 10 + (s[i] - '0');
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 59)
		return -1;
	time_t when = timegm(&tm);
	char back[SNAPNAME_SIZE];
	/* timegm normalises 30 February into March: reject what does not round-trip */
	if (when == (time_t)-1 || snapname_format(when, back) < 0 || strcmp(back, s))
		return -1;
	if (t)
		*t = when;
	return 0;
}

void format_iso_utc(time_t t, char out[32])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}
