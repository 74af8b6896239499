/*
 * How long ago, for people: "45s", "12m", "5h 3m", "3d 4h". Negative
 * spans print as 0s. Pure.
 */
#ifndef HS_AGE_H
#define HS_AGE_H

#include <stddef.h>

void format_age(long long secs, char *out, size_t n);

/* A setting as server.conf would say it: "26h", "7d", "90m", "45s". */
void format_duration(long long secs, char *out, size_t n);

#endif
