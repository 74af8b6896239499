#!/usr/bin/env python3
"""Checks for the HTML report, as rendered by headless Chromium.

htmlcheck.py dom FILE     the DOM Chromium dumped: prints one line per
                          status-table row ("row ACCOUNT STATE") and per
                          timeline ("timeline ACCOUNT snaps=N gaps=N"), or
                          exits 1 saying what is malformed
htmlcheck.py png FILE     a screenshot: prints "WIDTHxHEIGHT colours=N
                          green=N" (green: pixels of the snapshot colour)
"""
import html.parser
import struct
import sys
import zlib


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.timelines = [], []
        self.stack, self.cell, self.cells, self.in_tbody = [], None, None, False
        self.svg = None
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get('class') or '').split()
        if tag == 'table' and 'status' in cls:
            self.tables += 1
        if tag == 'tbody':
            self.in_tbody = True
        if tag == 'tr' and self.in_tbody:
            self.cells = []
        if tag == 'td' and self.cells is not None:
            self.cell = []
        if tag == 'svg' and 'timeline' in cls:
            if self.svg is not None:
                raise SystemExit('a timeline inside a timeline')
            self.svg = {'account': a.get('data-account'), 'snap': 0, 'gap': 0}
        if tag == 'rect' and self.svg is not None:
            if 'snap' in cls:
                self.svg['snap'] += 1
            if 'gap' in cls:
                self.svg['gap'] += 1

    def handle_endtag(self, tag):
        if tag == 'tbody':
            self.in_tbody = False
        if tag == 'td' and self.cell is not None:
            self.cells.append(''.join(self.cell).strip())
            self.cell = None
        if tag == 'tr' and self.cells is not None:
            self.rows.append(self.cells)
            self.cells = None
        if tag == 'svg' and self.svg is not None:
            self.timelines.append(self.svg)
            self.svg = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def dom(path):
    p = Dom()
    with open(path, encoding='utf-8') as f:
        p.feed(f.read())
    if p.tables != 1:
        raise SystemExit('%d status tables, not one' % p.tables)
    for r in p.rows:
        print('row %s %s' % (r[0], r[1]))
    for t in p.timelines:
        if t['account'] is None:
            raise SystemExit('a timeline without data-account')
        print('timeline %s snaps=%d gaps=%d' % (t['account'], t['snap'], t['gap']))


def png(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise SystemExit('not a PNG')
    pos, idat, w = 8, b'', 0
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b'IHDR':
            w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise SystemExit('unexpected PNG format %d/%d/%d' % (depth, ctype, interlace))
            bpp = 3 if ctype == 2 else 4
        elif kind == b'IDAT':
            idat += body
        pos += 12 + n
    raw, stride = zlib.decompress(idat), w * bpp
    prev, colours, green, i = bytearray(stride), set(), 0, 0
    for _ in range(h):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            left = line[x - bpp] if x >= bpp else 0
            up, ul = prev[x], prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + left) & 255
            elif ftype == 2:
                line[x] = (line[x] + up) & 255
            elif ftype == 3:
                line[x] = (line[x] + (left + up) // 2) & 255
            elif ftype == 4:
                pa, pb, pc = abs(up - ul), abs(left - ul), abs(left + up - 2 * ul)
                pr = left if pa <= pb and pa <= pc else up if pb <= pc else ul
                line[x] = (line[x] + pr) & 255
        for x in range(0, stride, bpp):
            px = tuple(line[x:x + 3])
            colours.add(px)
            if abs(px[0] - 0x2e) < 12 and abs(px[1] - 0x8b) < 12 and abs(px[2] - 0x57) < 12:
                green += 1
        prev = line
    print('%dx%d colours=%d green=%d' % (w, h, len(colours), green))


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('dom', 'png'):
        raise SystemExit('usage: htmlcheck.py dom|png FILE')
    (dom if sys.argv[1] == 'dom' else png)(sys.argv[2])
