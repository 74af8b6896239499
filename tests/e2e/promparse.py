#!/usr/bin/env python3
"""A strict parser for the Prometheus text exposition format 0.0.4, as
node_exporter's textfile collector reads it, plus the rules hindsight
promises on top. Usage: promparse.py FILE. Exit 0 and the parsed families
as JSON on stdout, or exit 1 with "FILE:LINE: what is wrong" on stderr.

Spec rules: UTF-8, one sample per line ending in \\n; metric names
[a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting
with __; label values double-quoted with only \\\\, \\" and \\n as escapes;
no label named twice in a sample; a value Go's ParseFloat takes (NaN,
+Inf, -Inf too) and an optional integer timestamp; at most one HELP and one
TYPE per family, TYPE before its first sample; a family's lines in one
group; no series twice; a gauge's samples named exactly as the family.
hindsight's own: every family has HELP and TYPE, both before its samples,
no empty line and no other comment, and the file is not empty.
"""
import json
import re
import sys

METRIC = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[Ii]nf|[Nn]a[Nn])$')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}


class Bad(Exception):
    pass


def help_text(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == '\\':
            if i + 1 >= len(s):
                raise Bad('HELP text ends in a lone backslash')
            n = s[i + 1]
            if n == '\\':
                out.append('\\')
            elif n == 'n':
                out.append('\n')
            else:
                raise Bad('HELP text has an unknown escape \\%s' % n)
            i += 2
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def parse_labels(s, i):
    """s[i] is '{'. Returns (dict, index after '}')."""
    labels = {}
    i += 1
    if i < len(s) and s[i] == '}':
        return labels, i + 1
    while True:
        m = LABEL.match(s, i)
        if not m:
            raise Bad('bad label name at column %d' % (i + 1))
        name = m.group(0)
        if name.startswith('__'):
            raise Bad('label name %s is reserved' % name)
        if name in labels:
            raise Bad('label %s given twice' % name)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad('label %s: expected =" at column %d' % (name, i + 1))
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad('label %s: unterminated value' % name)
            c = s[i]
            if c == '"':
                i += 1
                break
            if c == '\\':
                n = s[i + 1] if i + 1 < len(s) else ''
                if n == '\\':
                    val.append('\\')
                elif n == '"':
                    val.append('"')
                elif n == 'n':
                    val.append('\n')
                else:
                    raise Bad('label %s: unknown escape \\%s' % (name, n))
                i += 2
                continue
            val.append(c)
            i += 1
        labels[name] = ''.join(val)
        if i < len(s) and s[i] == ',':
            i += 1
            if i < len(s) and s[i] == '}':
                return labels, i + 1
            continue
        if i < len(s) and s[i] == '}':
            return labels, i + 1
        raise Bad('expected , or } at column %d' % (i + 1))


def parse(data):
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        raise Bad('not UTF-8: %s' % e)
    if not text:
        raise Bad('empty file')
    if not text.endswith('\n'):
        raise Bad('the last line has no newline')
    if '\r' in text:
        raise Bad('a carriage return')
    fams, order, closed, seen = {}, [], set(), set()
    current = None
    for no, line in enumerate(text[:-1].split('\n'), 1):
        try:
            if line == '':
                raise Bad('an empty line')
            if line.startswith('#'):
                parts = line.split(' ', 3)
                if len(parts) < 3 or parts[0] != '#' or parts[1] not in ('HELP', 'TYPE'):
                    raise Bad('a comment that is neither # HELP nor # TYPE')
                kind, name = parts[1], parts[2]
                if not METRIC.fullmatch(name):
                    raise Bad('bad metric name %r' % name)
                if name in closed:
                    raise Bad('%s: its lines are not in one group' % name)
                if current is not None and current != name:
                    closed.add(current)
                current = name
                f = fams.setdefault(name, {'help': None, 'type': None, 'samples': []})
                if name not in order:
                    order.append(name)
                if f['samples']:
                    raise Bad('%s: # %s after its samples' % (name, kind))
                if kind == 'HELP':
                    if f['help'] is not None:
                        raise Bad('%s: HELP twice' % name)
                    f['help'] = help_text(parts[3] if len(parts) > 3 else '')
                else:
                    if f['type'] is not None:
                        raise Bad('%s: TYPE twice' % name)
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise Bad('%s: bad TYPE %r' % (name, parts[3] if len(parts) > 3 else ''))
                    f['type'] = parts[3]
                continue
            m = METRIC.match(line)
            if not m:
                raise Bad('a sample line that does not start with a metric name')
            name = m.group(0)
            i = m.end()
            labels = {}
            if i < len(line) and line[i] == '{':
                labels, i = parse_labels(line, i)
            if i >= len(line) or line[i] != ' ':
                raise Bad('expected one space before the value')
            rest = line[i + 1:].split(' ')
            if len(rest) not in (1, 2) or not FLOAT.match(rest[0]):
                raise Bad('bad value %r' % line[i + 1:])
            if len(rest) == 2 and not re.fullmatch(r'-?[0-9]+', rest[1]):
                raise Bad('bad timestamp %r' % rest[1])
            fam = name
            if fam not in fams:
                raise Bad('%s: a sample with no # HELP and # TYPE before it' % name)
            f = fams[fam]
            if f['help'] is None or f['type'] is None:
                raise Bad('%s: HELP and TYPE must both come before the samples' % name)
            if f['type'] == 'gauge' and name != fam:
                raise Bad('%s: a gauge sample named otherwise' % name)
            if current != fam:
                raise Bad('%s: its lines are not in one group' % name)
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise Bad('%s%s: the same series twice' % (name, labels))
            seen.add(key)
            f['samples'].append({'labels': labels, 'value': float(rest[0])})
        except Bad as e:
            raise Bad('%d: %s' % (no, e))
    for name in order:
        if fams[name]['help'] is None or fams[name]['type'] is None:
            raise Bad('%s: no HELP or no TYPE' % name)
    return fams


def main():
    if len(sys.argv) != 2:
        print('usage: promparse.py FILE', file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], 'rb') as f:
            fams = parse(f.read())
    except Bad as e:
        print('%s:%s' % (sys.argv[1], e), file=sys.stderr)
        return 1
    json.dump(fams, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
