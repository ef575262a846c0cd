#!/usr/bin/env python3
"""Draws the throughput plot of docs/benchmarks.md from the output of `jcm_bench all`.

    python3 bench/plot.py bench-output.txt docs/bench-throughput.svg

Left: operations per second against batch size for (a) the storage limit without the Ed25519
signature, with one on every entry (the format before seals), and with one seal per batch as the
registry makes it, and
(b) the registry in process, with (b2) the four-eyes transfer in process (requests per commit on the
x axis, transfers per second on the y axis). Right: against concurrent HTTP clients for (a)
at batch = N, (c1) block.hold and (c2) the four-eyes transfer. Both axes are logarithmic. Only the
standard library is used, so the plot can be redrawn anywhere the benchmark runs.
"""
import math
import re
import sys

SERIES_BATCH = [
    ("(a) SQLite loop, no signature", re.compile(r"^batch (\d+) \(a\) sqlite, no signature\s+(\d+)"), "#888888"),
    ("(a) SQLite loop + Ed25519 per entry", re.compile(r"^batch (\d+) \(a\) sqlite \+ Ed25519 per entry\s+(\d+)"), "#9467bd"),
    ("(a) SQLite loop + one seal per batch", re.compile(r"^batch (\d+) \(a\) sqlite \+ one seal per batch\s+(\d+)"), "#1f77b4"),
    ("(b) registry in process", re.compile(r"^batch (\d+) \(b\) Registry::ExecuteBatch\s+(\d+)"), "#d62728"),
    ("(b2) four-eyes transfer in process", re.compile(r"^batch (\d+) \(b2\) four-eyes, in process\s+(\d+)"), "#ff7f0e"),
]
SERIES_CLIENTS = [
    ("(a) SQLite + seal per batch, batch N", re.compile(r"^N=(\d+) \(a\) sqlite\+seal b=\d+\s+(\d+)"), "#1f77b4"),
    ("(c1) HTTP block.hold", re.compile(r"^N=(\d+) \(c1\) block\.hold\s+(\d+)"), "#2ca02c"),
    ("(c2) HTTP four-eyes transfer", re.compile(r"^N=(\d+) \(c2\) 4-eyes transfer\s+(\d+)"), "#d62728"),
]

W, H = 980, 460
PANEL_W, PANEL_H = 400, 280
TOP = 80


def parse(lines, series):
    out = []
    for name, pattern, colour in series:
        points = []
        for line in lines:
            m = pattern.match(line)
            if m:
                points.append((int(m.group(1)), int(m.group(2))))
        out.append((name, sorted(points), colour))
    return out


def panel(x0, title, xlabel, data):
    xs = sorted({x for _, pts, _ in data for x, _ in pts})
    ys = [y for _, pts, _ in data for _, y in pts if y > 0]
    if not xs or not ys:
        raise SystemExit("plot: no figures for '%s' in the input" % title)
    lo_x, hi_x = math.log2(xs[0]), math.log2(xs[-1]) if xs[-1] > xs[0] else math.log2(xs[0]) + 1
    lo_y = math.floor(math.log10(min(ys)))
    hi_y = math.ceil(math.log10(max(ys)))
    if hi_y == lo_y:
        hi_y += 1

    def px(x):
        return x0 + (math.log2(x) - lo_x) / (hi_x - lo_x) * PANEL_W

    def py(y):
        return TOP + PANEL_H - (math.log10(y) - lo_y) / (hi_y - lo_y) * PANEL_H

    s = ['<text x="%d" y="%d" font-size="15" font-weight="bold">%s</text>' % (x0, TOP - 22, title)]
    s.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (x0, TOP, PANEL_W, PANEL_H))
    for e in range(lo_y, hi_y + 1):
        y = py(10 ** e)
        s.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (x0, y, x0 + PANEL_W, y))
        s.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (x0 - 6, y + 4, f"{10 ** e:,}"))
    last_label = None
    for x in reversed(xs):  # From the largest, which keeps its label when two are too close.
        s.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>' % (px(x), TOP, px(x), TOP + PANEL_H))
        if last_label is None or last_label - px(x) >= 26:
            s.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%d</text>' % (px(x), TOP + PANEL_H + 16, x))
            last_label = px(x)
    s.append('<text x="%d" y="%d" font-size="12" text-anchor="middle">%s</text>' % (x0 + PANEL_W / 2, TOP + PANEL_H + 36, xlabel))
    s.append('<text x="%d" y="%d" font-size="12" transform="rotate(-90 %d %d)" text-anchor="middle">operations per second (log)</text>'
             % (x0 - 52, TOP + PANEL_H / 2, x0 - 52, TOP + PANEL_H / 2))
    for i, (name, pts, colour) in enumerate(data):
        if pts:
            path = " ".join("%.1f,%.1f" % (px(x), py(y)) for x, y in pts if y > 0)
            s.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (path, colour))
            for x, y in pts:
                if y > 0:
                    s.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %d ops/s</title></circle>'
                             % (px(x), py(y), colour, name, y))
        ly = TOP + PANEL_H + 56 + 16 * i
        s.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>' % (x0, ly - 4, x0 + 24, ly - 4, colour))
        s.append('<text x="%d" y="%d" font-size="12">%s</text>' % (x0 + 30, ly, name))
    return s


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: plot.py BENCH_OUTPUT.txt OUT.svg")
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = next((l for l in lines if l.startswith("jcm_bench all")), "jcm_bench")
    body = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">' % (W, H + 40),
            '<rect width="100%" height="100%" fill="white"/>',
            '<text x="20" y="20" font-size="12" fill="#555">%s</text>' % header.replace("&", "&amp;")]
    body += panel(90, "Throughput against batch size (transfers of 1 t)", "batch size (commands per commit)",
                  parse(lines, SERIES_BATCH))
    body += panel(570, "Throughput against HTTP clients", "concurrent clients (one request in flight each)",
                  parse(lines, SERIES_CLIENTS))
    body.append("</svg>")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")


if __name__ == "__main__":
    main()
