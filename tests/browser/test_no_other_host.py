"""Every page a person opens loads from this server alone: the browser fetches nothing from
another host (no CDN, no web fonts, no logo, no validator badge), as the README promises.

Headless Chromium opens the server under a public name, tickets.example.com (mapped to the
test server by --host-resolver-rules, so the docs' own "is this localhost?" checks see a real
deployment's name), and records every request it sends through the DevTools protocol's network
events: the landing page, a 404, Swagger UI, ReDoc, the console's sign-in page, its front
page, a list and the dashboard. Any request to another host fails the test, with its URL.

Every run saves the landing page under pytest's temporary directory; with
EVENTLY_SCREENSHOTS=docs (`make screenshot`) it is docs/landing.png.
"""

import io
import time
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.browser.chromium import (
    chromium,
    console_errors,
    requests_made,
    require_chromium,
    save_page,
)

PUBLIC_NAME = "tickets.example.com"
WAIT = 30


@pytest.fixture
def browser():
    require_chromium()
    with chromium(host_rules=f"MAP {PUBLIC_NAME} 127.0.0.1", network_log=True) as driver:
        yield driver


def wait_for(driver, script: str, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(lambda d: d.execute_script(script), message=what)


def test_no_page_fetches_anything_from_another_host(live_server, browser, settings, shots):
    from selenium.webdriver.common.by import By

    call_command("load_demo_data", "--force", stdout=io.StringIO())
    port = urlsplit(live_server.url).port
    base = f"http://{PUBLIC_NAME}:{port}"
    settings.ALLOWED_HOSTS = [PUBLIC_NAME]
    # Plain http under a public name: cookies marked Secure would not be kept.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    seen: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}

    def visit(path: str, ready: str | None = None, settle: float = 0) -> None:
        browser.get(base + path)
        if ready:
            wait_for(browser, ready, f"{path}: {ready}")
        # What a page starts after it has drawn (ReDoc's sidebar logo, Swagger UI's badge).
        time.sleep(settle)
        seen[path] = requests_made(browser)
        # Over plain http under a public name Chromium ignores the Cross-Origin-Opener-Policy
        # header (it needs https or localhost) and says so; the 404 page logs its own status.
        errors[path] = [
            error
            for error in console_errors(browser)
            if "Cross-Origin-Opener-Policy" not in error
            and not (path == "/no-such-page/" and "status of 404" in error)
        ]

    visit("/", "return document.querySelector('.ev-sections') !== null")
    assert browser.find_element(By.CSS_SELECTOR, "#header").text.startswith("Evently")
    save_page(browser, shots / "landing.png")
    visit("/no-such-page/", "return document.title.startsWith('Page not found')")
    visit(
        "/api/docs",
        "return document.querySelectorAll('.swagger-ui .opblock').length > 10",
        settle=2,
    )
    visit(
        "/api/redoc",
        "return document.body.innerText.includes('API docs by Redocly')",
        settle=2,
    )
    visit("/admin/login/?next=/admin/", "return document.readyState === 'complete'")
    browser.find_element(By.ID, "id_username").send_keys("admin@evently.local")
    browser.find_element(By.ID, "id_password").send_keys("evently-admin")
    browser.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait_for(browser, "return location.pathname === '/admin/'", "signed in to the console")
    visit("/admin/", "return document.querySelector('.ev-kpis') !== null")
    visit("/admin/events/event/", "return document.querySelector('#result_list') !== null")
    visit("/admin/dashboard/", "return document.readyState === 'complete'", settle=1)

    elsewhere = {
        path: [
            url
            for url in urls
            if urlsplit(url).scheme in ("http", "https", "ws", "wss")
            and urlsplit(url).netloc != f"{PUBLIC_NAME}:{port}"
        ]
        for path, urls in seen.items()
    }
    assert {path: urls for path, urls in elsewhere.items() if urls} == {}
    # The record is real: each page's own document and assets were seen.
    assert f"{base}/" in seen["/"]
    assert any(url.endswith("/static/evently/console.css") for url in seen["/"])
    assert any("redoc.standalone.js" in url for url in seen["/api/redoc"])
    assert any("swagger-ui-bundle.js" in url for url in seen["/api/docs"])
    assert {path: found for path, found in errors.items() if found} == {}
