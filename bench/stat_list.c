/*
 * bench/stat-list: the stat ceiling, beside bench/unlink-list's.
 *
 *   stat-list DIR LIST [ROUNDS]
 *
 * LIST names paths below DIR, one a line (a trailing '/' is ignored). The
 * list is read whole first, then each path gets one fstatat(...,
 * AT_SYMLINK_NOFOLLOW) relative to DIR, in list order, ROUNDS times (1),
 * and nothing else. Its time over the number of calls is what one lstat
 * costs on this machine: the floor under du, diff and versions, which
 * cannot learn an inode's size or times any cheaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[1 << 16];
	int dirfd, failed = 0;
	long rounds = argc == 4 ? atol(argv[3]) : 1;

	if ((argc != 3 && argc != 4) || rounds < 1) {
		fprintf(stderr, "usage: stat-list DIR LIST [ROUNDS]\n");
		return 2;
	}
	dirfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || !(f = fopen(argv[2], "r"))) {
		perror("stat-list");
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			char *bigger = realloc(buf, cap = (len + n + 1) * 2);
			if (!bigger) {
				perror("stat-list");
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
	/* one string per line, once, so the loop below is the calls alone */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || (*p == '/' && (p[1] == '\n' || !p[1])))
			*p = '\0';
	for (long r = 0; r < rounds; r++) {
		for (char *p = buf, *end = buf + len; p < end; p += strlen(p) + 1) {
			struct stat st;
			if (!*p)
				continue;
			if (fstatat(dirfd, p, &st, AT_SYMLINK_NOFOLLOW) < 0 && !failed++)
				fprintf(stderr, "stat-list: %s: %s\n", p, strerror(errno));
		}
	}
	free(buf);
	return failed ? 1 : 0;
}
