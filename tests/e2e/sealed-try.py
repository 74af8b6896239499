#!/usr/bin/python3
# tests/e2e/sealed-try.py: every way to change a file, as whoever runs it
# (the tests run it as a sealed account, with setpriv). Never run as root.
#
#   sealed-try.py OP PATH [SCRATCHDIR]   try one operation; print OK or the errno name
#   sealed-try.py all SCRATCHDIR PATH... try every operation on every inode
#                                        below each PATH; print each one that
#                                        was not refused, exit 1 if any
#
# SCRATCHDIR is a directory the caller may write (links are made there).
# Refused means EPERM or EACCES; chmod of a symlink is EOPNOTSUPP on
# Linux for everybody (symlinks have no mode), and counts as refused.
import ctypes
import errno
import os
import stat
import sys

libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, AT_SYMLINK_NOFOLLOW, SYS_fchmodat2 = -100, 0x100, 452
seq = [0]


def scratch_name(d):
    seq[0] += 1
    return os.path.join(d, "try-%d-%d" % (os.getpid(), seq[0]))


def lchmod(p, mode):
    if libc.syscall(SYS_fchmodat2, AT_FDCWD, p.encode(), mode, AT_SYMLINK_NOFOLLOW) < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def write(p, flags):
    fd = os.open(p, flags | os.O_NONBLOCK | os.O_NOFOLLOW)
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)


def link_then(p, d, what):
    q = scratch_name(d)
    os.link(p, q, follow_symlinks=False)
    try:
        what(q)
    finally:
        os.unlink(q)


def ops_for(st, scratch):
    uid, gid = os.getuid(), os.getgid()
    common = {
        "chown": lambda p: os.chown(p, uid, gid, follow_symlinks=False),
        "utime": lambda p: os.utime(p, ns=(0, 0), follow_symlinks=False),
        "touch": lambda p: os.utime(p, None, follow_symlinks=False),
        "setxattr": lambda p: os.setxattr(p, "user.evil", b"1", follow_symlinks=False),
        "set-rsync-stat": lambda p: os.setxattr(p, "user.rsync.%stat", b"104755 0,0 0:0",
                                                follow_symlinks=False),
        "removexattr": lambda p: os.removexattr(p, "user.rsync.%stat", follow_symlinks=False),
        "rename": lambda p: os.rename(p, p + ".moved"),
        "move-out": lambda p: os.rename(p, scratch_name(scratch)),
    }
    if stat.S_ISLNK(st.st_mode):
        common["chmod"] = lambda p: lchmod(p, 0o777)
    else:
        common["chmod"] = lambda p: os.chmod(p, 0o4777)
    if stat.S_ISDIR(st.st_mode):
        common.update({
            "rmdir": os.rmdir,
            "create": lambda p: os.close(os.open(p + "/new", os.O_CREAT | os.O_WRONLY | os.O_EXCL)),
            "mkdir": lambda p: os.mkdir(p + "/new"),
            "symlink-in": lambda p: os.symlink("x", p + "/new"),
            "mkfifo-in": lambda p: os.mkfifo(p + "/new"),
            "link-in": lambda p: os.link(own_file(scratch), p + "/new"),
        })
    else:
        common["unlink"] = os.unlink
        common["link-then-chown"] = lambda p: link_then(
            p, scratch, lambda q: os.chown(q, uid, gid, follow_symlinks=False))
        common["link-then-setxattr"] = lambda p: link_then(
            p, scratch, lambda q: os.setxattr(q, "user.rsync.%stat", b"104755 0,0 0:0",
                                              follow_symlinks=False))
    if stat.S_ISREG(st.st_mode):
        common.update({
            "write": lambda p: write(p, os.O_WRONLY),
            "append": lambda p: write(p, os.O_WRONLY | os.O_APPEND),
            "truncate": lambda p: os.truncate(p, 0),
            "link-then-write": lambda p: link_then(p, scratch, lambda q: write(q, os.O_WRONLY)),
            "link-then-chmod": lambda p: link_then(p, scratch, lambda q: os.chmod(q, 0o666)),
        })
    return common


_own = []


def own_file(scratch):
    if not _own:
        p = scratch_name(scratch)
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
        _own.append(p)
    return _own[0]


def attempt(fn, p):
    try:
        fn(p)
        return "OK"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def refused(op, st, result):
    if result in ("EPERM", "EACCES"):
        return True
    return op == "chmod" and stat.S_ISLNK(st.st_mode) and result == "EOPNOTSUPP"


def main():
    if os.getuid() == 0:
        sys.exit("sealed-try.py: not as root")
    if sys.argv[1] == "all":
        scratch, bad, n = sys.argv[2], 0, 0
        for top in sys.argv[3:]:
            for d, dirs, files in os.walk(top):
                for p in [d] + [os.path.join(d, f) for f in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]]:
                    st = os.lstat(p)
                    for op, fn in sorted(ops_for(st, scratch).items()):
                        r = attempt(fn, p)
                        n += 1
                        if not refused(op, st, r):
                            print("%s %s: %s" % (op, p, r))
                            bad += 1
        for p in _own:
            os.unlink(p)
        print("%d attempts, %d not refused" % (n, bad))
        sys.exit(1 if bad else 0)
    op, p = sys.argv[1], sys.argv[2]
    scratch = sys.argv[3] if len(sys.argv) > 3 else "/nonexistent"
    st = os.lstat(p)
    fn = ops_for(st, scratch).get(op)
    if not fn:
        sys.exit("sealed-try.py: no operation %s for %s" % (op, p))
    r = attempt(fn, p)
    for q in _own:
        os.unlink(q)
    print(r if r == "OK" or not refused(op, st, r) else r)


main()
