/*
 * bench/gentree: the deterministic source tree for bench/push.sh.
 *
 *   gentree [--files N] [--dirs D] [--bytes B] [--seed S] create DIR
 *   gentree [same options] state 0|1 DIR
 *
 * create makes DIR (which must not exist) holding N files (100000) in D
 * directories (5000) with B bytes (2 GiB) of pseudo-random data in all.
 * The directories form GROUPS top-level subtrees g0..g9 of about a tenth
 * of the files each (restore takes one as its "10k-file subtree"), nested
 * up to 8 deep. A file's directory is drawn with Pareto weights (a few
 * directories hold many files, most hold few) and its size from a
 * log-normal distribution (median about 4 KiB at 2 GiB per 100k files,
 * sigma 1.8, a few files of several MiB), the sizes then scaled so that
 * they add up to B. Every name, size, byte and time is a function of S
 * and of the file's number, so the same options give the same tree on
 * any machine, and the data does not compress.
 *
 * state 1 applies the change set: 1% of the files, 80% of them modified
 * (new data, same size, a new mtime, a new inode), 10% deleted and for
 * 10% a new file added beside them. state 0 undoes it exactly (data,
 * mtime, no extra files). Both end by setting every directory's mtime, so
 * that a tree brought back to state 0 is the tree create made, down to
 * the times rsync -a compares. Because changed files get new inodes, the
 * change set can also be applied to a `cp -al` copy of a snapshot, as a
 * push would leave it. A source tree is never hard-linked: rsync -H would
 * track every file with a link count above one.
 *
 * The summary (files, directories, bytes, the changed files) goes to
 * standard output.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GROUPS 10
#define MAX_DEPTH 8
#define BASE_TIME 1767225600      /* 2026-01-01T00:00:00Z */
#define CHANGE_PERMILLE 10        /* 1% */
#define CHUNK (1 << 20)

struct dir {
	long parent;      /* -1 for a group's top */
	int depth;
	char *path;       /* relative to DIR */
};

static struct dir *dirs;
static long ndirs, nfiles;
static long *file_dir;
static uint64_t *file_size;
static uint64_t seed = 1;
static unsigned char *chunk;

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A value that depends only on the seed and the three numbers. */
static uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t x = seed ^ (a * 0x9e3779b97f4a7c15ULL);
	splitmix(&x);
	x ^= b * 0xc2b2ae3d27d4eb4fULL;
	splitmix(&x);
	x ^= c;
	return splitmix(&x);
}

static double uniform(uint64_t *x)
{
	return ((splitmix(x) >> 11) + 0.5) / 9007199254740992.0;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		perror("gentree");
		exit(1);
	}
	return p;
}

static void die(const char *what, const char *path)
{
	fprintf(stderr, "gentree: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

/* The layout: directories, each file's directory and size. No I/O. */
static void plan(uint64_t bytes)
{
	uint64_t x = seed;
	double *weight, *cum, total = 0, sum = 0, *raw;

	dirs = xcalloc(ndirs, sizeof(*dirs));
	for (long i = 0; i < ndirs; i++) {
		char name[32];
		long parent = -1;
		if (i >= GROUPS) {
			/* an earlier directory of the same group, not too deep */
			do
				parent = (long)(splitmix(&x) % (uint64_t)(i / GROUPS)) * GROUPS + i % GROUPS;
			while (dirs[parent].depth >= MAX_DEPTH);
		}
		dirs[i].parent = parent;
		dirs[i].depth = parent < 0 ? 1 : dirs[parent].depth + 1;
		if (parent < 0)
			snprintf(name, sizeof(name), "g%ld", i);
		else
			snprintf(name, sizeof(name), "d%05ld", i);
		size_t len = (parent < 0 ? 0 : strlen(dirs[parent].path) + 1) + strlen(name) + 1;
		dirs[i].path = xcalloc(len, 1);
		snprintf(dirs[i].path, len, "%s%s%s", parent < 0 ? "" : dirs[parent].path,
			 parent < 0 ? "" : "/", name);
	}

	weight = xcalloc(ndirs, sizeof(double));
	cum = xcalloc(ndirs, sizeof(double));
	for (long i = 0; i < ndirs; i++) {
		weight[i] = pow(uniform(&x), -1 / 1.2);     /* Pareto, alpha 1.2 */
		if (weight[i] > 200)
			weight[i] = 200;
		total += weight[i];
		cum[i] = total;
	}
	file_dir = xcalloc(nfiles, sizeof(long));
	file_size = xcalloc(nfiles, sizeof(uint64_t));
	raw = xcalloc(nfiles, sizeof(double));
	for (long f = 0; f < nfiles; f++) {
		double u = uniform(&x) * total;
		long lo = 0, hi = ndirs - 1;
		while (lo < hi) {
			long mid = (lo + hi) / 2;
			if (cum[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		file_dir[f] = lo;
		/* log-normal by Box-Muller, capped at 8 sigma */
		double z = sqrt(-2 * log(uniform(&x))) * cos(2 * M_PI * uniform(&x));
		if (z > 8)
			z = 8;
		raw[f] = exp(1.8 * z);
		sum += raw[f];
	}
	for (long f = 0; f < nfiles; f++)
		file_size[f] = sum > 0 ? (uint64_t)(raw[f] * ((double)bytes / sum)) : 0;
	free(raw);
	free(weight);
	free(cum);
}

static const char *const exts[] = { "txt", "c", "jpg", "conf", "pdf", "h", "png", "odt" };

static void file_path(long f, int added, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s%06ld.%s", dirs[file_dir[f]].path, added ? "n" : "f", f,
		 exts[hash3(f, 7, 0) % 8]);
}

/* 0 unchanged, 1 modified, 2 deleted, 3 a new file beside it */
static int change_of(long f)
{
	uint64_t h = hash3(f, 1, 0);
	if (h % 1000 >= CHANGE_PERMILLE)
		return 0;
	h = (h / 1000) % 10;
	return h == 0 ? 2 : h == 1 ? 3 : 1;
}

/*
 * Write file f's data of that version and set its mtime. A file that
 * changes gets a new inode (written aside, then renamed over the old
 * name), as rsync makes it: so the change set can be applied to a
 * `cp -al` copy of a snapshot without writing through into the original.
 */
static void write_file(int rootfd, long f, int version, int added, int replace)
{
	char path[4096], tmp[4200];
	uint64_t x = hash3(f, 2, (uint64_t)version * 2 + (uint64_t)added);
	uint64_t left = added ? 1000 + hash3(f, 3, 0) % 20000 : file_size[f];
	int fd;

	file_path(f, added, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s%s", path, replace ? ".gentree-tmp" : "");
	fd = openat(rootfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		die("cannot create", tmp);
	while (left > 0) {
		size_t n = left < CHUNK ? (size_t)left : CHUNK;
		for (size_t i = 0; i < n; i += 8) {
			uint64_t v = splitmix(&x);
			memcpy(chunk + i, &v, 8);
		}
		if (write(fd, chunk, n) != (ssize_t)n)
			die("cannot write", path);
		left -= n;
	}
	struct timespec ts[2] = {
		{ BASE_TIME + f, 0 },
		{ BASE_TIME + f + (version ? 10000000 : 0) + (added ? 20000000 : 0), 0 },
	};
	if (futimens(fd, ts) < 0 || close(fd) < 0)
		die("cannot finish", tmp);
	if (replace && renameat(rootfd, tmp, rootfd, path) < 0)
		die("cannot rename", tmp);
}

static void unlink_file(int rootfd, long f, int added)
{
	char path[4096];
	file_path(f, added, path, sizeof(path));
	if (unlinkat(rootfd, path, 0) < 0 && errno != ENOENT)
		die("cannot remove", path);
}

static void set_dir_times(int rootfd)
{
	struct timespec ts[2] = { { BASE_TIME, 0 }, { BASE_TIME, 0 } };
	for (long i = 0; i < ndirs; i++)
		if (utimensat(rootfd, dirs[i].path, ts, AT_SYMLINK_NOFOLLOW) < 0)
			die("cannot set the times of", dirs[i].path);
	if (futimens(rootfd, ts) < 0)
		die("cannot set the times of", ".");
}

static long to_state(int rootfd, int state)
{
	long n = 0;
	for (long f = 0; f < nfiles; f++) {
		switch (change_of(f)) {
		case 0:
			continue;
		case 1:
			write_file(rootfd, f, state, 0, 1);
			break;
		case 2:
			if (state)
				unlink_file(rootfd, f, 0);
			else
				write_file(rootfd, f, 0, 0, 1);
			break;
		case 3:
			if (state)
				write_file(rootfd, f, 0, 1, 1);
			else
				unlink_file(rootfd, f, 1);
			break;
		}
		n++;
	}
	set_dir_times(rootfd);
	return n;
}

static void usage(void)
{
	fputs("usage: gentree [--files N] [--dirs D] [--bytes B] [--seed S] create DIR\n"
	      "       gentree [--files N] [--dirs D] [--bytes B] [--seed S] state 0|1 DIR\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t bytes = 2ULL << 30;
	int i, rootfd;
	const char *verb, *dir;
	int state = 0;

	nfiles = 100000;
	ndirs = 5000;
	for (i = 1; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		char *end;
		unsigned long long v = strtoull(argv[i + 1], &end, 10);
		if (*end)
			usage();
		if (!strcmp(argv[i], "--files"))
			nfiles = (long)v;
		else if (!strcmp(argv[i], "--dirs"))
			ndirs = (long)v;
		else if (!strcmp(argv[i], "--bytes"))
			bytes = v;
		else if (!strcmp(argv[i], "--seed"))
			seed = v;
		else
			usage();
	}
	if (ndirs < GROUPS || nfiles < 1 || argc - i < 2)
		usage();
	verb = argv[i];
	if (!strcmp(verb, "create") && argc - i == 2) {
		dir = argv[i + 1];
	} else if (!strcmp(verb, "state") && argc - i == 3 &&
		   (!strcmp(argv[i + 1], "0") || !strcmp(argv[i + 1], "1"))) {
		state = argv[i + 1][0] - '0';
		dir = argv[i + 2];
	} else {
		usage();
	}
	chunk = xcalloc(CHUNK, 1);
	plan(bytes);

	if (!strcmp(verb, "create")) {
		uint64_t total = 0;
		if (mkdir(dir, 0755) < 0)
			die("cannot create", dir);
		rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			die("cannot open", dir);
		for (long d = 0; d < ndirs; d++)
			if (mkdirat(rootfd, dirs[d].path, 0755) < 0)
				die("cannot create", dirs[d].path);
		for (long f = 0; f < nfiles; f++) {
			write_file(rootfd, f, 0, 0, 0);
			total += file_size[f];
		}
		set_dir_times(rootfd);
		printf("files %ld dirs %ld bytes %llu\n", nfiles, ndirs, (unsigned long long)total);
	} else {
		rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			die("cannot open", dir);
		printf("state %d: %ld files in the change set\n", state, to_state(rootfd, state));
	}
	close(rootfd);
	return 0;
}
