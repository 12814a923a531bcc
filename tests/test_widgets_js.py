"""The kernel-free explorer's JavaScript, run in Node.js against a tiny DOM stand-in.

Skipped where `node` is not installed. It checks what the website reader does:
moving a slider or picking a radio button shows the frame of the new setting, play
steps the animated slider (wrapping at the end) with a timer, another slider keeps
working while it plays, dragging the animated slider or pressing pause stops the timer.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from gentorch import widgets

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

DOM = r"""
function El(value) {
  return {value: value, listeners: {}, attrs: {}, textContent: "", innerHTML: "",
    addEventListener(t, f) { (this.listeners[t] = this.listeners[t] || []).push(f); },
    setAttribute(k, v) { this.attrs[k] = v; },
    fire(t) { (this.listeners[t] || []).forEach(f => f({preventDefault() {}})); }};
}
// a range slider per number, a fieldset of radio buttons per named choice
function Radios(checked) {
  const group = El(null);
  group.type = "fieldset"; group.checked = checked;
  group.querySelector = () => ({value: String(group.checked)});
  Object.defineProperty(group, "value", {get: () => String(group.checked)});
  return group;
}
const inputs = START.map((v, i) => {
  if (KINDS[i] === "radio") { return Radios(v); }
  const inp = El(String(v)); inp.type = "range"; return inp;
});
inputs.forEach(inp => { inp.nextElementSibling = El(); });
const img = El(), btn = El();
// like the real DOM: no <button> unless the explorer has a player
const root = {id: UID, querySelectorAll() { return inputs; },
  querySelector(s) { return s === "img" ? img : (HAS_BUTTON ? btn : null); }};
let timers = {}, next = 0;
global.setInterval = (f, ms) => { timers[++next] = [f, ms]; return next; };
global.clearInterval = id => { delete timers[id]; };
global.document = {
  currentScript: {parentElement: root}, getElementById() { return root; }};
const log = [];
function look(what) {
  log.push({what, src: img.src, values: inputs.map(i => i.value),
    labels: inputs.map(i => i.nextElementSibling.textContent),
    timers: Object.keys(timers).length, pressed: btn.attrs["aria-pressed"] || null,
    interval: Object.values(timers).map(t => t[1])[0] || null});
}
"""

PLAYBACK = r"""
inputs[0].value = "2"; inputs[0].fire("input"); look("move a");
btn.fire("click"); look("play");
Object.values(timers)[0][0](); look("tick");
Object.values(timers)[0][0](); look("tick");
inputs[0].value = "0"; inputs[0].fire("input"); look("move a while playing");
inputs[1].value = "1"; inputs[1].fire("input"); look("drag the animated slider");
btn.fire("click"); look("play again");
btn.fire("click"); look("pause");
"""
SLIDE = r"""
inputs[0].value = "1"; inputs[0].fire("input"); look("move a");
btn.fire("click"); look("click where no button is");
"""


def run_script(explorer, actions):
    html = explorer.to_html()
    script = re.search(r"<script>(.*)</script>", html, re.S).group(1)
    uid = re.search(r'id="([^"]+)"', html).group(1)
    start = [
        options.index(explorer.initial[name])
        for name, options in explorer.params.items()
    ]
    dom = DOM.replace("START", json.dumps(start)).replace("UID", json.dumps(uid))
    dom = dom.replace("HAS_BUTTON", json.dumps('class="gt-play"' in html))
    kinds = ["range" if explorer._is_slider(n) else "radio" for n in explorer.params]
    dom = dom.replace("KINDS", json.dumps(kinds))
    program = dom + script + actions + "console.log(JSON.stringify(log));"
    out = subprocess.run(
        ["node", "-e", program], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def test_sliders_and_playback_show_the_right_frames():
    params = {"a": [0, 1, 2], "b": ["w", "x", "y", "z"]}
    explorer = widgets.Explorer(
        lambda fig, a, b: fig.text(0.1, 0.5, f"{a}{b}"),
        params,
        animate="b",
        interval_ms=250,
        figsize=(1, 1),
        dpi=10,
        format="png",
        initial={"a": 1, "b": "z"},
    )
    frames = explorer.frames()

    def frame(a, b):  # the image drawn for grid position (a, b), row-major
        return "data:image/png;base64," + frames[a * 4 + b]

    steps = run_script(explorer, PLAYBACK)
    log = {entry["what"]: entry for entry in steps}
    assert log["move a"]["src"] == frame(2, 3)
    assert log["move a"]["labels"] == ["2", "z"]
    # play: one step at once (wrapping from the last value to the first), a timer
    play = log["play"]
    assert play["src"] == frame(2, 0) and play["labels"] == ["2", "w"]
    assert play["timers"] == 1 and play["pressed"] == "true"
    assert play["interval"] == 250
    assert steps[2]["src"] == frame(2, 1)  # the first tick
    assert log["move a while playing"]["src"] == frame(0, 2)
    assert log["move a while playing"]["timers"] == 1
    stopped = log["drag the animated slider"]
    assert stopped["timers"] == 0 and stopped["pressed"] == "false"
    assert stopped["src"] == frame(0, 1)
    assert log["play again"]["timers"] == 1
    assert log["pause"]["timers"] == 0 and log["pause"]["pressed"] == "false"


def test_without_animate_there_is_no_player():
    explorer = widgets.Explorer(
        lambda fig, a: None, {"a": [0, 1]}, figsize=(1, 1), dpi=10, format="png"
    )
    log = run_script(explorer, SLIDE.replace("btn.fire", "btn && btn.fire"))
    assert log[0]["src"].endswith(explorer.frames()[1])
    assert log[0]["labels"] == ["1"]
    assert all(entry["timers"] == 0 for entry in log)


def test_radio_buttons_pick_the_frame_of_their_option():
    params = {"a": [0, 1, 2], "cov": ["shared", "per class"]}
    explorer = widgets.Explorer(
        lambda fig, a, cov: fig.text(0.1, 0.5, f"{a}{cov}"),
        params,
        figsize=(1, 1),
        dpi=10,
        format="png",
        initial={"a": 2, "cov": "per class"},
    )
    frames = explorer.frames()
    actions = r"""
    inputs[1].checked = 0; inputs[1].fire("change"); look("pick shared");
    inputs[0].value = "0"; inputs[0].fire("input"); look("move a");
    inputs[1].checked = 1; inputs[1].fire("change"); look("pick per class");
    """
    log = {entry["what"]: entry for entry in run_script(explorer, actions)}
    assert log["pick shared"]["src"].endswith(frames[2 * 2 + 0])
    assert log["move a"]["src"].endswith(frames[0 * 2 + 0])
    assert log["move a"]["labels"][0] == "0"
    assert log["pick per class"]["src"].endswith(frames[0 * 2 + 1])
