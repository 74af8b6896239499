/*
 * bench/deltree: hindsight's deleter on one path, for bench/delete.sh.
 *
 *   deltree [--threads N] [--unsorted] [--count] PATH
 *
 * Calls deltree_at_flags() on PATH and prints what it removed on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deltree.h"

int main(int argc, char **argv)
{
	struct deltree_stats st;
	unsigned flags = 0;
	int threads = 0, i, rc;

	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc - 1)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--unsorted"))
			flags |= DELTREE_UNSORTED;
		else if (!strcmp(argv[i], "--count"))
			flags |= DELTREE_COUNT;
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: deltree [--threads N] [--unsorted] [--count] PATH\n");
		return 2;
	}
	rc = deltree_at_flags(AT_FDCWD, argv[i], threads, flags, &st);
	fprintf(stderr, "deltree: %llu files, %llu dirs, %llu inodes and %llu bytes freed\n",
		st.files, st.dirs, st.inodes_freed, st.bytes_freed);
	if (rc < 0) {
		fprintf(stderr, "deltree: %s: %s\n", argv[i], strerror(-rc));
		return 1;
	}
	return 0;
}
