"""Look at the built site as a reader would: headless Chromium, driven by Selenium.

Not part of `make test` (it needs a built site, Chromium and Selenium). Run it after
`make book`, before a release:

    apt-get install chromium chromium-driver && .venv/bin/pip install selenium
    .venv/bin/python tests/site_check.py [--screenshots DIR]

The site is served on 127.0.0.1 and the browser can reach nothing else (every other host
name resolves to nothing), so a page that needs the internet fails here. It checks:

* the files (no browser): no page loads a script or stylesheet from another host (nor
  names one in an inline script); every chapter page's own bytes (its HTML, with the
  explorers' frames inside, plus the images it references) stay under the page-size
  budget, 5 MB (the theme's and MathJax's files, shared by every page, are printed);
* every page (chapters, front matter, indices): the browser console shows no error and
  no warning from the page's own scripts; every formula is typeset by the site's own
  MathJax (none left as raw TeX, no MathJax error);
* every chapter page: figures are present, no live ipywidget placeholder shows (a
  control that needs a kernel must not appear), the "open in Colab" link points at the
  notebook, no code cell or output scrolls sideways (its text is wider than its box),
  each slider and each radio button of each kernel-free explorer changes the figure
  (and the radio first checked brings the first figure back), and an explorer's
  play/pause button (where it has one) animates the figure and stops it;
* every chapter's executed notebook (from the build's jupyter-cache): every line it
  printed is in the page's visible text, and no output that the site drops (a bare
  ``text/plain`` repr) is anything but known junk (tqdm fallbacks, matplotlib reprs).

It writes screenshots and exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import html.parser
import http.server
import re
import sys
import threading
import time
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from chromium import CHROMIUM_FLAGS
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
PAGE_BUDGET = 5_000_000  # bytes: a chapter page's HTML plus its own files (images)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# Cells whose outputs the site does not show on purpose (Jupyter Book tags).
HIDDEN_OUTPUT_TAGS = {"remove-cell", "remove_cell", "remove-output", "remove_output"}
# Bare text/plain reprs that the site may drop (_config.yml drops text/plain for HTML):
# tqdm's fallback for its widget bar, and reprs of objects a cell happens to return.
JUNK_REPRS = [
    re.compile(p, re.DOTALL)
    for p in (
        # tqdm's bar: "desc:   0%|          | 0/2000 [00:00<?, ?it/s]", "100%|███..."
        r"[^\n]*\d+%\|[^\n]*\|[^\n]*",
        r"<Axes: .*>",
        r"<matplotlib\..*>",
        r"<Figure size .*>",
        r"Text\(.*\)",
        r"\[<matplotlib\.lines\.Line2D .*>\]",
        r"Explorer\(.*\)",
    )
]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        *CHROMIUM_FLAGS,
        "--window-size=1280,1000",
        # Offline: no host name but 127.0.0.1 resolves, so nothing outside is fetched.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    return driver


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


# -- the files ----------------------------------------------------------------------


class AssetParser(html.parser.HTMLParser):
    """Collects what a page loads (scripts, stylesheets, images) and inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str]] = []  # (kind, url)
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script":
            if a.get("src"):
                self.loads.append(("script", a["src"]))
            else:
                self._in_script = a.get("type", "text/javascript") in (
                    "",
                    "text/javascript",
                    "module",
                    "application/javascript",
                )
                self.inline_scripts.append("")
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if {"stylesheet", "preload", "modulepreload", "icon"} & set(rel):
                self.loads.append(
                    ("stylesheet" if "stylesheet" in rel else rel[0], a["href"])
                )
        elif tag in ("img", "source", "iframe", "embed", "video", "audio"):
            if a.get("src"):
                self.loads.append(("image" if tag == "img" else tag, a["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and self.inline_scripts:
            self.inline_scripts[-1] += data


def parse_page(page: Path) -> AssetParser:
    parser = AssetParser()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def check_external_assets(site: Path, failures: list[str]) -> None:
    """No page loads a script or stylesheet from another host (also not lazily)."""
    pages = sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)
    external = 0
    for page in pages:
        name = page.relative_to(site).as_posix()
        parsed = parse_page(page)
        for kind, url in parsed.loads:
            if urlsplit(url).scheme in ("http", "https") or url.startswith("//"):
                external += 1
                failures.append(f"{name}: loads a {kind} from outside the site: {url}")
        for body in parsed.inline_scripts:
            for url in re.findall(r"https?://[^\s\"'`)]+", body):
                external += 1
                failures.append(f"{name}: an inline script refers to {url}")
    print(f"{len(pages)} pages on disk: {external} external script/stylesheet URLs")


def local_file(site: Path, page: Path, url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme or url.startswith(("//", "data:")) or not parts.path:
        return None
    return (page.parent / unquote(parts.path)).resolve()


def shared(site: Path, path: Path) -> bool:
    """Files every page loads (theme, MathJax, search index), fetched once per visit."""
    rel = path.relative_to(site).parts
    return rel[0] == "_static" or rel == ("searchindex.js",)


def page_size(site: Path, page: Path, failures: list[str]) -> tuple[int, int]:
    """The page's own bytes (HTML + the files only it needs) and the site's shared ones.

    The budget is on the page's own bytes: its HTML, with the explorers' frames and any
    other inline images, plus the image files it references. Theme scripts, stylesheets
    and MathJax are the same for every page (a reader's browser fetches them once); they
    are printed, not budgeted.
    """
    name = page.relative_to(site).as_posix()
    text = page.read_text(encoding="utf-8")
    html_bytes = page.stat().st_size
    explorers = re.findall(r'<div class="gt-explorer".*?</script></div>', text, re.S)
    frames = sum(len(m) for m in explorers)
    for m in explorers:
        text = text.replace(m, "")
    inline = sum(
        len(m) for m in re.findall(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", text)
    )
    own: dict[Path, int] = {}
    common: dict[Path, int] = {}
    for _kind, url in parse_page(page).loads:
        path = local_file(site, page, url)
        if path is None:
            continue
        if not path.is_file():
            failures.append(f"{name}: references a missing file {url}")
            continue
        (common if shared(site, path) else own)[path] = path.stat().st_size
    total = html_bytes + sum(own.values())
    print(
        f"{name}: {total / 1e6:.2f} MB of its own = HTML {html_bytes / 1e6:.2f} "
        f"(explorers {frames / 1e6:.2f}, other inline images "
        f"{inline / 1e6:.2f}) + {len(own)} files "
        f"{sum(own.values()) / 1e6:.2f}; plus {len(common)} shared site files "
        f"{sum(common.values()) / 1e6:.2f} (theme, MathJax, search index)"
    )
    if total > PAGE_BUDGET:
        failures.append(
            f"{name}: {total / 1e6:.2f} MB with the files it references, over the "
            f"{PAGE_BUDGET / 1e6:.0f} MB budget"
        )
    return total, sum(common.values())


# -- the executed notebooks ---------------------------------------------------------


def executed_notebook(source: Path, build: Path):
    """The notebook as the build rendered it: source cells + outputs from jupyter-cache.

    myst-nb renders the outputs from jupyter-cache, merged into the source notebook.
    (_build/jupyter_execute/ also holds a copy, but myst-nb 1.4 writes it without
    outputs when the notebook came from the cache.)
    """
    import nbformat

    nb = nbformat.read(source, as_version=4)
    cache_dir = build / ".jupyter_cache"
    if cache_dir.is_dir():
        from jupyter_cache import get_cache

        try:
            _, merged = get_cache(cache_dir).merge_match_into_notebook(nb)
            return merged
        except KeyError:
            pass
    copy = build / "jupyter_execute" / source.relative_to(ROOT)
    if copy.is_file():
        nb = nbformat.read(copy, as_version=4)
        if any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
            return nb
    return None


def stream_lines(text: str) -> list[str]:
    lines = []
    for line in ANSI.sub("", text).split("\n"):
        line = normalise(line.rsplit("\r", 1)[-1])  # what a terminal leaves after \r
        if line:
            lines.append(line)
    return lines


def check_printed_outputs(
    name: str, source: Path, build: Path, visible: str, failures: list[str]
) -> None:
    """Printed lines are on the page; outputs the site drops are only known junk."""
    nb = executed_notebook(source, build)
    if nb is None:
        failures.append(f"{name}: no executed notebook for {source.name} in {build}")
        return
    page_text = normalise(visible)
    n_lines = missing = 0
    dropped: list[tuple[int, str, bool]] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if HIDDEN_OUTPUT_TAGS & set(cell.metadata.get("tags", [])):
            continue
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "stream" and output.get("name") == "stdout":
                for line in stream_lines(output.get("text", "")):
                    n_lines += 1
                    if line not in page_text:
                        missing += 1
                        failures.append(
                            f"{name}: cell {index} printed a line the page does not "
                            f"show: {line!r}"
                        )
            elif kind in ("execute_result", "display_data"):
                mimes = set(output.get("data", {})) - {WIDGET_VIEW}
                if mimes <= {"text/plain"}:
                    text = output["data"].get("text/plain", "")
                    text = ANSI.sub("", text).strip()
                    junk = any(p.fullmatch(text) for p in JUNK_REPRS)
                    dropped.append((index, text, junk))
                    if not junk:
                        failures.append(
                            f"{name}: cell {index} shows only text/plain, which the "
                            f"site drops: {text[:120]!r} (print it instead)"
                        )
    print(
        f"{name}: {n_lines} printed lines, {missing} missing from the page; "
        f"{len(dropped)} text/plain-only outputs"
        f" ({sum(not j for _, _, j in dropped)} not on the junk list)"
    )
    for index, text, junk in dropped:
        mark = "junk" if junk else "NOT JUNK"
        print(f"    cell {index} [{mark}]: {text[:100]!r}")


# -- the browser --------------------------------------------------------------------


MATHJAX_READY = """
const done = arguments[arguments.length - 1];
const mj = window.MathJax;
if (mj && mj.startup && mj.startup.promise) {
  mj.startup.promise.then(() => done("typeset"), (e) => done("error: " + e));
} else {
  done(mj ? "configured but not loaded" : "not on this page");
}
"""


def console_entries(driver, base: str, name: str, failures: list[str]) -> int:
    """Print the page's console log; errors and warnings from its own scripts fail."""
    bad = 0
    for entry in driver.get_log("browser"):
        level, message = entry.get("level"), entry.get("message", "")
        if entry.get("source") == "network" and message.startswith(
            f"{base}/favicon.ico "
        ):
            # Chromium's own request (the site declares no icon), not the page's
            print(f"    (ignored: the browser's /favicon.ico request: {message[:120]})")
            continue
        own = message.startswith(base) or entry.get("source") in (
            "console-api",
            "javascript",
        )
        if level == "SEVERE" or (level == "WARNING" and own):
            bad += 1
            failures.append(f"{name}: console {level}: {message[:300]}")
            print(f"    console {level} ({entry.get('source')}): {message[:300]}")
        elif level == "WARNING":
            print(f"    (browser warning, not from the page: {message[:200]})")
    return bad


def check_common(driver, base: str, path: str, shots: Path, failures: list[str]):
    """Load a page; check its console log, its math and what it fetched.

    Returns the number of typeset formulas and the bytes the browser fetched
    ([the page's own, the shared site files]).
    """
    name = path
    if driver.current_url.startswith(base):
        # every page as a first visit: the theme keeps its colour mode in localStorage,
        # and its start-up code (which once logged an error) reads it
        driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    driver.get_log("browser")  # drop what earlier pages left
    driver.get(f"{base}/{path}")
    mathjax = driver.execute_async_script(MATHJAX_READY)
    time.sleep(0.3)  # let the theme's start-up scripts finish logging
    n_math, raw_tex, errors = driver.execute_script(
        "const m = Array.from(document.querySelectorAll('.math'));"
        "return [document.querySelectorAll('mjx-container').length,"
        " m.filter(e => !e.querySelector('mjx-container')).length,"
        " document.querySelectorAll('mjx-merror').length];"
    )
    # TeX that never reached MathJax: a "$" or a TeX command left in the prose (a
    # Markdown line starting with "+" or "-" inside $...$ turns into a list item
    # and breaks the formula apart, with no .math element to count). Code, outputs
    # and API signatures (whose defaults may be strings like '$x_1$') are skipped.
    stray_tex = driver.execute_script(
        "const skip = new Set(['PRE', 'CODE', 'SCRIPT', 'STYLE', 'MJX-CONTAINER',"
        " 'MJX-ASSISTIVE-MML', 'TEXTAREA']);"
        "const tex = /\\$[^$\\s]|\\\\(frac|tfrac|mathbb|mathcal|mathrm|sum|log|big|"
        "operatorname|lVert|mid|sigma|mu|theta|phi)(?![a-zA-Z])/;"
        "const root = document.querySelector('main') || document.body;"
        "const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);"
        "const found = [];"
        "for (let n = walk.nextNode(); n; n = walk.nextNode()) {"
        " let e = n.parentElement, ok = true;"
        " for (; e && e !== root; e = e.parentElement)"
        "  if (skip.has(e.tagName) || e.classList.contains('math')"
        "      || e.classList.contains('output') || e.classList.contains('sig'))"
        "   { ok = false; break; }"
        " if (ok && tex.test(n.data)) found.push(n.data.trim().slice(0, 80)); }"
        "return found;"
    )
    for text in stray_tex:
        failures.append(f"{name}: TeX left untypeset in the text: {text!r}")
    outside = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(u => !u.startsWith(location.origin) && !u.startsWith('data:'));"
    )
    # [page's own bytes, shared site files] as the browser fetched them
    loaded = driver.execute_script(
        "const shared = u => { const p = new URL(u).pathname;"
        " return p.startsWith('/_static/') || p === '/searchindex.js'; };"
        "const r = performance.getEntriesByType('resource');"
        "const size = es => es.reduce((s, e) => s + (e.decodedBodySize || 0), 0);"
        "return [size(performance.getEntriesByType('navigation'))"
        " + size(r.filter(e => !shared(e.name))), size(r.filter(e => shared(e.name)))];"
    )
    n_console = console_entries(driver, base, name, failures)
    print(
        f"{name}: {n_console} console errors/warnings; MathJax {mathjax}: "
        f"{n_math} typeset formulas, {raw_tex} untypeset, {errors} MathJax errors; "
        f"browser loaded {loaded[0] / 1e6:.2f} MB of its own + "
        f"{loaded[1] / 1e6:.2f} MB shared"
    )
    if raw_tex or errors:
        failures.append(
            f"{name}: math not typeset ({n_math} ok, {raw_tex} raw, {errors} errors; "
            f"MathJax {mathjax})"
        )
    for url in outside:
        failures.append(f"{name}: the browser requested {url} (not on the site)")
    driver.save_screenshot(str(shots / f"{shot_name(name)}-top.png"))
    return n_math, loaded


def shot_name(path: str) -> str:
    return path.removesuffix(".html").replace("/", "_")


# Code and outputs that must fit their column: a reader should not scroll them sideways
# (notebook cells, and code quoted in the text, such as a literalinclude).
WIDE = """
const els = new Set(document.querySelectorAll(
  "div.cell div.highlight pre, div.cell_output pre, div.cell_output .output, " +
  "article div.highlight pre"));
for (const e of document.querySelectorAll("div.cell *")) {
  if (["auto", "scroll"].includes(getComputedStyle(e).overflowX)) els.add(e);
}
const kind = e => [e.tagName.toLowerCase(),
  ...(e.getAttribute("class") || "").split(/\\s+/).filter(Boolean)].join(".");
return Array.from(els).filter(e => e.scrollWidth > e.clientWidth + 1).map(e => [
  e, kind(e), e.scrollWidth, e.clientWidth,
  e.textContent.trim().replace(/\\s+/g, " ").slice(0, 60)]);
"""


def check_wide(driver, path: str, shots: Path, failures: list[str]) -> None:
    """No code cell or output is wider than its box (it would scroll sideways)."""
    wide = driver.execute_script(WIDE)
    print(f"{path}: {len(wide)} code cells/outputs scroll sideways")
    for _element, kind, scroll, client, text in wide:
        print(f"    {kind}: {scroll} px of content in {client} px: {text!r}")
        failures.append(
            f"{path}: a code cell or output scrolls sideways ({kind}, {scroll} px in "
            f"{client} px): {text!r}"
        )
    if wide:
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", wide[0][0]
        )
        driver.save_screenshot(str(shots / f"{shot_name(path)}-wide.png"))


def slider_values(explorer) -> list[str]:
    return [
        s.get_attribute("value")
        for s in explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
    ]


def explorer_state(explorer) -> tuple[str, tuple[str, ...]]:
    img = explorer.find_element(By.TAG_NAME, "img")
    return digest(img.get_attribute("src")), tuple(slider_values(explorer))


def check_radios(
    driver, name: str, e: int, explorer, shot: Path, failures: list[str]
) -> None:
    """Each radio not checked changes the figure; the first one brings it back."""
    img = explorer.find_element(By.TAG_NAME, "img")
    for f, fieldset in enumerate(explorer.find_elements(By.TAG_NAME, "fieldset")):
        param = fieldset.get_attribute("aria-label")
        radios = fieldset.find_elements(By.CSS_SELECTOR, "input[type=radio]")
        first = [r for r in radios if r.is_selected()]
        start = digest(img.get_attribute("src"))
        for r, radio in enumerate(radios):
            if radio.is_selected():
                continue
            text = radio.find_element(By.XPATH, "ancestor::label").text
            before = digest(img.get_attribute("src"))
            radio.click()
            after = digest(img.get_attribute("src"))
            print(
                f"{name}: explorer {e} {param} radio {r} ({text!r}, checked "
                f"{radio.is_selected()}): figure {before} -> {after}"
            )
            if after == before or not radio.is_selected():
                failures.append(
                    f"{name}: explorer {e} {param} radio {r} ({text!r}) did not "
                    "change the figure"
                )
            driver.save_screenshot(
                str(shot.with_name(f"{shot.name}-explorer{e}-radio{f}-{r}.png"))
            )
        if not first:
            failures.append(f"{name}: explorer {e} {param}: no radio checked at first")
        elif len(radios) > 1:
            first[0].click()  # back to the first choice, and to the first figure
            back = digest(img.get_attribute("src"))
            print(f"{name}: explorer {e} {param} back to its first radio: {back}")
            if back != start:
                failures.append(
                    f"{name}: explorer {e} {param}: the radio first checked did not "
                    f"bring the first figure back ({start} -> {back})"
                )


def check_play(
    driver, name: str, e: int, explorer, shot: Path, failures: list[str]
) -> None:
    """A play/pause button animates the figure and the sliders, and stops them."""
    buttons = explorer.find_elements(By.TAG_NAME, "button")
    if not buttons:
        return
    button = buttons[0]
    label = button.text
    start = explorer_state(explorer)
    button.click()
    # Sample for ~1.5 s: after a whole number of cycles a looping animation can be
    # back at its first frame, so one look at the end could miss it.
    seen = set()
    deadline = time.time() + 1.5
    while time.time() < deadline:
        time.sleep(0.1)
        seen.add(explorer_state(explorer))
    playing_label = button.text
    driver.save_screenshot(str(shot.with_name(f"{shot.name}-explorer{e}-playing.png")))
    figures = {f for f, _ in seen} - {start[0]}
    values = {v for _, v in seen} - {start[1]}
    print(
        f"{name}: explorer {e} play ({label!r} -> {playing_label!r}): sliders "
        f"{list(start[1])} -> {len(values)} other settings, {len(figures)} other "
        "figures in 1.5 s"
    )
    if not figures or not values:
        failures.append(
            f"{name}: explorer {e}: play did not animate the figure and the sliders"
        )
    button.click()  # pause
    time.sleep(0.2)  # a frame that was due may still land
    paused = explorer_state(explorer)
    after = set()
    deadline = time.time() + 1.5
    while time.time() < deadline:
        time.sleep(0.1)
        after.add(explorer_state(explorer))
    print(
        f"{name}: explorer {e} pause ({button.text!r}): sliders {list(paused[1])}, "
        f"{len(after - {paused})} other states in 1.5 s"
    )
    if after != {paused}:
        failures.append(f"{name}: explorer {e}: pause did not stop the animation")


def check_chapter(
    driver, base: str, path: str, shots: Path, n_math: int, failures: list[str]
) -> None:
    shot = shot_name(path)
    if n_math == 0:
        failures.append(f"{path}: no typeset formula on a chapter page")
    images = driver.find_elements(By.CSS_SELECTOR, ".cell_output img")
    print(f"{path}: {len(images)} output images")
    if not images:
        failures.append(f"{path}: no figures")
    if driver.find_elements(
        By.CSS_SELECTOR,
        ".jupyter-widgets, .widget-area, "
        "script[type='application/vnd.jupyter.widget-view+json']",
    ):
        failures.append(f"{path}: a live ipywidget (needs a kernel) is on the page")
    colab = [
        a.get_attribute("href")
        for a in driver.find_elements(By.TAG_NAME, "a")
        if "colab.research.google.com" in (a.get_attribute("href") or "")
    ]
    notebook = "/" + path.replace(".html", ".ipynb")
    if not any(h.endswith(notebook) for h in colab):
        failures.append(f"{path}: no Colab link to the notebook ({colab})")

    first_math = driver.find_elements(By.CSS_SELECTOR, "div.math mjx-container")
    if first_math:
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", first_math[0]
        )
        driver.save_screenshot(str(shots / f"{shot}-math.png"))

    check_wide(driver, path, shots, failures)

    for e, explorer in enumerate(driver.find_elements(By.CSS_SELECTOR, ".gt-explorer")):
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", explorer
        )
        img = explorer.find_element(By.TAG_NAME, "img")
        sliders = explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
        driver.save_screenshot(str(shots / f"{shot}-explorer{e}-initial.png"))
        for s, slider in enumerate(sliders):
            label = slider.find_element(By.XPATH, "following-sibling::output")
            before, before_label = digest(img.get_attribute("src")), label.text
            key = (
                Keys.ARROW_LEFT
                if slider.get_attribute("value") != "0"
                else Keys.ARROW_RIGHT
            )
            slider.click()  # the click moves the thumb; then one key press
            slider.send_keys(key)
            after, after_label = digest(img.get_attribute("src")), label.text
            moved = slider.get_attribute("value")
            print(
                f"{path}: explorer {e} slider {s}: {before_label} -> {after_label} "
                f"(value {moved}), figure {before} -> {after}"
            )
            if after == before or after_label == before_label:
                failures.append(
                    f"{path}: explorer {e} slider {s} did not change the figure"
                )
            driver.save_screenshot(str(shots / f"{shot}-explorer{e}-slider{s}.png"))
        check_radios(driver, path, e, explorer, shots / shot, failures)
        check_play(driver, path, e, explorer, shots / shot, failures)
    # after the explorers moved: new page state, new console entries?
    console_entries(driver, base, path, failures)


def main() -> int:
    parser = argparse.ArgumentParser(description="check the built site in Chromium")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument(
        "--build",
        type=Path,
        default=ROOT / "_build",
        help="build folder with .jupyter_cache (the executed notebooks)",
    )
    parser.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screens")
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    site = args.site.resolve()
    failures: list[str] = []

    print("== files")
    check_external_assets(site, failures)
    # A page is a chapter when its source is a notebook (Sphinx keeps the sources).
    chapters = sorted(
        p.relative_to(site / "_sources").with_suffix(".html").as_posix()
        for p in (site / "_sources").rglob("*.ipynb")
    )
    if not chapters:
        failures.append("no chapter pages (no notebooks in _sources)")
    sizes = {path: page_size(site, site / path, failures) for path in chapters}
    # Chapters first, then the front matter and everything else Sphinx wrote.
    others = sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if "_static" not in p.parts and p.relative_to(site).as_posix() not in chapters
    )

    print("== browser")
    server, base = serve(site)
    driver = browser()
    counts: dict[str, int] = {}
    try:
        for path in chapters + others:
            before = len(failures)
            n_math, loaded = check_common(
                driver, base, path, args.screenshots, failures
            )
            if path in chapters:
                if loaded[0] > PAGE_BUDGET:
                    failures.append(
                        f"{path}: the browser loaded {loaded[0] / 1e6:.2f} MB of the "
                        f"page's own, over the {PAGE_BUDGET / 1e6:.0f} MB budget"
                    )
                visible = driver.execute_script(
                    "return document.querySelector('article').innerText"
                )
                check_chapter(driver, base, path, args.screenshots, n_math, failures)
                source = ROOT / path.replace(".html", ".ipynb")
                check_printed_outputs(path, source, args.build, visible, failures)
            counts[path] = sum(": console " in f for f in failures[before:])
    finally:
        driver.quit()
        server.shutdown()

    print("== summary")
    for path in chapters:
        own, common = sizes[path]
        print(
            f"{path}: {own / 1e6:.2f} MB of its own (budget {PAGE_BUDGET / 1e6:.0f} MB)"
            f", {(own + common) / 1e6:.2f} MB with the shared site files"
        )
    for path, n in counts.items():
        print(f"{path}: {n} console errors/warnings")
    for failure in failures:
        print("FAIL:", failure)
    print("site check:", "failed" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
