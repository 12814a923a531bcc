"""Headless Chromium flags shared by the browser checks in tests/.

Without the background-networking flags Chromium keeps calling Google's hosts, which
this machine's closed network refuses.
"""

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
