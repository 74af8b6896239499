#!/usr/bin/env python3
"""bench/perfcat.py SYM.TXT...: the share of a perf profile's samples by
kind of work, from `perf report --no-children --sort sym -g none --stdio`
output (bench/options.sh's perf stage writes it as perf/VARIANT.sym.txt).
Kernel symbols are sorted into categories by the regular expressions
below, the first that matches; user-space symbols ([.]) count as one.
Prints one Markdown table, a column per file.
"""
import collections
import os
import re
import sys

CATEGORIES = [
    ("Landlock", r"landlock|^hook_|is_access_to_paths_allowed|collect_domain|unmask_|"
     r"find_rule|check_access_path"),
    ("path lookup", r"lookup|path_|walk|d_hash|dput|dget|mntput|mntget|legitimize|"
     r"complete_walk|may_open|inode_permission|generic_permission|step_into|d_alloc|"
     r"terminate_walk|nd_|getname|strncpy_from_user|__d_|follow|"
     r"security_inode_permission|make_vfsuid|filename|lockref|set_root|__rcu_read"),
    ("opening and closing files", r"alloc_empty_file|__fput|fput|file_|do_dentry_open|"
     r"kmem_cache|init_file|fd_install|alloc_fd|close_fd|file_close|__get_unused|filp|"
     r"do_sys_open|do_filp_open|task_work|percpu_counter|security_file|memcg_slab|"
     r"check_object_size|check_heap_object|virt_addr_valid|is_vmalloc_addr|__slab|obj_cgroup"),
    ("fstatat", r"statx|getattr|cp_new_stat|vfs_fstat|generic_fillattr|copy_to_user|_copy_to"),
    ("xattrs and ACLs", r"xattr|posix_acl|acl"),
    ("XFS", r"^xfs_"),
    ("system call entry and exit", r"do_syscall|entry_SYSCALL|syscall_exit|__x64_sys|"
     r"syscall_return|exit_to_user|x64_sys_call"),
]
LINE = re.compile(r"\s*([\d.]+)%\s+\[(.)\]\s+(\S+)")


def shares(path):
    tot = collections.Counter()
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            p, kind, sym = float(m.group(1)), m.group(2), m.group(3)
            if kind == ".":
                tot["user space"] += p
                continue
            for name, pat in CATEGORIES:
                if re.search(pat, sym):
                    tot[name] += p
                    break
            else:
                tot["the rest of the kernel"] += p
    return tot


def main():
    files = sys.argv[1:]
    cols = [shares(f) for f in files]
    names = [n for n, _ in CATEGORIES] + ["user space", "the rest of the kernel"]
    print("| | " + " | ".join(os.path.basename(f).split(".")[0] for f in files) + " |")
    print("|---|" + "---|" * len(files))
    for n in names:
        print(f"| {n} | " + " | ".join(f"{c[n]:.1f}%" for c in cols) + " |")


main()
