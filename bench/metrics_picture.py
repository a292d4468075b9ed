"""`make metrics-screenshot`: docs/metrics.png, the dashboard's main queries over a flash sale.

Grafana is not in Debian's archive, so its dashboard (deploy/grafana/evently.json) cannot be
rendered here. This draws the same queries in Prometheus' own graph page instead: Debian's
prometheus, with deploy/prometheus/alerts.yml loaded, scrapes a metrics-on Evently (gunicorn
with gunicorn.conf.py, as `make bench` serves it) every 2 seconds while wrk books one seat at
a time (bench/booking.lua): first into events with seats to spare, then into one that sells
out at once, so every booking after is a 409 sold_out. Headless Chromium (selenium, as the
browser tests drive it) then photographs the page.
"""

import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.prepare import (  # noqa: E402
    EVENTLY_METRICS,
    METRICS_TOKEN,
    WORK,
    environment,
    fresh_database,
    seed_events,
    seed_users,
)
from bench.run import Server  # noqa: E402

DB_NAME = "evently_metrics_picture"
PROMETHEUS_PORT = 9099
WIDTH = 1280
# The panels: the dashboard's first row and its 5xx and outbox panels.
PANELS = [
    "sum by (result) (rate(evently_bookings_total[30s]))",
    "sum by (code) (rate(evently_booking_conflicts_total[30s]))",
    "histogram_quantile(0.99, sum by (le) (rate(evently_seat_lock_wait_seconds_bucket[30s])))",
    'sum by (route, status) (rate(evently_http_requests_total{route="api/bookings"}[30s]))',
    "max by (outbox) (evently_outbox_backlog)",
]


def prometheus_config(directory: Path) -> Path:
    path = directory / "prometheus.yml"
    path.write_text(
        f"""global:
  scrape_interval: 2s
  evaluation_interval: 2s
rule_files:
  - {ROOT / "deploy" / "prometheus" / "alerts.yml"}
scrape_configs:
  - job_name: evently
    static_configs:
      - targets: ["127.0.0.1:{EVENTLY_METRICS.port}"]
    authorization:
      type: Bearer
      credentials: {METRICS_TOKEN}
"""
    )
    return path


def graph_url(minutes: int) -> str:
    params = {}
    for index, expr in enumerate(PANELS):
        params |= {
            f"g{index}.expr": expr,
            f"g{index}.tab": "0",
            f"g{index}.stacked": "0",
            f"g{index}.range_input": f"{minutes}m",
        }
    return f"http://127.0.0.1:{PROMETHEUS_PORT}/graph?{urllib.parse.urlencode(params)}"


def book(events: list[str], seconds: int) -> None:
    """wrk booking one seat a request into `events` for `seconds`; its statuses do not matter."""
    (WORK / "events.txt").write_text("".join(f"{e}\n" for e in events))
    subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", "-s", "bench/booking.lua", "http://127.0.0.1:8099"],
        cwd=ROOT,
        env={**os.environ, "EVENTLY_THREADS": "2", "EVENTLY_PATH": "/api/bookings"},
        check=True,
        capture_output=True,
    )


def photograph(url: str, output: Path) -> None:
    """The whole page once every graph has drawn, as a PNG."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.browser.chromium import chromium

    with chromium(WIDTH, 900) as driver:
        driver.get(url)
        WebDriverWait(driver, 60).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".graph-legend, .alert")) >= len(PANELS)
        )
        time.sleep(2)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WIDTH, height + 100)
        time.sleep(1)
        driver.save_screenshot(str(output))


def main() -> int:
    os.environ.update(environment(DB_NAME))
    import django

    fresh_database(DB_NAME)
    django.setup()
    from events.models import Event

    seed_users(4000)
    roomy = seed_events(2, "Picture")
    [tiny] = seed_events(1, "Picture, one seat")
    Event.objects.filter(pk=tiny).update(total_capacity=1, available_seats=1)
    directory = WORK / "prometheus"
    subprocess.run(["rm", "-rf", str(directory)], check=True)
    directory.mkdir(parents=True)
    server = Server(EVENTLY_METRICS)
    prometheus = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={prometheus_config(directory)}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "prometheus.log", "wb"),  # noqa: SIM115
    )
    try:
        server.wait_until_serving()
        time.sleep(10)  # a few scrapes of an idle server first
        book(roomy, 45)
        book([tiny], 30)
        time.sleep(15)  # and after
        output = ROOT / "docs" / "metrics.png"
        photograph(graph_url(2), output)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query?query="
            + urllib.parse.quote('evently_bookings_total{result="booked"}')
        ) as response:
            print(response.read().decode())
        print(f"wrote {output}")
    finally:
        prometheus.terminate()
        prometheus.wait(30)
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
