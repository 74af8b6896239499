#!/usr/bin/env python3
"""bench/report.py OUT PLOTS: medians, ratios and plots of a bench/bench.sh run.

Reads OUT/runs.tsv (GROUP CASE VARIANT ROUND SECONDS USER SYSTEM; rounds
<= 0 are warm-ups and are left out), OUT/commands.tsv, OUT/hwm.tsv (serve's
peak RSS per run, KiB) and OUT/mem.tsv (NAME SECONDS KIB). Writes
OUT/results.md (the tables for docs/BENCHMARKS.md) and, with gnuplot, one
SVG per group into PLOTS: push-ssh.svg, push-local.svg, restore.svg,
history.svg, memory.svg.

Every ratio is a median over the baseline's median from the same run
(above 1: slower than the baseline).
"""
import collections
import os
import statistics
import subprocess
import sys

OUT, PLOTS = sys.argv[1], sys.argv[2]

BASELINE = {"push": "bare", "local": "bare-local", "restore": "bare-pull", "history": "baseline"}
TITLE = {
    "push": "Push over ssh (to XFS on loopback)",
    "local": "Push to a local directory (XFS)",
    "restore": "Restore over ssh",
    "history": "History and space, on the local root",
}
CASES = {
    "push": ["full", "none", "1pct"],
    "local": ["full", "none", "1pct"],
    "restore": ["file", "subtree"],
    "history": ["du", "diff", "delete"],
}
CASE_NAME = {
    "full": "full (empty root)", "none": "no change", "1pct": "1% changed",
    "file": "one file", "subtree": "a subtree",
    "du": "du", "diff": "diff", "delete": "delete a snapshot",
}


def read_tsv(name):
    path = os.path.join(OUT, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.rstrip("\n").split("\t") for line in f if line.strip()]


runs = collections.defaultdict(list)          # (group, case, variant) -> [seconds]
order = collections.defaultdict(list)         # group -> variants in first-seen order
for g, c, v, r, t, _user, _sys in read_tsv("runs.tsv"):
    if v not in order[g]:
        order[g].append(v)
    if int(r) >= 1:
        runs[(g, c, v)].append(float(t))
commands = {(g, c, v): cmd for g, c, v, cmd in read_tsv("commands.tsv")}


def med(g, c, v):
    t = runs.get((g, c, v))
    return statistics.median(t) if t else None


def ratio(g, c, v, base):
    a, b = med(g, c, v), med(g, c, base)
    return a / b if a is not None and b else None


def fmt_s(x):
    if x is None:
        return "-"
    return "%.3f s" % x if x < 10 else "%.2f s" % x


md = []
with open(os.path.join(OUT, "machine.txt")) as f:
    md.append("```\n" + f.read().rstrip() + "\n```\n")

for g in ("push", "local", "restore", "history"):
    if not order[g]:
        continue
    base = BASELINE[g]
    md.append("### %s\n" % TITLE[g])
    md.append("| case | variant | median | runs (s) | vs %s |" % base)
    md.append("|---|---|---|---|---|")
    for c in CASES[g]:
        for v in order[g]:
            t = runs.get((g, c, v))
            if not t:
                continue
            r = ratio(g, c, v, base)
            md.append("| %s | %s | %s | %s | %s |" % (
                CASE_NAME[c], v, fmt_s(med(g, c, v)), " ".join("%.2f" % x for x in t),
                "**%.3f**" % r if r is not None and v != base else "1" if v == base else "-"))
    md.append("")
    md.append("Commands (each variant's, and the cases that ran it):\n\n```")
    for v in order[g]:
        by_cmd = collections.OrderedDict()
        for c in CASES[g]:
            cmd = commands.get((g, c, v))
            if cmd:
                by_cmd.setdefault(cmd, []).append(c)
        for cmd, cs in by_cmd.items():
            md.append("# %s (%s)\n%s" % (v, ", ".join(cs), cmd))
    md.append("```\n")

# the ratios the issue asks about
pairs = [
    ("push", "hindsight", "bare"), ("push", "seed", "bare"),
    ("push", "seed", "bare-fs"), ("push", "hindsight", "bare-hs"),
    ("push", "bare-fs", "bare"), ("push", "bare-hs", "bare"),
    ("local", "hindsight-local", "bare-local"), ("local", "hindsight-local", "bare-local-hs"),
    ("local", "bare-local-hs", "bare-local"),
    ("local", "hindsight-local", "rsnapshot-ld"), ("local", "hindsight-local", "rsnapshot-cp"),
    ("restore", "hindsight", "bare-pull"), ("restore", "serve-pull", "bare-pull"),
]
lines = []
for g, a, b in pairs:
    cells = []
    for c in CASES[g]:
        r = ratio(g, c, a, b)
        if r is not None:
            cells.append("%s %.3f" % (CASE_NAME[c], r))
    if cells:
        lines.append("| %s | %s / %s | %s |" % (g, a, b, "; ".join(cells)))
if lines:
    md.append("### Ratios of medians\n")
    md.append("| group | ratio | by case |")
    md.append("|---|---|---|")
    md.extend(lines)
    md.append("")

# history: per-entry costs against the ceilings
if order["history"]:
    md.append("### Ceilings\n")
    with open(os.path.join(OUT, "machine.txt")) as f:
        info = f.read()
    import re
    m = re.search(r"stat list has (\d+) entries.*unlink list (\d+)", info)
    if m:
        nstat, nunl = int(m.group(1)), int(m.group(2))
        s = med("history", "du", "ceiling")
        u = med("history", "delete", "ceiling")
        if s:
            md.append("- stat: %.2f µs per `fstatat` (%d entries in %s, warm)" % (s / nstat * 1e6, nstat, fmt_s(s)))
        if u:
            md.append("- unlink: %.2f µs per `unlinkat` (%d entries in %s, warm, link counts only)" % (u / nunl * 1e6, nunl, fmt_s(u)))
        md.append("")

# memory
hwm = collections.defaultdict(list)
for c, kib in read_tsv("hwm.tsv"):
    hwm[c].append(int(kib))
mem = collections.defaultdict(list)
for name, sec, kib in read_tsv("mem.tsv"):
    mem[name].append((float(sec), int(kib)))
if hwm or mem:
    md.append("### Memory (peak RSS)\n")
    md.append("| what | peak RSS | runs | time (median) |")
    md.append("|---|---|---|---|")
    for c, v in hwm.items():
        md.append("| `serve` itself, %s | %.1f MiB (max; min %.1f) | %d | - |" % (c, max(v) / 1024, min(v) / 1024, len(v)))
    for name, v in mem.items():
        md.append("| %s | %.1f MiB (median) | %d | %s |" % (
            name, statistics.median(k for _, k in v) / 1024, len(v), fmt_s(statistics.median(s for s, _ in v))))
    md.append("")

with open(os.path.join(OUT, "results.md"), "w") as f:
    f.write("\n".join(md) + "\n")
print("\n".join(md))

# ---------------------------------------------------------------- plots

os.makedirs(PLOTS, exist_ok=True)
PALETTE = ["#1b6ca8", "#e08a1e", "#6a9f3a", "#b33d3d", "#7b5aa6", "#8c8c8c"]


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def bars(g, name):
    vs = order[g]
    cases = [c for c in CASES[g] if any((g, c, v) in runs for v in vs)]
    if not cases:
        return
    dat = os.path.join(OUT, name + ".dat")
    with open(dat, "w") as f:
        f.write("# case, then per variant: median, fastest, slowest (seconds)\n")
        for c in cases:
            row = ['"%s"' % CASE_NAME[c]]
            for v in vs:
                t = runs.get((g, c, v))
                row += ["%.4f %.4f %.4f" % (statistics.median(t), min(t), max(t))] if t else ["- - -"]
            f.write(" ".join(row) + "\n")
    plots = ", ".join(
        "'%s' using %d:%d:%d%s title '%s' lc rgb '%s'" % (
            dat, 2 + 3 * i, 3 + 3 * i, 4 + 3 * i, ":xtic(1)" if i == 0 else "", v,
            PALETTE[i % len(PALETTE)])
        for i, v in enumerate(vs))
    gnuplot("""
set terminal svg size 820,420 dynamic font 'sans,12' background '#ffffff'
set output '%s'
set title "%s: median of the runs, bars from fastest to slowest"
set ylabel 'seconds'
set yrange [0:*]
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set datafile missing '-'
set key top right
set grid ytics
plot %s
""" % (os.path.join(PLOTS, name + ".svg"), TITLE[g], plots))


bars("push", "push-ssh")
bars("local", "push-local")
bars("restore", "restore")
bars("history", "history")

if hwm or mem:
    dat = os.path.join(OUT, "memory.dat")
    peak = max([max(v) / 1024 for v in hwm.values()] + [max(k for _, k in v) / 1024 for v in mem.values()])
    with open(dat, "w") as f:
        for c, v in hwm.items():
            f.write('"serve, %s" %.2f\n' % (c, max(v) / 1024))
        for name, v in mem.items():
            f.write('"%s" %.2f\n' % (name, statistics.median(k for _, k in v) / 1024))
    gnuplot("""
set terminal svg size 820,%d dynamic font 'sans,12' background '#ffffff'
set output '%s'
set title "Peak RSS (VmHWM of serve alone; GNU time for the others)"
set xlabel 'MiB'
set style fill solid 0.85 border -1
set yrange [-0.5:*] reverse
set xrange [0:%.2f]
set grid xtics
unset key
set ytics nomirror
plot '%s' using ($2*0.5):0:($2*0.5):(0.35):yticlabels(1) with boxxyerror lc rgb '%s', \\
     '' using 2:0:(sprintf(' %%.1f', $2)) with labels left
""" % (160 + 28 * (len(hwm) + len(mem)), os.path.join(PLOTS, "memory.svg"), peak * 1.15, dat, PALETTE[0]))
