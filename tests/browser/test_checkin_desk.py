"""The check-in desk in a real browser, as door staff use it.

Headless Chromium (tests/browser/chromium.py: Debian's chromium and chromium-driver, which
scripts/test.sh installs when it runs as root) is driven by selenium against the live test
server: a scanner signs in through the admin's form, opens tonight's event, and "scans" by
typing codes and Enter into whatever has the focus, as a USB barcode scanner does; the test
reads the answer, its colour, the counts and the lists, then checks someone in by name. The
page must not scroll sideways nor log a console error. Skipped, saying why, only where
Chromium is missing and CI is unset; under CI it must run.

Every run saves the desk's green answer under pytest's temporary directory; with
EVENTLY_SCREENSHOTS=docs (`make screenshot`) it is docs/checkin-desk.png.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookings.services import booking_cancel, booking_create
from bookings.tickets.codes import TicketRef, ticket_code
from tests.browser.chromium import (
    chromium,
    console_errors,
    require_chromium,
    save_page,
    sideways_scroll,
)
from tests.factories import PASSWORD, EventFactory, ScannerFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
WAIT = 15


@pytest.fixture
def browser():
    require_chromium()
    with chromium(1280, 820) as driver:
        yield driver


def wait_until(browser, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT).until(lambda d: condition(d), message=what)


def test_a_scanner_checks_people_in_at_the_desk(live_server, browser, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    night = EventFactory(
        name="Jazz Night", venue="Blue Room", event_time=timezone.now() + timedelta(hours=1)
    )
    ann = UserFactory(name="Ann Holder", email="ann.holder@example.com")
    bob = UserFactory(name="Bob Walker", email="bob.walker@example.com")
    gone = UserFactory(name="Gus Gone")
    anns = booking_create(event_id=night.pk, user=ann, quantity=2).booking
    booking_create(event_id=night.pk, user=bob, quantity=1)
    cancelled = booking_create(event_id=night.pk, user=gone, quantity=1).booking
    booking_cancel(booking_id=cancelled.pk, actor=gone)
    elsewhere = booking_create(
        event_id=EventFactory(name="Opera Gala").pk, user=ann, quantity=1
    ).booking
    scanner = ScannerFactory(name="Dana Door", email="door@example.com")

    def code(booking, index=0):
        return ticket_code(TicketRef(booking.pk, index))

    def scanned(keys):
        # A USB scanner types into whatever has the focus, then presses Enter.
        ActionChains(browser).send_keys(keys + Keys.ENTER).perform()

    panel = None

    def answer(colour: str, text: str):
        wait_until(
            browser,
            lambda d: (
                f"desk-{colour}" in panel.get_attribute("class")
                and text in panel.text
                and d.find_element(By.ID, "scan-code").get_attribute("value") == ""
            ),
            f"a {colour} answer saying {text!r}",
        )
        return panel.text

    def counts():
        return tuple(
            browser.find_element(By.ID, f"count-{name}").text
            for name in ("in", "expected", "remaining")
        )

    # Sign in through the admin's own form; a scanner lands on tonight's events.
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(scanner.email)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD + Keys.ENTER)
    wait_until(browser, lambda d: d.current_url.endswith("/admin/checkin/"), "the desk index")
    assert "Jazz Night" in browser.page_source
    browser.find_element(By.LINK_TEXT, "Open desk").click()
    wait_until(
        browser,
        lambda d: d.find_element(By.ID, "checkin-desk").get_attribute("data-ready") == "true",
        "the desk's script",
    )
    panel = browser.find_element(By.ID, "scan-result")
    box = browser.find_element(By.ID, "scan-code")
    assert browser.switch_to.active_element == box  # ready for the first scan
    assert counts() == ("0", "3", "3")

    # Green: in. The screenshot is of this answer.
    scanned(code(anns, 0))
    assert "Ann Holder · ticket 1 of 2" in answer("ok", "Checked in")
    wait_until(browser, lambda d: counts() == ("1", "3", "2"), "the counts after one in")
    assert not sideways_scroll(browser)
    save_page(browser, shots / "checkin-desk.png")
    assert browser.switch_to.active_element == box  # still focused for the next one

    # Amber: already in, with the time. Red: void, unknown, another event's ticket.
    scanned(code(anns, 0))
    assert "Ann Holder" in answer("warn", "Already checked in at")
    scanned(code(cancelled))
    answer("bad", "Void ticket")
    scanned(code(anns, 0)[:-2] + "xx")
    answer("bad", "Unknown ticket")
    scanned(code(elsewhere))
    assert "Opera Gala" in answer("bad", "Wrong event")
    assert counts() == ("1", "3", "2")

    # A click elsewhere on the page gives the focus back to the box.
    browser.find_element(By.CLASS_NAME, "desk-event").click()
    assert browser.switch_to.active_element == box

    # No phone: found by name, checked in with the button; the box gets the focus back.
    search = browser.find_element(By.ID, "search-q")
    search.click()
    search.send_keys("walker" + Keys.ENTER)
    button = wait_until(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, "#search-results button"),
        "a Check in button for Bob",
    )
    assert "Bob Walker" in browser.find_element(By.ID, "search-results").text
    button.click()
    assert "Bob Walker" in answer("ok", "Checked in")
    wait_until(browser, lambda d: counts() == ("2", "3", "1"), "the counts after two in")
    wait_until(
        browser,
        lambda d: "In at" in d.find_element(By.ID, "search-results").text,
        "Bob's row showing him in",
    )
    assert browser.switch_to.active_element == box

    # The lists: this door's scans, newest first, and the latest check-ins of every door.
    kinds = ("Already checked in", "Checked in", "Wrong event", "Unknown ticket", "Void ticket")
    log = [
        next(kind for kind in kinds if kind in item.text)
        for item in browser.find_element(By.ID, "scan-log").find_elements(By.TAG_NAME, "li")
    ]
    assert log == [
        "Checked in",
        "Wrong event",
        "Unknown ticket",
        "Void ticket",
        "Already checked in",
        "Checked in",
    ]
    recent = browser.find_element(By.ID, "recent").text
    assert "Bob Walker" in recent and "Ann Holder" in recent
    assert console_errors(browser) == []
