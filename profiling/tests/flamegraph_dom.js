// Runs a flame graph's own script against a stand-in DOM, for
// test_flamegraph.py: no browser here, and the script's glue (init, zoom,
// search) is where a slip would go unseen.
//
// stdin: {"script": the SVG's <script> text, "svg": {root attributes},
//         "ids": {id: {attrs, text}}, "frames": [{attrs, title, rect, text}],
//         "actions": [{"click": frame index} | {"clickId": id} |
//                     {"key": {key, ctrlKey}} and an optional "prompt": answer]}
// stdout: one state per action: every frame's display, class, rect x, width
// and fill, label; and the texts of #details, #matched, #reset's display.
"use strict";
const vm = require("vm");

class El {
  constructor(tag, attrs, text) {
    this.tag = tag;
    this.attrs = Object.assign({}, attrs || {});
    this.textContent = text || "";
    this.children = [];
    this.listeners = {};
    this.style = { display: /display:\s*none/.test(this.attrs.style || "") ? "none" : "" };
  }
  getAttribute(name) { return name in this.attrs ? this.attrs[name] : null; }
  setAttribute(name, value) { this.attrs[name] = String(value); }
  getElementsByTagName(tag) {
    const out = [];
    const walk = (el) => el.children.forEach((c) => { if (c.tag === tag) out.push(c); walk(c); });
    walk(this);
    return out;
  }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  fire(type, ev) { (this.listeners[type] || []).forEach((fn) => fn(ev || {})); }
}

const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const root = new El("svg", input.svg);
const byId = {};
for (const [id, v] of Object.entries(input.ids)) byId[id] = new El("text", v.attrs, v.text);
const framesEl = new El("g", { id: "frames" });
byId.frames = framesEl;
const gs = input.frames.map((f) => {
  const g = new El("g", f.attrs);
  g.children.push(new El("title", {}, f.title), new El("rect", f.rect), new El("text", f.text.attrs, f.text.text));
  framesEl.children.push(g);
  return g;
});
root.children.push(framesEl);

let answer = null;
const win = new El("window");
win.prompt = () => answer;
const doc = { documentElement: root, getElementById: (id) => byId[id] || null };
const ctx = vm.createContext({ document: doc, window: win });
vm.runInContext(input.script, ctx);
ctx.init({});

function state() {
  return {
    frames: gs.map((g) => {
      const rect = g.getElementsByTagName("rect")[0], text = g.getElementsByTagName("text")[0];
      return { display: g.style.display, cls: g.getAttribute("class"), x: parseFloat(rect.getAttribute("x")),
               width: parseFloat(rect.getAttribute("width")), fill: rect.getAttribute("fill"), label: text.textContent };
    }),
    details: byId.details.textContent, matched: byId.matched.textContent,
    reset: byId.reset.style.display, search: byId.search.style.display,
  };
}

const states = [state()];
for (const a of input.actions) {
  answer = "prompt" in a ? a.prompt : null;
  if ("click" in a) gs[a.click].fire("click");
  if ("hover" in a) gs[a.hover].fire("mouseover");
  if ("clickId" in a) byId[a.clickId].fire("click");
  if ("key" in a) win.fire("keydown", Object.assign({ preventDefault() {} }, a.key));
  states.push(state());
}
process.stdout.write(JSON.stringify(states));
