"""Folded stacks -> one self-contained SVG flame graph.

A box per frame, its width the frame's samples (with its callees), the root
("all") at the bottom and each callee above its caller, callees of a frame
in the order of their names (so the same stacks always draw the same
picture). The colour says what kind of code a frame is (perfkit.profiles.
folded.kind): user code warm (red to yellow), kernel blue, inlined teal, JIT
green, unknown grey, processes and threads lilac; the shade within a kind
comes from a hash of the name, so a function keeps its colour from one graph
to the next. Each frame's <title> (the tooltip) gives its name, samples and
share.

Embedded JavaScript, nothing loaded from elsewhere: click a frame to zoom
into it (its callers stay, greyed, below), "Reset zoom" (or Escape) to go
back; "Search" (or Ctrl-F) takes a regular expression, colours the frames
that match and shows the share of samples they cover (nested matches counted
once). Without JavaScript (an <img>, a viewer) the file is the static
picture, tooltips included.

As FlameGraph's flamegraph.pl does, frames narrower than 0.1 px at full
width are left out (their samples still count in their callers' widths):
they cannot be seen, and a graph of a long profile would otherwise weigh
megabytes. The same input gives the same bytes: no dates, no randomness."""
import colorsys
import zlib
from xml.sax.saxutils import escape

from ..units import show
from . import folded

WIDTH = 1200  # px of the frames' area
PAD = 10
FRAME_H = 16
FONT_PX = 11
CHAR_W = FONT_PX * 0.6  # monospace: every character the same width
MIN_WIDTH_PX = 0.1
TOP = 44  # title and buttons above the frames
SEARCH_FILL = "rgb(230,0,230)"

# kind -> (hue range in degrees, saturation range, lightness range)
_PALETTE = {
    folded.USER: ((0, 50), (0.75, 0.95), (0.55, 0.65)),
    folded.KERNEL: ((195, 225), (0.55, 0.75), (0.55, 0.68)),
    folded.INLINED: ((165, 185), (0.45, 0.65), (0.50, 0.62)),
    folded.JIT: ((90, 130), (0.45, 0.65), (0.50, 0.62)),
    folded.UNKNOWN: ((0, 0), (0.0, 0.0), (0.68, 0.80)),
    folded.PROCESS: ((265, 290), (0.30, 0.45), (0.72, 0.80)),
    folded.THREAD: ((265, 290), (0.30, 0.45), (0.72, 0.80)),
}
_ALL_FILL = "rgb(200,200,200)"


def colour(name, kind):
    """rgb() of a frame: its kind's range, the place within it from a CRC of
    the name (stable across runs and machines, unlike Python's hash())."""
    h = zlib.crc32(name.encode("utf-8", "replace"))
    (h0, h1), (s0, s1), (l0, l1) = _PALETTE[kind]
    a, b, c = (h & 0xFF) / 255, ((h >> 8) & 0xFF) / 255, ((h >> 16) & 0xFF) / 255
    r, g, bl = colorsys.hls_to_rgb((h0 + (h1 - h0) * a) / 360, l0 + (l1 - l0) * c,
                                   s0 + (s1 - s0) * b)
    return f"rgb({round(r * 255)},{round(g * 255)},{round(bl * 255)})"


def fit_text(name, width):
    """The label that fits a box `width` px wide; the script's fitText does
    the same after a zoom."""
    fits = int((width - 6) // CHAR_W)
    if fits < 3:
        return ""
    return name if len(name) <= fits else name[: fits - 2] + ".."


class _Node:
    __slots__ = ("name", "total", "children")

    def __init__(self, name):
        self.name, self.total, self.children = name, 0, {}


def _tree(stacks):
    root = _Node("all")
    for stack, n in stacks.items():
        root.total += n
        node = root
        for frame in stack.split(";"):
            node = node.children.setdefault(frame, _Node(frame))
            node.total += n
    return root


def _frames(root, min_samples):
    """(name, depth, start sample, samples) of every frame wide enough, in
    drawing order (depth first, callees by name). Depth 0 is "all"."""
    out, todo = [], [(root, 0, 0)]
    while todo:
        node, depth, start = todo.pop()
        out.append((node.name, depth, start, node.total))
        x = start
        kids = []
        for name in sorted(node.children):
            child = node.children[name]
            if child.total >= min_samples:
                kids.append((child, depth + 1, x))
            x += child.total
        todo.extend(reversed(kids))
    return out


def _clean(text):
    """XML 1.0 allows no control characters but tab, newline and return."""
    return "".join(c if c >= " " or c in "\t" else "?" for c in str(text))


def _pct(n, total):
    return f"{100.0 * n / total:.2f}%"


def _amount(n, unit):
    """A width as words: samples counted, or bytes (a heap profile's graphs)."""
    if unit == "bytes":
        return show(n, "bytes")
    return f"{n:g} {unit}{'' if n == 1 else 's'}"


def render(stacks, title="Flame graph", subtitle=None, unit="sample"):
    """Counter {folded stack: samples} -> the SVG document (str). unit: what
    a width counts, "sample" or "bytes", in the tooltips and the search."""
    total = folded.total(stacks)
    if total <= 0:
        raise ValueError("no samples: nothing to draw")
    root = _tree(stacks)
    frames = _frames(root, total * MIN_WIDTH_PX / WIDTH)
    max_depth = max(d for _, d, _, _ in frames)
    graph_h = (max_depth + 1) * FRAME_H
    height = TOP + graph_h + 2 * FRAME_H + 8
    details_y = TOP + graph_h + FRAME_H + 2
    scale = WIDTH / total
    full_w = WIDTH + 2 * PAD
    subtitle = subtitle or _amount(total, unit)
    of_what = "bytes" if unit == "bytes" else unit + "s"

    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{full_w}" '
        f'height="{height}" viewBox="0 0 {full_w} {height}" onload="init(evt)" '
        f'data-total="{total:g}" data-of="{escape(of_what)}" data-width="{WIDTH}" data-pad="{PAD}" '
        f'data-charw="{CHAR_W:g}">\n',
        "<style>\n"
        f"text {{ font-family: ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace; "
        f"font-size: {FONT_PX}px; fill: rgb(0,0,0); }}\n"
        ".title { font-size: 15px; text-anchor: middle; }\n"
        ".sub { fill: rgb(90,90,90); text-anchor: middle; }\n"
        ".button { cursor: pointer; fill: rgb(40,40,160); }\n"
        ".f { cursor: pointer; }\n"
        ".f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
        ".parent { opacity: 0.5; }\n"
        "</style>\n",
        f'<rect x="0" y="0" width="{full_w}" height="{height}" fill="rgb(248,248,248)"/>\n',
        f'<text class="title" x="{full_w / 2:g}" y="18">{escape(_clean(title))}</text>\n',
        f'<text class="sub" x="{full_w / 2:g}" y="34">{escape(_clean(subtitle))}</text>\n',
        # Buttons and the details line mean nothing without the script: it shows them.
        f'<text id="reset" class="button" x="{PAD}" y="34" style="display:none">Reset zoom</text>\n',
        f'<text id="search" class="button" x="{full_w - PAD}" y="34" text-anchor="end" '
        'style="display:none">Search</text>\n',
        f'<text id="details" x="{PAD}" y="{details_y}"> </text>\n',
        f'<text id="matched" x="{full_w - PAD}" y="{details_y}" text-anchor="end"> </text>\n',
        '<g id="frames">\n',
    ]
    for name, depth, start, n in frames:
        kind = folded.kind(name, depth - 1) if depth else None
        fill = colour(name, kind) if depth else _ALL_FILL
        x = PAD + start * scale
        w = n * scale
        y = TOP + (max_depth - depth) * FRAME_H
        label = _clean(name)
        samples = _amount(n, unit)
        out.append(
            f'<g class="f" data-s="{start:g}" data-n="{n:g}" data-d="{depth}" '
            f'data-k="{kind or "all"}"><title>{escape(label)} ({samples}, {_pct(n, total)})'
            f'</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{FRAME_H - 1}" rx="2" '
            f'fill="{fill}"/><text x="{x + 3:.2f}" y="{y + FRAME_H - 4}">'
            f"{escape(fit_text(label, w))}</text></g>\n")
    out.append("</g>\n")
    out.append("<script><![CDATA[\n" + _SCRIPT + "]]></script>\n")
    out.append("</svg>\n")
    return "".join(out)


# Kept in one place with its pure parts (fitText, layout, matchedSamples) apart
# from the DOM, so that a test can run them under node without a browser.
_SCRIPT = r"""
"use strict";
var fg = { frames: [], names: [], fills: [], gs: [], focus: null, term: "" };

function fitText(name, width, charW) {
  var fits = Math.floor((width - 6) / charW);
  if (fits < 3) return "";
  return name.length <= fits ? name : name.substring(0, fits - 2) + "..";
}

// Where each frame goes when `focus` (an index, or null for none) fills the
// width: [{x, w, show, parent}]. Frames are {s: first sample, n: samples, d: depth}.
function layout(frames, focus, total, width, pad) {
  var f0 = focus === null ? { s: 0, n: total, d: 0 } : frames[focus];
  var scale = width / f0.n, out = [];
  for (var i = 0; i < frames.length; i++) {
    var f = frames[i];
    if (f.d < f0.d && f.s <= f0.s && f.s + f.n >= f0.s + f0.n) {
      out.push({ x: pad, w: width, show: true, parent: true });
    } else if (f.d >= f0.d && f.s >= f0.s && f.s + f.n <= f0.s + f0.n) {
      out.push({ x: pad + (f.s - f0.s) * scale, w: f.n * scale, show: true, parent: false });
    } else {
      out.push({ x: 0, w: 0, show: false, parent: false });
    }
  }
  return out;
}

// Samples under the frames whose names match `re`: a frame inside another
// matching one (recursion, a caller and its callee) is counted once.
function matchedSamples(frames, names, re) {
  var spans = [];
  for (var i = 0; i < frames.length; i++) {
    if (frames[i].d > 0 && re.test(names[i])) spans.push([frames[i].s, frames[i].s + frames[i].n]);
  }
  spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
  var sum = 0, end = -Infinity;
  for (var j = 0; j < spans.length; j++) {
    var a = spans[j][0], b = spans[j][1];
    if (a >= end) { sum += b - a; end = b; } else if (b > end) { sum += b - end; end = b; }
  }
  return sum;
}

function pct(n, total) { return (100 * n / total).toFixed(2) + "%"; }

function attr(el, name) { return parseFloat(el.getAttribute(name)); }

function init(evt) {
  var svg = document.documentElement;
  fg.total = attr(svg, "data-total");
  fg.of = svg.getAttribute("data-of") || "samples";
  fg.width = attr(svg, "data-width");
  fg.pad = attr(svg, "data-pad");
  fg.charW = attr(svg, "data-charw");
  fg.details = document.getElementById("details");
  fg.matched = document.getElementById("matched");
  fg.reset = document.getElementById("reset");
  var search = document.getElementById("search");
  var gs = document.getElementById("frames").getElementsByTagName("g");
  for (var i = 0; i < gs.length; i++) {
    var g = gs[i], title = g.getElementsByTagName("title")[0].textContent;
    fg.gs.push(g);
    fg.frames.push({ s: attr(g, "data-s"), n: attr(g, "data-n"), d: attr(g, "data-d") });
    fg.names.push(title.substring(0, title.lastIndexOf(" (")));
    fg.fills.push(g.getElementsByTagName("rect")[0].getAttribute("fill"));
    (function (index, tip) {
      g.addEventListener("click", function () { zoom(index); });
      g.addEventListener("mouseover", function () { fg.details.textContent = tip; });
      g.addEventListener("mouseout", function () { hint(); });
    })(i, title);
  }
  fg.reset.addEventListener("click", function () { zoom(null); });
  search.addEventListener("click", askSearch);
  search.style.display = "";
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); askSearch(); }
    else if (e.key === "Escape") { zoom(null); setSearch(""); }
  });
  hint();
}

function hint() {
  fg.details.textContent = "Click a frame to zoom in, Ctrl-F or Search to find functions (regexp)";
}

function zoom(index) {
  if (index !== null && fg.frames[index].d === 0) index = null;  // "all" is the whole
  fg.focus = index;
  var l = layout(fg.frames, index, fg.total, fg.width, fg.pad);
  for (var i = 0; i < fg.gs.length; i++) {
    var g = fg.gs[i], rect = g.getElementsByTagName("rect")[0], text = g.getElementsByTagName("text")[0];
    g.style.display = l[i].show ? "" : "none";
    if (!l[i].show) continue;
    g.setAttribute("class", l[i].parent ? "f parent" : "f");
    rect.setAttribute("x", l[i].x.toFixed(2));
    rect.setAttribute("width", l[i].w.toFixed(2));
    text.setAttribute("x", (l[i].x + 3).toFixed(2));
    text.textContent = fitText(fg.names[i], l[i].w, fg.charW);
  }
  fg.reset.style.display = index === null ? "none" : "";
}

function askSearch() {
  var term = window.prompt("Search frames (regular expression; empty: clear)", fg.term);
  if (term !== null) setSearch(term);
}

function setSearch(term) {
  var re = null;
  if (term) {
    try { re = new RegExp(term); } catch (e) { fg.matched.textContent = "not a regular expression: " + term; return; }
  }
  fg.term = term;
  for (var i = 0; i < fg.gs.length; i++) {
    var hit = re !== null && fg.frames[i].d > 0 && re.test(fg.names[i]);
    fg.gs[i].getElementsByTagName("rect")[0].setAttribute("fill", hit ? "__SEARCH_FILL__" : fg.fills[i]);
  }
  fg.matched.textContent = re === null ? " " :
    "Matched " + pct(matchedSamples(fg.frames, fg.names, re), fg.total) + " of " + fg.of + ": /" + term + "/";
}
""".replace("__SEARCH_FILL__", SEARCH_FILL)
