/*
 * Its own file: src/client/answer.c still has the twin this replaces, and
 * an archive member is only linked in when something needs it.
 */
#include "age.h"

#include <stdio.h>

void format_age(long long secs, char *out, size_t n)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, n, "%llds", secs);
	else if (secs < 3600)
		snprintf(out, n, "%lldm", secs / 60);
	else if (secs < 86400)
		snprintf(out, n, "%lldh %lldm", secs / 3600, secs % 3600 / 60);
	else
		snprintf(out, n, "%lldd %lldh", secs / 86400, secs % 86400 / 3600);
}

void format_duration(long long secs, char *out, size_t n)
{
	if (secs && secs % 86400 == 0)
		snprintf(out, n, "%lldd", secs / 86400);
	else if (secs && secs % 3600 == 0)
		snprintf(out, n, "%lldh", secs / 3600);
	else if (secs && secs % 60 == 0)
		snprintf(out, n, "%lldm", secs / 60);
	else
		snprintf(out, n, "%llds", secs);
}
