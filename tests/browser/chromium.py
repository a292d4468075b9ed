"""Headless Chromium for the browser tests: Debian's chromium driven by its chromedriver
through selenium, as a person at a 1366 x 768 screen would see the console.

`scripts/test.sh` installs Debian's `chromium` and `chromium-driver` when they are missing
and it runs as root. Without them the browser tests skip, saying why, unless CI is set:
then they fail, so a CI run never passes without having looked at the pages.
"""

import base64
import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW = (1366, 768)

ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

# Boxes inside the page that scroll sideways or clip what they hold (the admin's results table
# scrolls in a box of its own, so the page itself never shows it); hidden ones and form fields
# are left out.
SIDEWAYS_SCROLLERS = """
return [...document.querySelectorAll('body *')].filter(e => {
  const style = getComputedStyle(e);
  return ['auto', 'scroll', 'hidden'].includes(style.overflowX) && e.clientWidth > 2
    && e.scrollWidth > e.clientWidth + 1 && !e.matches('textarea, select, input');
}).map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}.${[...e.classList].join('.')}`
  + ` (${e.scrollWidth} px in ${e.clientWidth})`);
"""


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing: apt-get install {package} (scripts/test.sh does, as root)"
    return None


def require_chromium() -> None:
    reason = missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"Browser tests skipped: {reason}")


@contextlib.contextmanager
def chromium(
    width: int = WINDOW[0],
    height: int = WINDOW[1],
    *,
    host_rules: str | None = None,
    network_log: bool = False,
) -> Iterator:
    """A fresh headless Chromium (its own profile, removed afterwards) with its console log
    kept, so a test can read the errors a page printed; with `network_log`, every request it
    makes too (`requests_made`).

    `host_rules` is Chromium's --host-resolver-rules (`MAP tickets.example.com 127.0.0.1`), to
    serve the test server under a public-looking name."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="evently-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    if host_rules:
        options.add_argument(f"--host-resolver-rules={host_rules}")
    logs = {"browser": "ALL", "performance": "ALL"} if network_log else {"browser": "ALL"}
    options.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[str]:
    """The page's console errors (and failed loads) since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def requests_made(driver) -> list[str]:
    """The URL of every request the browser sent or tried to send since the last call, as
    Chromium's DevTools protocol reports them (Network.requestWillBeSent in the performance
    log): documents, scripts, styles, images, fonts, fetches, whatever started them."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def sideways_scroll(driver) -> list[str]:
    """What scrolls horizontally: the page itself, or any box inside it."""
    found = driver.execute_script(SIDEWAYS_SCROLLERS)
    page, window = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if page > window:
        found.insert(0, f"the page ({page} px in a {window} px window)")
    return found


def save_page(driver, path: Path, *, max_height: int = 4000) -> Path:
    """The whole page at the window's width (or its first `max_height` pixels) as a PNG."""
    width = driver.execute_script("return window.innerWidth")
    height = min(driver.execute_script("return document.documentElement.scrollHeight"), max_height)
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    # A page cut at max_height would still show its scroll bar in the picture.
    driver.execute_script("document.documentElement.style.overflow = 'hidden'")
    try:
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_script("document.documentElement.style.overflow = ''")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
