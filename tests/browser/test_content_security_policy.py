"""The console's and the desk's Content-Security-Policy, held in a real browser.

Headless Chromium signs in as staff and opens the console's pages and a check-in desk: each
must carry the policy (read back by the page's own script) and draw without one refusal in
the browser's console log, which is where Chromium reports every blocked script, style or
load. A control injects an inline script, which the policy must block and the log report, so
the check is known to see a violation when there is one.
"""

import pytest
from django.conf import settings

from bookings.services import booking_create
from tests.browser.chromium import chromium, require_chromium
from tests.factories import PASSWORD, AdminFactory, EventFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

READ_POLICY = """
const done = arguments[arguments.length - 1];
fetch(location.href, {credentials: "same-origin"})
  .then((response) => done(response.headers.get("content-security-policy")))
  .catch((error) => done("fetch failed: " + error));
"""


@pytest.fixture
def browser():
    require_chromium()
    with chromium() as driver:
        driver.set_script_timeout(30)
        yield driver


def refusals(driver) -> list[str]:
    """The console log's errors since the last call: a CSP refusal is one of them."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_console_and_the_desk_keep_their_content_security_policy(live_server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    admin = AdminFactory(email="ada@example.com")
    night = EventFactory(name="Jazz Night", tonight=True)
    booking_create(event_id=night.pk, user=UserFactory(), quantity=2)
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    assert refusals(browser) == []
    browser.find_element(By.NAME, "username").send_keys(admin.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith("/admin/"))

    pages = (
        "/admin/",
        "/admin/events/event/",
        f"/admin/events/event/{night.pk}/change/",
        "/admin/bookings/booking/",
        "/admin/dashboard/",
        "/admin/checkin/",
        f"/admin/checkin/{night.pk}/",
    )
    for path in pages:
        browser.get(live_server.url + path)
        policy = browser.execute_async_script(READ_POLICY)
        assert policy == settings.CONTENT_SECURITY_POLICY, path
        assert refusals(browser) == [], path
    # The desk's script ran under the policy: it polled and marked itself ready.
    desk = browser.find_element(By.ID, "checkin-desk")
    WebDriverWait(browser, 15).until(lambda d: desk.get_attribute("data-ready") == "true")

    # The control: an inline script is refused, and the log says so.
    browser.execute_script(
        "const s = document.createElement('script');"
        "s.textContent = 'window.injected = true';"
        "document.body.appendChild(s);"
    )
    assert browser.execute_script("return window.injected === undefined")
    logged = refusals(browser)
    assert any("Content Security Policy" in message for message in logged), logged
