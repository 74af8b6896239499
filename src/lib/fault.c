/* fault.h: the test build's kill points. Nothing in other builds. */
#include "fault.h"

#ifdef HS_TEST_HOOKS
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fault_point(const char *name)
{
	static atomic_ulong hits;
	const char *want = getenv("HS_TEST_FAULT");
	size_t len = strlen(name);

	if (!want || strncmp(want, name, len) != 0)
		return;
	if (want[len] == '@') {
		unsigned long n = strtoul(want + len + 1, NULL, 10);
		if (atomic_fetch_add(&hits, 1) + 1 != n)
			return;
	} else if (want[len] != '\0') {
		return;
	}
	fprintf(stderr, "hindsight-server: fault: %s, pid %ld\n", name, (long)getpid());
	fflush(stderr);
	raise(SIGKILL);
}
#else
typedef int hs_fault_unused;   /* an ISO C translation unit is never empty */
#endif
