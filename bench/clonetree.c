/*
 * bench/clonetree: the fast push's clone (fastpush.h) on one tree, for
 * timing it against cp -al (docs/FASTPUSH.md).
 *
 *   clonetree SRC DST      (DST is made; it must not exist)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastpush.h"

int main(int argc, char **argv)
{
	struct clone_stats st;
	int sfd, dfd, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: clonetree SRC DST\n");
		return 2;
	}
	sfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || mkdir(argv[2], 0700) < 0 ||
	    (dfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		fprintf(stderr, "clonetree: %s\n", strerror(errno));
		return 1;
	}
	rc = clone_tree_fd(sfd, dfd, &st);
	fprintf(stderr, "clonetree: %llu directories, %llu links, %llu kept\n",
		st.dirs, st.links, st.kept);
	if (rc < 0) {
		fprintf(stderr, "clonetree: %s\n", strerror(-rc));
		return 1;
	}
	close(sfd);
	close(dfd);
	return 0;
}
