"""perfkit.profiles.flamegraph (folded stacks -> SVG) and `perfkit profile
flamegraph`: the picture's geometry read back from the SVG, its bytes
stable, names escaped, colours by kind and stable per name; and its script
run under node against a stand-in DOM (flamegraph_dom.js): zoom, reset,
search with the matched share."""
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from perfkit.profiles import flamegraph, folded

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
REPO = HERE.parents[1]
SVG = "{http://www.w3.org/2000/svg}"

STACKS = {
    "hot;__libc_start_call_main;main;burn_hot": 790,
    "hot;__libc_start_call_main;main;burn_cold": 190,
    "hot;__libc_start_call_main;main;burn_hot;asm_sysvec_apic_timer_interrupt_[k]": 10,
    "hot;__libc_start_call_main;main;std::vector<int>::push_back_[i]": 5,
    "hot;thread:io;[libfoo.so]": 5,
}


def frames_of(svg_text):
    """[(name, depth, kind, x, width, fill, label)] of each frame box."""
    root = ET.fromstring(svg_text)
    out = []
    for g in root.iter(SVG + "g"):
        if g.get("class") != "f":
            continue
        title = g.find(SVG + "title").text
        rect, text = g.find(SVG + "rect"), g.find(SVG + "text")
        out.append((title[: title.rindex(" (")], int(g.get("data-d")), g.get("data-k"),
                    float(rect.get("x")), float(rect.get("width")), rect.get("fill"),
                    text.text or ""))
    return root, out


def test_geometry_widths_follow_samples():
    root, frames = frames_of(flamegraph.render(STACKS, "t"))
    by_name = {f[0]: f for f in frames}
    total = sum(STACKS.values())
    assert by_name["all"][4] == pytest.approx(flamegraph.WIDTH)
    assert by_name["burn_hot"][4] == pytest.approx(flamegraph.WIDTH * 800 / total, abs=0.01)
    assert by_name["burn_cold"][4] == pytest.approx(flamegraph.WIDTH * 190 / total, abs=0.01)
    # callees sit on their caller, in name order: burn_cold left of burn_hot
    assert by_name["burn_cold"][3] < by_name["burn_hot"][3]
    assert by_name["main"][1] == by_name["burn_hot"][1] - 1
    # kinds read from the names
    assert by_name["hot"][2] == "process" and by_name["thread:io"][2] == "thread"
    assert by_name["asm_sysvec_apic_timer_interrupt_[k]"][2] == "kernel"
    assert by_name["std::vector<int>::push_back_[i]"][2] == "inlined"
    assert by_name["[libfoo.so]"][2] == "unknown"
    assert by_name["burn_hot"][6] == "burn_hot"  # wide enough for its label
    titles = [t.text for t in root.iter(SVG + "title")]
    assert "burn_hot (800 samples, 80.00%)" in titles


def test_same_input_same_bytes_and_colours_stable_across_graphs():
    a = flamegraph.render(STACKS, "t")
    assert a == flamegraph.render(dict(reversed(list(STACKS.items()))), "t")
    other = {"x;main;burn_hot": 3, "x;main;other": 9}
    fill = {f[0]: f[5] for f in frames_of(a)[1]}
    fill2 = {f[0]: f[5] for f in frames_of(flamegraph.render(other, "u"))[1]}
    assert fill["burn_hot"] == fill2["burn_hot"] and fill["main"] == fill2["main"]


def hue(rgb):
    import colorsys
    r, g, b = (int(v) / 255 for v in re.findall(r"\d+", rgb))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def test_colours_by_kind():
    for name, kind in [("burn_hot", folded.USER), ("x_[k]", folded.KERNEL),
                       ("x_[i]", folded.INLINED), ("x_[j]", folded.JIT)]:
        lo, hi = flamegraph._PALETTE[kind][0]
        assert lo - 1 <= hue(flamegraph.colour(name, kind)) <= hi + 1, name
    r, g, b = re.findall(r"\d+", flamegraph.colour("[unknown]", folded.UNKNOWN))
    assert r == g == b  # grey


def test_names_are_escaped_and_the_svg_parses():
    stacks = {"p;std::map<int, std::string>::find;a&b \"q\" 'r'": 3, "p;x\x01y": 1}
    root, frames = frames_of(flamegraph.render(stacks, "<title> & more"))
    names = {f[0] for f in frames}
    assert "std::map<int, std::string>::find" in names
    assert "a&b \"q\" 'r'" in names
    assert "x?y" in names  # a control character XML cannot hold
    assert root.find(SVG + "text").text == "<title> & more"


def test_frames_too_narrow_are_left_out_but_counted():
    stacks = {"p;big": 1_000_000, "p;tiny": 1}
    _, frames = frames_of(flamegraph.render(stacks))
    names = {f[0] for f in frames}
    assert "tiny" not in names and "big" in names
    assert next(f for f in frames if f[0] == "p")[4] == pytest.approx(flamegraph.WIDTH)


def test_static_picture_has_no_dead_buttons():
    """Without a script the buttons would do nothing: hidden until it runs."""
    root = ET.fromstring(flamegraph.render(STACKS))
    texts = {t.get("id"): t for t in root.iter(SVG + "text") if t.get("id")}
    assert "display:none" in texts["reset"].get("style")
    assert "display:none" in texts["search"].get("style")
    script = root.find(SVG + "script").text
    for fn in ("function init", "function zoom", "function setSearch", "function matchedSamples"):
        assert fn in script
    assert root.get("onload") == "init(evt)"


def test_fit_text():
    assert flamegraph.fit_text("burn_hot", 1000) == "burn_hot"
    assert flamegraph.fit_text("burn_hot", 6 + 5 * flamegraph.CHAR_W) == "bur.."
    assert flamegraph.fit_text("burn_hot", 10) == ""


def dom_run(svg_text, actions):
    """The SVG's script under node against flamegraph_dom.js's stand-in DOM."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.skip("node is not installed: the flame graph's script is not run")
    root = ET.fromstring(svg_text)
    ids = {t.get("id"): {"attrs": dict(t.attrib), "text": t.text or ""}
           for t in root.iter(SVG + "text") if t.get("id")}
    frames = []
    for g in root.iter(SVG + "g"):
        if g.get("class") == "f":
            text = g.find(SVG + "text")
            frames.append({"attrs": dict(g.attrib), "title": g.find(SVG + "title").text,
                           "rect": dict(g.find(SVG + "rect").attrib),
                           "text": {"attrs": dict(text.attrib), "text": text.text or ""}})
    doc = {"script": root.find(SVG + "script").text, "svg": dict(root.attrib), "ids": ids,
           "frames": frames, "actions": actions}
    r = subprocess.run([node, str(HERE / "flamegraph_dom.js")], input=json.dumps(doc),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [f["title"][: f["title"].rindex(" (")] for f in frames], json.loads(r.stdout)


def test_script_zooms_resets_and_searches():
    svg = flamegraph.render(STACKS, "t")
    names = [f[0] for f in frames_of(svg)[1]]
    i_hot = names.index("burn_hot")
    i_cold = names.index("burn_cold")
    i_main = names.index("main")
    i_kernel = names.index("asm_sysvec_apic_timer_interrupt_[k]")
    names, states = dom_run(svg, [
        {"hover": i_hot},
        {"click": i_hot},
        {"clickId": "reset"},
        {"clickId": "search", "prompt": "^burn_"},
        {"key": {"key": "f", "ctrlKey": True}, "prompt": "("},  # not a regexp: said, kept
        {"key": {"key": "Escape"}},
    ])
    start, hover, zoomed, reset, searched, bad, cleared = states
    W, PAD = flamegraph.WIDTH, flamegraph.PAD
    # the script shows its buttons and its hint
    assert start["search"] == "" and start["reset"] == "none"
    assert "Click a frame" in start["details"]
    assert hover["details"].startswith("burn_hot (800 samples")
    # zoomed into burn_hot: it fills the width, its callee scales with it,
    # its callers stay full width and greyed, burn_cold is gone
    z = zoomed["frames"]
    assert z[i_hot]["x"] == pytest.approx(PAD) and z[i_hot]["width"] == pytest.approx(W)
    assert z[i_kernel]["width"] == pytest.approx(W * 10 / 800, abs=0.01)
    assert z[i_main]["width"] == pytest.approx(W) and z[i_main]["cls"] == "f parent"
    assert z[i_cold]["display"] == "none"
    assert zoomed["reset"] == ""
    # reset: every frame back where the SVG drew it
    assert [(f["x"], f["width"], f["display"]) for f in reset["frames"]] == \
        [(f["x"], f["width"], f["display"]) for f in start["frames"]]
    assert reset["reset"] == "none"
    # search: burn_hot and burn_cold coloured, 990 of 1000 samples matched
    s = searched["frames"]
    assert s[i_hot]["fill"] == s[i_cold]["fill"] == flamegraph.SEARCH_FILL
    assert s[i_main]["fill"] != flamegraph.SEARCH_FILL
    assert searched["matched"].startswith("Matched 99.00% of samples: /^burn_/")
    assert bad["matched"].startswith("not a regular expression")
    assert cleared["matched"].strip() == "" and cleared["frames"][i_hot]["fill"] != flamegraph.SEARCH_FILL


def test_script_counts_nested_matches_once():
    stacks = {"p;f;g;f": 6, "p;f;h": 4, "p;k": 10}
    names, states = dom_run(flamegraph.render(stacks), [{"clickId": "search", "prompt": "^f$"}])
    assert states[1]["matched"].startswith("Matched 50.00% of samples")


def perfkit(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "perfkit", "profile", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO,
                          env={"PYTHONPATH": str(REPO / "harness"), "PATH": "/usr/bin:/bin"})


def test_verb_reads_perf_script_and_folded_alike(tmp_path):
    a, b = tmp_path / "a.svg", tmp_path / "b.svg"
    fold = tmp_path / "stacks.folded"
    r = perfkit("flamegraph", str(DATA / "perf-script-hot.txt"), "-o", str(a), "--title", "hot",
                "--folded-out", str(fold))
    assert r.returncode == 0, r.stderr
    r = perfkit("flamegraph", "-", "-o", str(b), "--title", "hot", stdin=fold.read_text())
    assert r.returncode == 0, r.stderr
    # the same stacks: the same picture, but for the event only perf script names
    assert a.read_text().replace("27 samples of cpu-clock", "27 samples") == b.read_text()
    ET.fromstring(a.read_text())


def test_verb_bad_and_empty_input(tmp_path):
    bad = tmp_path / "bad.folded"
    bad.write_text("a;b 3\nc;d x\n")
    r = perfkit("flamegraph", str(bad), "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 2 and "bad.folded:2" in r.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    r = perfkit("flamegraph", str(empty), "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 1 and "no samples" in r.stderr
    r = perfkit("flamegraph", str(tmp_path / "missing"), "-o", str(tmp_path / "x.svg"))
    assert r.returncode == 2 and "cannot read" in r.stderr
