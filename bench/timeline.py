#!/usr/bin/env python3
"""bench/timeline.py DIR: the milestones of one hindsight push, from
bench/options.sh's timeline stage: DIR/CASE.client.txt (the client under
strace -f -ttt: execve, exit_group, wait4, connect) and DIR/CASE.server.txt
(hindsight-server serve under strace -f -ttt: execve, exit_group, wait4,
flock, syncfs, fsync, renameat, statfs, unlinkat, connect). Prints a
Markdown table per case: each milestone in ms after the client started,
and the step from the previous one.
"""
import os
import re
import sys

LINE = re.compile(r"^(\d+) +(\d+\.\d+) (.*)$")


def events(path):
    out = []
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if m:
                out.append((int(m.group(1)), float(m.group(2)), m.group(3)))
    return out


def milestones(client, server):
    ms = []
    t0 = client[0][1]
    top = client[0][0]
    for pid, t, call in client:
        if call.startswith('execve("/usr/bin/rsync"'):
            ms.append((t, "client: rsync started"))
        elif call.startswith("execve(") and "__transport" in call and call.endswith("= 0"):
            ms.append((t, "client: transport started"))
        elif call.startswith('execve("/usr/bin/ssh"') and call.endswith("= 0"):
            ms.append((t, "client: ssh started"))
        elif call.startswith("connect(") and "AF_INET" in call:
            ms.append((t, "client: ssh connected"))
    rsync_pid = None
    after_rsync = False
    for i, (pid, t, call) in enumerate(server):
        if call.startswith("execve(") and "serve" in call and i == 0:
            ms.append((t, "server: serve started (ssh handshake done)"))
        elif call.startswith("execve(") and '"--help"' in call:
            ms.append((t, "server: rsync --help probe started"))
        elif call.startswith("flock(") and "LOCK_NB" in call and not after_rsync:
            ms.append((t, "server: root locked (probe done)"))
        elif call.startswith("execve(") and '"--server"' in call:
            rsync_pid = pid
            ms.append((t, "server: rsync --server started (lock, repair, space check, basis file)"))
        elif rsync_pid and pid == rsync_pid and call.startswith("exit_group("):
            ms.append((t, "server: rsync --server exited (the transfer)"))
            after_rsync = True
        elif after_rsync and call.startswith("syncfs("):
            ms.append((t, "server: syncfs called"))
            nxt = next((e for e in server[i + 1:] if e[0] == pid), None)
            if nxt:
                ms.append((nxt[1], "server: syncfs returned"))
        elif after_rsync and call.startswith("renameat(") and '"current"' in call:
            ms.append((t, "server: current renamed (published; fsyncs of the metadata before)"))
        elif pid == server[0][0] and call.startswith("exit_group("):
            ms.append((t, "server: serve exited (metadata, retention)"))
    end = [t for pid, t, call in client if pid == top and call.startswith("exit_group(")]
    if end:
        ms.append((end[-1], "client: hindsight exited"))
    ms.sort()
    return t0, ms


def main():
    d = sys.argv[1]
    for case in ("full", "none", "1pct"):
        c, s = os.path.join(d, case + ".client.txt"), os.path.join(d, case + ".server.txt")
        if not (os.path.exists(c) and os.path.exists(s)):
            continue
        t0, ms = milestones(events(c), events(s))
        print(f"\n#### {case}\n")
        print("| at (ms) | step (ms) | milestone |")
        print("|---|---|---|")
        prev = t0
        for t, what in ms:
            print(f"| {1000 * (t - t0):.1f} | {1000 * (t - prev):.1f} | {what} |")
            prev = t


main()
