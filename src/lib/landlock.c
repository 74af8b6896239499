#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's headers predate the later ABIs; the values are kernel ABI. */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* The ruleset attribute as of ABI 6; older kernels get a shorter size. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

#define FS_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_EXEC (FS_READ | LANDLOCK_ACCESS_FS_EXECUTE)
#define FS_MAKE (LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | \
		 LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK | \
		 LANDLOCK_ACCESS_FS_MAKE_SYM)
#define FS_REMOVE (LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE)

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

static uint64_t fs_rights(int abi)
{
	uint64_t r = FS_EXEC | LANDLOCK_ACCESS_FS_WRITE_FILE | FS_REMOVE | FS_MAKE;

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/*
 * Allow `rights` (masked to what the ruleset handles) below path. A path
 * that does not exist on this system is skipped: it cannot be reached
 * anyway. Other errors fail the whole ruleset.
 */
static int allow(int ruleset, const char *path, uint64_t rights, uint64_t handled)
{
	struct ll_path_beneath pb;
	int fd = open(path, O_PATH | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT || errno == EACCES ? 0 : -errno;
	pb.allowed_access = rights & handled;
	pb.parent_fd = fd;
	long rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	if (rc < 0 && errno == EINVAL) {
		/* directory rights cannot be granted on a file: keep the file ones */
		pb.allowed_access &= LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
				     LANDLOCK_ACCESS_FS_IOCTL_DEV;
		rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	}
	int e = errno;
	close(fd);
	return rc < 0 ? -e : 0;
}

int landlock_confine(const struct ll_plan *p)
{
	static const char *const exec_paths[] = { "/usr", "/lib", "/lib64", "/bin", "/sbin" };
	static const char *const etc_files[] = {
		"/etc/ld.so.cache", "/etc/ld.so.preload", "/etc/passwd", "/etc/group",
		"/etc/nsswitch.conf", "/etc/localtime",
	};
	/* etc_files[NAMES_FIRST..NAMES_LAST]: only for mapping names (no_names) */
	enum { NAMES_FIRST = 2, NAMES_LAST = 4 };
	struct ll_ruleset_attr attr;
	size_t attr_size;
	int abi = landlock_abi(), rc = 0;

	if (abi <= 0)
		return 0;
	/*
	 * ABI 1 has no REFER right: every link into another directory fails
	 * with EXDEV, so every --link-dest link would become a silent copy.
	 * A push is then left to its argv, as on a kernel without Landlock.
	 */
	if (p->role == LL_PUSH && abi < 2)
		return 0;
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_rights(abi);
	if (p->role == LL_PUSH) {
		/* see landlock.h: a hard link may not gain rights */
		attr.handled_access_fs &= ~(LANDLOCK_ACCESS_FS_WRITE_FILE |
					    LANDLOCK_ACCESS_FS_TRUNCATE);
	}
	attr_size = offsetof(struct ll_ruleset_attr, handled_access_net);
	if (abi >= 4) {
		/* handled and never allowed: no TCP at all */
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
					  LANDLOCK_ACCESS_NET_CONNECT_TCP;
		attr_size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0)
		return -errno;
	uint64_t h = attr.handled_access_fs;
	for (size_t i = 0; !rc && i < sizeof(exec_paths) / sizeof(exec_paths[0]); i++)
		rc = allow(ruleset, exec_paths[i], FS_EXEC, h);
	for (size_t i = 0; !rc && i < sizeof(etc_files) / sizeof(etc_files[0]); i++)
		if (!p->no_names || i < NAMES_FIRST || i > NAMES_LAST)
			rc = allow(ruleset, etc_files[i], LANDLOCK_ACCESS_FS_READ_FILE, h);
	if (!rc && p->exec)
		rc = allow(ruleset, p->exec, FS_EXEC, h);
	if (!rc)
		rc = allow(ruleset, "/dev/null", LANDLOCK_ACCESS_FS_READ_FILE |
			   LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE, h);
	if (!rc && p->role == LL_PUSH) {
		/* read (and link from) the whole root: snapshots, resume bases */
		rc = allow(ruleset, p->root, FS_READ | LANDLOCK_ACCESS_FS_REFER, h);
		if (!rc && p->recv)
			rc = allow(ruleset, p->recv, FS_READ | FS_MAKE | FS_REMOVE |
				   LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_WRITE_FILE |
				   LANDLOCK_ACCESS_FS_TRUNCATE, h);
		if (!rc && p->recv && p->tmp)
			rc = allow(ruleset, p->tmp, FS_READ | FS_MAKE | FS_REMOVE |
				   LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_WRITE_FILE |
				   LANDLOCK_ACCESS_FS_TRUNCATE, h);
	} else if (!rc && p->snapdir) {
		rc = allow(ruleset, p->snapdir, FS_READ, h);
	}
	if (!rc && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		rc = -errno;
	if (!rc && syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		rc = -errno;
	close(ruleset);
	return rc < 0 ? rc : abi;
}
