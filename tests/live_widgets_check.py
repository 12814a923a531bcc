"""Drive the live explorers in a classic Jupyter Notebook with Colab's ipywidgets 7.7.1.

Colab ships ipywidgets 7.7.1 and a classic-notebook-like front end; `make test` only
runs the chapters in a kernel, and ipywidgets 8 in JupyterLab is what gets looked at
by hand. This script looks at the live view the way a Colab reader gets it: it starts
the classic notebook (notebook 6.5) from a separate virtual environment with
ipywidgets 7.7.1 / widgetsnbextension 3.6, opens each notebook in headless Chromium,
runs Kernel -> Restart & Run All (GENTORCH_SMOKE=1), and then, on every explorer that
`gt.explore` put on the page:

* moves each slider, with the keyboard on its handle and with a click on its track,
* picks another option in each dropdown and each set of toggle buttons,
* presses each play button, lets it run about 2 s, and presses pause,

checking after each action that the slider readout (or dropdown value) changed and
that the explorer's figure (the <img> in its Output widget) was redrawn, and that a
setting seen twice shows the same figure. It fails on a Python error in a cell, a
widget error in an output ("Error displaying widget", "Failed to load model class",
"model not found", ...), an explorer shown as its static HTML instead of live controls,
a live view the front end hid, a figure that landed in the cell's output instead of
the explorer, or an error in the page's JavaScript console. It writes screenshots and
prints a table of control -> before/after.

Not part of `make test` (it needs Chromium, Selenium and its own environment):

    apt-get install chromium chromium-driver
    python3 tests/live_widgets_check.py --setup      # makes .scratch/venv-colab once
    .scratch/venv-colab/bin/python tests/live_widgets_check.py [NOTEBOOK ...]

Notebooks default to chapters/*.ipynb; a small generated notebook with play buttons
(`gt.explore(..., animate="step", static=False)`) is checked too unless --no-fixture
is given (--fixture-only checks only it). Screenshots go to _build/live-screens by
default (--screenshots DIR). --pythonpath DIR checks a patched gentorch/ in DIR
without installing it; --repeat N and --run cell (Cell > Run All on the kernel that
opening the notebook started) look for timing-dependent failures.

The environment lives under .scratch/ (git-ignored, and skipped by the tests that walk
the repository). Another widget front end can be tried by installing it there, e.g.
`.scratch/venv-colab/bin/pip install widgetsnbextension==3.6.10`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from chromium import CHROMIUM_FLAGS as SHARED_FLAGS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_VENV = ROOT / ".scratch" / "venv-colab"
TOKEN = "gentorch-live-check"
# Colab's widget stack (ipywidgets 7.7.1, classic notebook) around the book's pins.
# widgetsnbextension is the classic notebook's widget front end (Colab has its own):
# 3.6.1 is the one released with ipywidgets 7.7.1. Left to pip, ipywidgets 7.7.1
# gets 3.6.10, and 3.6.7 to 3.6.10 cannot create any ipywidgets.Output in the classic
# notebook ("_deserialize_state is not a function" in the console, the widget never
# shows, captured output lands in the cell): that is a front-end bug, not one of the
# book, and not what a Colab reader meets.
COLAB_STACK = [
    "notebook==6.5.7",
    "ipywidgets==7.7.1",
    "widgetsnbextension==3.6.1",
    "ipykernel",
    "numpy==2.1.3",
    "matplotlib==3.10.0",
    "scikit-learn==1.6.1",
    "tqdm",
    "selenium",
]
VERSIONS = [
    "ipywidgets",
    "widgetsnbextension",
    "notebook",
    "ipykernel",
    "ipython",
    "jupyter_client",
    "traitlets",
    "tornado",
    "torch",
    "matplotlib",
    "selenium",
]
# What the widget front end writes into an output when it cannot show a widget.
WIDGET_ERRORS = re.compile(
    r"Error displaying widget|Error rendering Jupyter widget|Failed to load model class"
    r"|model not found|A Jupyter widget could not be displayed"
    r"|Widget Javascript not detected",
    re.IGNORECASE,
)
# Console errors of the classic notebook itself, not of widgets: its MathJax 2 asks
# for font files that notebook 6.5 does not ship. Printed, not failed (unless
# --strict-console).
BENIGN_CONSOLE = (
    r"/static/components/MathJax/fonts/.* 404",
    r"Access to font at 'about:blank'",
    r"^about:blank - Failed to load resource",
)
CHROMIUM_FLAGS = (*SHARED_FLAGS, "--window-size=1400,1000")

FIXTURE_CELLS = [
    "import gentorch as gt\nimport numpy as np",
    "def draw(fig, step, kind):\n"
    "    ax = fig.subplots()\n"
    "    x = np.linspace(0, 1, 200)\n"
    '    y = (step + 1) * x if kind == "a" else np.sin(3 * (step + 1) * x)\n'
    "    ax.plot(x, y)\n"
    "    ax.set(ylim=(-1.1, 10.5))\n"
    '    ax.set_title(f"step={step} kind={kind}")',
    "# the brief's explorer: 4 steps, so play runs to the end within ~2.4 s\n"
    'gt.explore(draw, {"step": [0, 1, 2, 3], "kind": ["a", "b"]}, animate="step",'
    ' static=False, figsize=(5, 2.5), title="play fixture: 4 steps")',
    "# 10 steps: still playing after ~2 s, so pressing pause must stop it\n"
    'gt.explore(draw, {"step": list(range(10)), "kind": ["a", "b"]},'
    ' animate="step", static=False, figsize=(5, 2.5), title="play fixture: 10 steps")',
]


# -- environment ---------------------------------------------------------------------
def setup_venv(venv: Path) -> None:
    """Create the Colab-like environment (pip's CPU torch wheel, ipywidgets 7.7.1)."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, *COLAB_STACK], check=True)
    subprocess.run([*pip, "--no-deps", "-e", str(ROOT)], check=True)
    jupyter = str(venv / "bin" / "jupyter")
    subprocess.run(
        [
            jupyter,
            "nbextension",
            "enable",
            "--py",
            "widgetsnbextension",
            "--sys-prefix",
        ],
        check=True,
    )
    subprocess.run(
        [
            str(python),
            "-m",
            "ipykernel",
            "install",
            "--sys-prefix",
            "--name",
            "python3",
        ],
        check=True,
    )


def versions(venv: Path) -> dict[str, str]:
    code = (
        "import json, importlib.metadata as m\n"
        f"names = {VERSIONS!r}\n"
        "out = {}\n"
        "for n in names:\n"
        "    try:\n"
        "        out[n] = m.version(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        out[n] = 'missing'\n"
        "print(json.dumps(out))"
    )
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout)


def check_environment(venv: Path, env: dict[str, str], failures: list[str]) -> None:
    jupyter = str(venv / "bin" / "jupyter")
    listing = subprocess.run(
        [jupyter, "nbextension", "list"], env=env, capture_output=True, text=True
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    if not re.search(r"jupyter-js-widgets/extension\s+enabled", text):
        failures.append(f"widgets nbextension not enabled:\n{text}")
    specs = subprocess.run(
        [jupyter, "kernelspec", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    spec = json.loads(specs.stdout)["kernelspecs"].get("python3")
    argv0 = spec["spec"]["argv"][0] if spec else "none"
    # a bare "python" is replaced by the server's own Python (jupyter_client)
    bare = {"python", "python3", f"python3.{sys.version_info[1]}"}
    if argv0 not in bare and not Path(argv0).absolute().is_relative_to(venv.absolute()):
        failures.append(f"kernel python3 runs {argv0}, not the venv's Python")


# -- notebook server -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(venv: Path, workdir: Path, env: dict[str, str]):
    port = free_port()
    log = open(workdir / "server.log", "w")  # noqa: SIM115 (closed by the caller)
    server = subprocess.Popen(
        [
            str(venv / "bin" / "jupyter"),
            "notebook",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--port-retries=0",
            f"--NotebookApp.token={TOKEN}",
            f"--notebook-dir={workdir / 'notebooks'}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if server.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2):
                return server, log, base
        except OSError:
            time.sleep(0.3)
    server.kill()
    log.close()
    raise RuntimeError(
        f"the notebook server did not start:\n{(workdir / 'server.log').read_text()}"
    )


def write_fixture(path: Path) -> None:
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }
        for source in FIXTURE_CELLS
    ]
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": "Python 3",
                "language": "python",
                "name": "python3",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))


# -- browser -------------------------------------------------------------------------
def browser():
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def digest(text: str | None) -> str:
    return hashlib.sha1((text or "").encode()).hexdigest()[:10]


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


# Progress of Restart & Run All: prompts of the code cells and the kernel's state.
PROGRESS_JS = """
const nb = Jupyter.notebook;
const cells = nb.get_cells().filter(c => c.cell_type === 'code');
return {
  total: cells.length,
  done: cells.filter(c => typeof c.input_prompt_number === 'number').length,
  running: cells.filter(c => c.input_prompt_number === '*').length,
  errors: document.querySelectorAll('.output_error').length,
  idle: !!document.querySelector('#kernel_indicator_icon.kernel_idle_icon'),
  busy: nb.kernel ? nb.kernel_busy : true,
};
"""

# The explorer's figure: an <img> in its Output widget (ipywidgets 8: .widget-output,
# 7: .jupyter-widgets-output-area), or an Image widget.
FIGURE = ".widget-output img, .jupyter-widgets-output-area img, img.widget-image"
# Every explorer: a widget view (shown) holding a figure area and controls.
EXPLORERS_JS = """
return Array.from(document.querySelectorAll('.output_subarea.jupyter-widgets-view'))
  .filter(v => v.style.display !== 'none' &&
          v.querySelector('.widget-output, .jupyter-widgets-output-area, .widget-image')
          && v.querySelector(
            '.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-play'));
"""
# What each cell that calls gt.explore shows: live views (shown or hidden by the
# front end) and images outside any widget (a figure that missed its Output widget).
EXPLORE_CELLS_JS = """
return Jupyter.notebook.get_cells()
  .map((c, i) => [i, c])
  .filter(([i, c]) => c.cell_type === 'code' && /^gt\\.explore\\(/m.test(c.get_text()))
  .map(([i, c]) => {
    const el = c.element[0];
    const views = Array.from(
      el.querySelectorAll('.output_subarea.jupyter-widgets-view'));
    return {
      cell: i,
      shown: views.filter(v => v.style.display !== 'none').length,
      hidden: views.filter(v => v.style.display === 'none').length,
      stray: Array.from(el.querySelectorAll('.output_area img'))
        .filter(im => !im.closest('.jupyter-widgets-view')).length,
    };
  });
"""


@dataclass
class Row:
    notebook: str
    control: str
    action: str
    before: str
    after: str
    fig_before: str
    fig_after: str
    ok: bool
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        status = "ok" if row.ok else "FAIL"
        print(
            f"  [{status}] {row.control} {row.action}: {row.before} -> {row.after}, "
            f"figure {row.fig_before} -> {row.fig_after} {row.note}",
            flush=True,
        )
        if not row.ok:
            self.failures.append(
                f"{row.notebook}: {row.control} {row.action} {row.note}".strip()
            )


class ExplorerView:
    """One explorer on the page: its figure and its controls."""

    def __init__(self, driver, element, name: str):
        from selenium.webdriver.common.by import By

        self.By = By
        self.driver = driver
        self.element = element
        self.name = name
        self.seen: dict[tuple, str] = {}

    def img_src(self) -> str | None:
        return self.driver.execute_script(
            "const i = arguments[0].querySelector(arguments[1]);"
            "return i ? i.getAttribute('src') : null;",
            self.element,
            FIGURE,
        )

    def figure(self) -> str:
        """A digest of the figure's image: of its data: URL, or of a blob's bytes.

        ipywidgets' Image view shows its bytes through a fresh blob: URL after every
        update, so for it the bytes are what say whether the figure changed.
        """
        src = self.img_src()
        if not src:
            return "no-img"
        if src.startswith("blob:"):
            src = self.driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => {"
                "  const u = new Uint8Array(b); let s = '';"
                "  for (let i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);"
                "  done(btoa(s)); }).catch(e => done('fetch failed: ' + e));",
                src,
            )
        return digest(src)

    def state(self) -> tuple:
        """The readouts of every slider and the value of every dropdown."""
        return tuple(
            self.driver.execute_script(
                "return Array.from(arguments[0].querySelectorAll("
                "'.widget-slider .widget-readout, .widget-dropdown select, "
                ".widget-toggle-buttons button.mod-active'))"
                ".map(e => e.tagName === 'SELECT' ? "
                "e.options[e.selectedIndex].text : e.textContent.trim());",
                self.element,
            )
        )

    def settle(self, previous_figure: str, timeout: float = 20.0) -> str:
        """Wait for the figure to change from `previous_figure` and stop changing."""
        deadline = time.time() + timeout
        wait_for(lambda: self.figure() != previous_figure, timeout)
        last, stable_since = self.figure(), time.time()
        while time.time() - stable_since < 0.8 and time.time() < deadline:
            time.sleep(0.1)
            now = self.figure()
            if now != last:
                last, stable_since = now, time.time()
        return last

    def remember(self, report: Report, notebook: str) -> None:
        """A setting seen before must show the figure it showed then."""
        state, fig = self.state(), self.figure()
        if state in self.seen and self.seen[state] != fig:
            report.failures.append(
                f"{notebook}: {self.name} at {state} shows figure {fig}, "
                f"earlier {self.seen[state]}"
            )
        self.seen.setdefault(state, fig)

    def scroll(self) -> None:
        self.driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", self.element
        )


def control_name(driver, element, kind: str, index: int) -> str:
    label = driver.execute_script(
        "const l = arguments[0].querySelector('.widget-label');"
        "return l ? l.textContent.trim() : '';",
        element,
    )
    return f"{kind} {label or index}"


def record(view, report, step, shot, changed):
    """Wait for the figure to settle after an action, then log it and take a shot.

    `step` is (notebook, control, action, value before, value after, figure before);
    `changed` (called after the figure settled) says whether the control's own value
    moved as it should. The row passes when it did and the figure was redrawn.
    """
    nb, name, action, before, after, fig_before = step
    fig_after = view.settle(fig_before)
    ok = changed() and fig_after != fig_before and fig_after != "no-img"
    report.add(Row(nb, name, action, before, after, fig_before, fig_after, ok))
    view.remember(report, nb)
    view.driver.save_screenshot(str(shot))
    return fig_after


def check_slider(view: ExplorerView, slider, name, nb, report, shots, tag) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = view.driver

    def readout() -> str:
        return driver.execute_script(
            "return arguments[0].querySelector('.widget-readout').textContent.trim()",
            slider,
        )

    handle = slider.find_element(view.By.CSS_SELECTOR, ".ui-slider-handle")
    track = slider.find_element(view.By.CSS_SELECTOR, ".ui-slider")
    # 1. keyboard: an arrow on the focused handle (right, or left at the end)
    before, fig_before = readout(), view.figure()
    for key in (Keys.ARROW_RIGHT, Keys.ARROW_LEFT):
        driver.execute_script("arguments[0].focus()", handle)
        handle.send_keys(key)
        if wait_for(lambda: readout() != before, 1.0):
            break
    after = readout()
    step = (nb, name, "arrow key", before, after, fig_before)
    shot = shots / f"{tag}-key.png"
    fig_after = record(view, report, step, shot, lambda: after != before)
    # 2. mouse: a click near the track's far end from the handle
    before, fig_before = after, fig_after
    width = track.size["width"]
    handle_x = handle.location["x"] - track.location["x"]
    x = 0.45 * width if handle_x < width / 2 else -0.45 * width
    ActionChains(driver).move_to_element_with_offset(track, int(x), 0).click().perform()
    wait_for(lambda: readout() != before, 2.0)
    after = readout()
    step = (nb, name, "track click", before, after, fig_before)
    shot = shots / f"{tag}-click.png"
    record(view, report, step, shot, lambda: after != before)


def check_dropdown(view: ExplorerView, dropdown, name, nb, report, shots, tag) -> None:
    from selenium.webdriver.support.ui import Select

    select = Select(dropdown.find_element(view.By.TAG_NAME, "select"))
    options = [o.text for o in select.options]
    before, fig_before = select.first_selected_option.text, view.figure()
    if len(options) < 2:
        report.add(
            Row(nb, name, "select", before, before, fig_before, fig_before, True, "")
        )
        return
    target = next(i for i, o in enumerate(options) if o != before)
    select.select_by_index(target)
    after = select.first_selected_option.text
    step = (nb, name, "select", before, after, fig_before)
    shot = shots / f"{tag}-select.png"
    record(view, report, step, shot, lambda: after != before)


def check_toggle(view: ExplorerView, toggles, name, nb, report, shots, tag) -> None:
    """Click a ToggleButtons option other than the selected one (a named choice)."""
    buttons = toggles.find_elements(view.By.CSS_SELECTOR, "button")
    selected = [b for b in buttons if "mod-active" in (b.get_attribute("class") or "")]
    before = selected[0].text if selected else ""
    fig_before = view.figure()
    others = [b for b in buttons if b.text != before]
    if not others:
        row = Row(nb, name, "toggle", before, before, fig_before, fig_before, True, "")
        report.add(row)
        return
    after = others[0].text
    others[0].click()

    def active() -> list[str]:
        # ipywidgets 7 redraws the buttons on a change: look them up again
        found = toggles.find_elements(view.By.CSS_SELECTOR, "button.mod-active")
        return [b.text for b in found]

    step = (nb, name, "toggle", before, after, fig_before)
    shot = shots / f"{tag}-toggle.png"
    record(view, report, step, shot, lambda: active() == [after])


def check_play(view: ExplorerView, play, name, nb, report, shots, tag) -> None:
    from selenium.webdriver.common.keys import Keys

    driver = view.driver
    # the slider that the play button is linked to sits in the same row (HBox)
    row = driver.execute_script("return arguments[0].parentElement", play)
    slider = row.find_element(view.By.CSS_SELECTOR, ".widget-slider")
    handle = slider.find_element(view.By.CSS_SELECTOR, ".ui-slider-handle")

    def readout() -> str:
        return driver.execute_script(
            "return arguments[0].querySelector('.widget-readout').textContent.trim()",
            slider,
        )

    def button(icon: str):
        xpath = f".//button[.//i[contains(@class,'{icon}')]]"
        return play.find_element(view.By.XPATH, xpath)

    def playing() -> bool:  # the pause button is enabled only while playing
        return button("fa-pause").is_enabled()

    # 1. back to the first step: the stop button (or Home on the slider's handle)
    before, fig_before = readout(), view.figure()
    stop = button("fa-stop")
    if stop.is_enabled():
        stop.click()
        how = "stop button"
    else:
        driver.execute_script("arguments[0].focus()", handle)
        handle.send_keys(Keys.HOME)
        how = "Home key"
    wait_for(lambda: readout() != before, 2.0)
    first = readout()
    if first == before:
        fig_first, ok, note = fig_before, True, "(already at the first step)"
    else:
        fig_first = view.settle(fig_before)
        ok, note = fig_first != fig_before, ""
    report.add(Row(nb, name, how, before, first, fig_before, fig_first, ok, note))
    view.remember(report, nb)
    # 2. play for about 2 s, watching the readout and the figure
    readouts, figures = [first], [fig_first]
    button("fa-play").click()
    start = time.time()
    while time.time() - start < 2.0:
        time.sleep(0.05)
        r, f = readout(), view.figure()
        if r != readouts[-1]:
            readouts.append(r)
        if f != figures[-1]:
            figures.append(f)
    driver.save_screenshot(str(shots / f"{tag}-playing.png"))
    # 3. pause; a paused player does not move (1.5 s: more than two frames)
    was_playing = playing()
    if was_playing:
        button("fa-pause").click()
    paused_at = readout()
    time.sleep(1.5)
    still = readout()
    fig_after = view.settle(figures[-1], timeout=5.0)
    note = f"steps seen {readouts}, {len(set(figures))} distinct figures"
    # three steps in 2 s, each with its own figure (fewer for a shorter axis
    # that the player ran to its end)
    wanted = 3 if was_playing else min(3, len(readouts))
    ok = len(readouts) >= max(wanted, 2) and len(set(figures)) >= max(wanted, 2)
    if not was_playing:
        note += "; ran to its end before pause"
    if still != paused_at or playing():
        ok = False
        note += f"; still playing after pause ({paused_at} -> {still})"
    report.add(
        Row(nb, name, "play ~2 s, pause", first, still, fig_first, fig_after, ok, note)
    )
    view.remember(report, nb)
    driver.save_screenshot(str(shots / f"{tag}-paused.png"))


def run_notebook(driver, base, file, name, shots: Path, report, timeout, how):
    """Run notebook `file` (reported as `name`) from the menu, then its explorers."""
    from selenium.webdriver.common.by import By

    stem = re.sub(r"\W+", "-", name.replace(".ipynb", "")).strip("-")
    started = time.time()
    print(f"\n== {name}", flush=True)
    driver.get(f"{base}/notebooks/{file}?token={TOKEN}")
    ready = wait_for(
        lambda: driver.execute_script(
            "return !!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel"
            " && Jupyter.notebook.kernel.is_connected()"
            " && Jupyter.notebook.kernel.widget_manager)"
        ),
        60,
        0.3,
    )
    if not ready:
        report.failures.append(f"{name}: no kernel or no widget manager after 60 s")
        driver.save_screenshot(str(shots / f"{stem}-not-ready.png"))
        return
    if how == "restart":  # Kernel > Restart & Run All, through the menu
        driver.find_element(By.ID, "kernellink").click()
        driver.find_element(By.CSS_SELECTOR, "#restart_run_all > a").click()
        confirm = wait_for(
            lambda: [
                b
                for b in driver.find_elements(By.CSS_SELECTOR, ".modal-footer button")
                if "Restart" in b.text and b.is_displayed()
            ],
            10,
        )
        if not confirm:
            report.failures.append(f"{name}: no Restart & Run All dialog")
            return
        confirm[0].click()
    else:  # Cell > Run All
        driver.find_element(By.LINK_TEXT, "Cell").click()
        driver.find_element(By.CSS_SELECTOR, "#run_all_cells > a").click()
    time.sleep(1.0)

    def finished():
        p = driver.execute_script(PROGRESS_JS)
        settled = p["idle"] and not p["busy"] and p["running"] == 0
        return p if settled and (p["done"] == p["total"] or p["errors"]) else None

    progress = wait_for(finished, timeout, 0.5)
    ran = time.time() - started
    last = driver.execute_script(PROGRESS_JS)
    print(f"  ran {last['done']}/{last['total']} code cells in {ran:.0f} s", flush=True)
    driver.save_screenshot(str(shots / f"{stem}-after-run.png"))
    if not progress:
        report.failures.append(f"{name}: not finished after {timeout} s ({last})")
    errors = driver.execute_script(
        "return Array.from(document.querySelectorAll('.output_error'))"
        ".map(e => e.textContent.trim().split('\\n').slice(-3).join(' | '))"
    )
    for error in errors:
        report.failures.append(f"{name}: Python error in a cell: {error[:300]}")
    outputs = driver.execute_script(
        "return Array.from(document.querySelectorAll('.output_area'))"
        ".map(e => e.innerText)"
    )
    for text in outputs:
        match = WIDGET_ERRORS.search(text)
        if match:
            report.failures.append(f"{name}: widget error in an output: {text[:300]!r}")
    static = driver.execute_script(
        "return document.querySelectorAll("
        "'.output_area .gt-explorer, .output_area .gt-explorer-preview').length"
    )
    if static:
        report.failures.append(
            f"{name}: {static} explorer(s) shown as static HTML, not as live controls"
        )

    for cell in driver.execute_script(EXPLORE_CELLS_JS):
        where = f"{name}: cell {cell['cell']} (gt.explore)"
        if cell["hidden"] or not cell["shown"]:
            report.failures.append(
                f"{where}: live view not shown ({cell['shown']} shown, "
                f"{cell['hidden']} hidden by the front end)"
            )
        if cell["stray"]:
            report.failures.append(
                f"{where}: {cell['stray']} figure(s) in the cell output, outside "
                "the explorer (output meant for its Output widget went astray)"
            )
    explorers = driver.execute_script(EXPLORERS_JS)
    sources = driver.execute_script(
        "return Jupyter.notebook.get_cells().map(c => c.get_text()).join('\\n')"
    )
    expected = len(re.findall(r"^gt\.explore\(", sources, flags=re.MULTILINE))
    print(f"  {len(explorers)} live explorer(s) ({expected} expected)", flush=True)
    if len(explorers) < expected:
        report.failures.append(
            f"{name}: {len(explorers)} live explorers, {expected} gt.explore cells"
        )
    for e, element in enumerate(explorers):
        view = ExplorerView(driver, element, f"explorer {e}")
        view.scroll()
        time.sleep(0.3)
        if view.figure() == "no-img":
            report.failures.append(f"{name}: explorer {e} shows no figure")
            continue
        view.remember(report, name)
        driver.save_screenshot(str(shots / f"{stem}-explorer{e}-initial.png"))
        sliders = element.find_elements(By.CSS_SELECTOR, ".widget-slider")
        dropdowns = element.find_elements(By.CSS_SELECTOR, ".widget-dropdown")
        toggles = element.find_elements(By.CSS_SELECTOR, ".widget-toggle-buttons")
        plays = element.find_elements(By.CSS_SELECTOR, ".widget-play")
        for kind, controls, check in (
            ("slider", sliders, check_slider),
            ("dropdown", dropdowns, check_dropdown),
            ("toggle", toggles, check_toggle),
            ("play", plays, check_play),
        ):
            for c, control in enumerate(controls):
                if kind == "play":  # named after the slider in its row
                    row = driver.execute_script(
                        "return arguments[0].parentElement", control
                    )
                    cname = f"explorer {e} " + control_name(driver, row, kind, c)
                else:
                    cname = f"explorer {e} " + control_name(driver, control, kind, c)
                tag = f"{stem}-explorer{e}-{kind}{c}"
                view.scroll()
                check(view, control, cname, name, report, shots, tag)
    print(f"  {name}: {time.time() - started:.0f} s in all", flush=True)


def console_errors(driver, name: str, allow: list[re.Pattern], report: Report):
    for entry in driver.get_log("browser"):
        if entry["level"] not in ("SEVERE",):
            continue
        message = entry["message"]
        if any(p.search(message) for p in allow):
            print(f"  (allowed console error) {message[:200]}")
            continue
        report.failures.append(f"{name}: JS console error: {message[:300]}")


def print_table(rows: list[Row]) -> None:
    if not rows:
        return
    header = ("notebook", "control", "action", "before", "after", "figure", "result")
    table = [
        (
            Path(r.notebook).stem[:28],
            r.control,
            r.action,
            r.before,
            r.after,
            f"{r.fig_before} -> {r.fig_after}",
            "ok" if r.ok else "FAIL",
        )
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [header, *table]) for i in range(7)]
    print()
    for line in [header, *table]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default chapters/")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--setup", action="store_true", help="create the venv, stop")
    parser.add_argument("--no-fixture", action="store_true")
    parser.add_argument("--fixture-only", action="store_true", help="no chapters")
    parser.add_argument(
        "--screenshots", type=Path, default=ROOT / "_build" / "live-screens"
    )
    parser.add_argument("--timeout", type=float, default=600, help="per notebook")
    parser.add_argument(
        "--run",
        choices=["restart", "cell"],
        default="restart",
        help="Kernel > Restart & Run All (default), or Cell > Run All on the kernel "
        "that opening the notebook started, as a reader who just opened it",
    )
    parser.add_argument(
        "--pythonpath",
        type=Path,
        help="put this folder first on the kernel's sys.path (e.g. one holding a "
        "patched gentorch/, to check a fix without installing it)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each notebook N times (the widget front end is asynchronous: "
        "a race can show up in some runs only)",
    )
    parser.add_argument(
        "--allow-console",
        action="append",
        default=[],
        metavar="REGEX",
        help="ignore console errors matching this (repeatable)",
    )
    parser.add_argument(
        "--strict-console",
        action="store_true",
        help="fail on the classic notebook's own MathJax font errors too",
    )
    args = parser.parse_args()
    venv = args.venv.absolute()
    if args.setup:
        setup_venv(venv)
        print(json.dumps(versions(venv), indent=1))
        return 0
    if not (venv / "bin" / "jupyter").exists():
        print(f"no Colab-like venv at {venv}: run with --setup first", file=sys.stderr)
        return 2
    notebooks = args.notebooks or sorted((ROOT / "chapters").glob("*.ipynb"))
    if args.fixture_only:
        notebooks = []
    t0 = time.time()
    report = Report()
    found = versions(venv)
    print("Colab-like stack:", ", ".join(f"{k} {v}" for k, v in found.items()))
    if not found["ipywidgets"].startswith("7."):
        report.failures.append(f"ipywidgets {found['ipywidgets']}, not 7.x as Colab")
    shots = args.screenshots
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    patterns = [*args.allow_console, *([] if args.strict_console else BENIGN_CONSOLE)]
    allow = [re.compile(p) for p in patterns]

    with tempfile.TemporaryDirectory(prefix="gt-live-") as tmp:
        work = Path(tmp)
        (work / "notebooks").mkdir()
        # the chapters read benchmark results with gt.utils.book_file, which looks
        # for them in the checkout above the notebook's folder ("..") before it
        # downloads them: put them there, so the check runs offline
        results = ROOT / "benchmarks" / "results"
        if results.is_dir():
            shutil.copytree(results, work / "benchmarks" / "results")
        names = []
        for path in notebooks:
            shutil.copy(path, work / "notebooks" / path.name)
            names.append(path.name)
        if not args.no_fixture:
            write_fixture(work / "notebooks" / "live_widgets_fixture.ipynb")
            names.append("live_widgets_fixture.ipynb")
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"MPLBACKEND", "VIRTUAL_ENV", "PYTHONPATH", "JUPYTER_PATH"}
        }
        env.update(
            GENTORCH_SMOKE="1",
            PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            # no user-level Jupyter config, data or kernels: only the venv's
            JUPYTER_CONFIG_DIR=str(work / "config"),
            JUPYTER_DATA_DIR=str(work / "data"),
            JUPYTER_RUNTIME_DIR=str(work / "runtime"),
            IPYTHONDIR=str(work / "ipython"),
        )
        if args.pythonpath:
            env["PYTHONPATH"] = str(args.pythonpath.absolute())
        check_environment(venv, env, report.failures)
        server, log, base = start_server(venv, work, env)
        driver = browser()
        try:
            for name in names:
                for run in range(args.repeat):
                    label = name if args.repeat == 1 else f"{name} (run {run + 1})"
                    run_notebook(
                        driver, base, name, label, shots, report, args.timeout, args.run
                    )
                    console_errors(driver, label, allow, report)
                driver.get("about:blank")  # leave the notebook before the next one
                time.sleep(0.5)
        finally:
            driver.quit()
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            shutil.copy(work / "server.log", shots / "server.log")

    print_table(report.rows)
    print()
    for failure in report.failures:
        print("FAIL:", failure)
    print(f"screenshots: {shots}")
    print(
        f"live widgets check: {'failed' if report.failures else 'passed'} "
        f"in {time.time() - t0:.0f} s"
    )
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
