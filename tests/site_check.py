"""Look at the built site as a reader would: headless Chromium, driven by Selenium.

Not part of `make test` (it needs a built site, Chromium and Selenium). Run it after
`make book`, before a release:

    apt-get install chromium chromium-driver && .venv/bin/pip install selenium
    .venv/bin/python tests/site_check.py [--mathjax DIR] [--screenshots DIR]

For every chapter page it checks that math was typeset, figures are present, no live
ipywidget placeholder shows (a control that needs a kernel must not appear), the
"open in Colab" link points at the notebook, and that moving each slider of each
kernel-free explorer changes the figure. It writes screenshots and exits non-zero on a
failure.

The site loads MathJax from a CDN. On a machine without internet pass ``--mathjax`` with
a local MathJax 3 ``es5`` folder (``npm install mathjax@3``): the check then serves a
copy of the site that loads that file instead. The site itself is not changed.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@3/es5/tex-mml-chtml\.js")


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
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    return webdriver.Chrome(options=options, service=service)


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def check_page(driver, url: str, shots: Path, failures: list[str]) -> None:
    name = url.rsplit("/", 1)[-1]
    driver.get(url)
    deadline = time.time() + 30
    while time.time() < deadline and not driver.execute_script(
        "return document.querySelectorAll('mjx-container').length > 0"
    ):
        time.sleep(0.5)
    n_math = driver.execute_script(
        "return document.querySelectorAll('mjx-container').length"
    )
    raw_tex = driver.execute_script(
        "return Array.from(document.querySelectorAll('.math')).filter("
        "e => !e.querySelector('mjx-container')).length"
    )
    print(f"{name}: {n_math} typeset formulas, {raw_tex} untypeset")
    if n_math == 0 or raw_tex:
        failures.append(f"{name}: math not typeset ({n_math} ok, {raw_tex} raw)")
    images = driver.find_elements(By.CSS_SELECTOR, ".cell_output img")
    print(f"{name}: {len(images)} output images")
    if not images:
        failures.append(f"{name}: no figures")
    if driver.find_elements(By.CSS_SELECTOR, ".jupyter-widgets, .widget-area"):
        failures.append(f"{name}: a live ipywidget (needs a kernel) is on the page")
    colab = [
        a.get_attribute("href")
        for a in driver.find_elements(By.TAG_NAME, "a")
        if "colab.research.google.com" in (a.get_attribute("href") or "")
    ]
    if not any(h.endswith(name.replace(".html", ".ipynb")) for h in colab):
        failures.append(f"{name}: no Colab link to the notebook ({colab})")
    driver.save_screenshot(str(shots / f"{name}-top.png"))

    for e, explorer in enumerate(driver.find_elements(By.CSS_SELECTOR, ".gt-explorer")):
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center'})", explorer
        )
        img = explorer.find_element(By.TAG_NAME, "img")
        sliders = explorer.find_elements(By.CSS_SELECTOR, "input[type=range]")
        driver.save_screenshot(str(shots / f"{name}-explorer{e}-initial.png"))
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
                f"{name}: explorer {e} slider {s}: {before_label} -> {after_label} "
                f"(value {moved}), figure {before} -> {after}"
            )
            if after == before or after_label == before_label:
                failures.append(
                    f"{name}: explorer {e} slider {s} did not change the figure"
                )
            driver.save_screenshot(str(shots / f"{name}-explorer{e}-slider{s}.png"))


def main() -> int:
    parser = argparse.ArgumentParser(description="check the built site in Chromium")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--mathjax", type=Path, help="local MathJax 3 es5 folder")
    parser.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "screens")
    args = parser.parse_args()
    args.screenshots.mkdir(parents=True, exist_ok=True)
    site = args.site
    with tempfile.TemporaryDirectory() as tmp:
        if args.mathjax:
            site = Path(tmp) / "html"
            shutil.copytree(args.site, site)
            shutil.copytree(args.mathjax, site / "_mathjax")
            for page in site.rglob("*.html"):
                depth = len(page.relative_to(site).parts) - 1
                local = "../" * depth + "_mathjax/tex-mml-chtml.js"
                page.write_text(CDN.sub(local, page.read_text()))
        server, base = serve(site)
        driver = browser()
        failures: list[str] = []
        try:
            pages = sorted((site / "chapters").glob("*.html"))
            for page in pages:
                check_page(
                    driver, f"{base}/chapters/{page.name}", args.screenshots, failures
                )
            driver.get(f"{base}/index.html")
            driver.save_screenshot(str(args.screenshots / "index.png"))
        finally:
            driver.quit()
            server.shutdown()
    for failure in failures:
        print("FAIL:", failure)
    print("site check:", "failed" if failures else "passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
