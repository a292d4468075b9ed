"""Screenshot a page in headless Chromium with a cookie set, using only the standard library.

    python scripts/screenshot.py URL OUT.png COOKIE_NAME=VALUE [--width 1400] [--height 1800]

Chromium's --screenshot flag cannot send a cookie, so this drives it over the DevTools
protocol instead, through --remote-debugging-pipe: JSON messages ended by a NUL byte, read
by Chromium from fd 3 and written to fd 4. No websocket client or browser download needed.
"""

import argparse
import base64
import contextlib
import fcntl
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from math import ceil
from urllib.parse import urlsplit

TIMEOUT = 30


def _high_pipe() -> tuple[int, int]:
    # Out of the way of fds 3 and 4, which the child must see as exactly those numbers.
    r, w = os.pipe()
    high = (fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 10), fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 10))
    os.close(r)
    os.close(w)
    return high


class Browser:
    def __init__(self, executable: str, width: int, height: int):
        self.to_chrome_r, self.to_chrome_w = _high_pipe()
        self.from_chrome_r, self.from_chrome_w = _high_pipe()
        self.profile = tempfile.TemporaryDirectory(prefix="evently-chromium-")
        args = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={self.profile.name}",
            f"--window-size={width},{height}",
            "--remote-debugging-pipe",
            "about:blank",
        ]

        def wire_pipes():  # runs in the child, before exec
            os.dup2(self.to_chrome_r, 3)
            os.dup2(self.from_chrome_w, 4)

        self.process = subprocess.Popen(
            args,
            preexec_fn=wire_pipes,  # safe here: this script runs no other threads
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(self.to_chrome_r)
        os.close(self.from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.from_chrome_r], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.from_chrome_r, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, session: str | None = None, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # it may be gone already
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_chrome_w)
        os.close(self.from_chrome_r)
        self.profile.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("output")
    parser.add_argument("cookie", help="NAME=VALUE, sent to the URL's host")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1800, help="window height while loading")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    options = parser.parse_args()
    name, _, value = options.cookie.partition("=")
    expected_path = urlsplit(options.url).path

    browser = Browser(options.chromium, options.width, options.height)
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        browser.send("Page.enable", session)
        browser.send(
            "Network.setCookie", session, name=name, value=value, url=options.url, httpOnly=True
        )
        browser.send("Page.navigate", session, url=options.url)
        browser.wait_for("Page.loadEventFired", session)
        landed = browser.send(
            "Runtime.evaluate", session, expression="location.pathname", returnByValue=True
        )["result"]["value"]
        if landed != expected_path:
            print(f"Expected {expected_path}, landed on {landed} (not logged in?)", file=sys.stderr)
            return 1
        # The whole page and no more: measure it in a short viewport (the content then sets
        # the height), then grow the viewport to fit it.
        metrics = {"width": options.width, "deviceScaleFactor": 1, "mobile": False}
        browser.send("Emulation.setDeviceMetricsOverride", session, height=200, **metrics)
        height = ceil(browser.send("Page.getLayoutMetrics", session)["cssContentSize"]["height"])
        browser.send("Emulation.setDeviceMetricsOverride", session, height=height, **metrics)
        shot = browser.send("Page.captureScreenshot", session, format="png")
        with open(options.output, "wb") as out:
            out.write(base64.b64decode(shot["data"]))
    finally:
        browser.close()
    print(f"Saved {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
