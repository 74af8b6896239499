/*
 * bench/unlink-list: the unlink ceiling for bench/delete.sh.
 *
 *   unlink-list DIR LIST
 *
 * LIST names paths below DIR, one a line; a name ending in '/' is a
 * directory. The list is read whole first, then each path is removed with
 * one unlinkat() (AT_REMOVEDIR for directories), in list order and nothing
 * else: no listing, no stat, no sorting. Its time is what the unlinks
 * alone cost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[1 << 16];
	int dirfd, failed = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: unlink-list DIR LIST\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !(f = fopen(argv[2], "r"))) {
		perror("unlink-list");
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			char *bigger = realloc(buf, cap = (len + n + 1) * 2);
			if (!bigger) {
				perror("unlink-list");
				free(buf);
				return 1;
			}
			buf = bigger;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!buf)
		return 0;
	buf[len] = '\0';
	for (char *p = buf, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		int dir = nl > p && nl[-1] == '/';
		char end = *nl;
		*nl = '\0';
		if (unlinkat(dirfd, p, dir ? AT_REMOVEDIR : 0) < 0 && !failed++)
			fprintf(stderr, "unlink-list: %s: %s\n", p, strerror(errno));
		if (!end)
			break;
	}
	free(buf);
	return failed ? 1 : 0;
}
