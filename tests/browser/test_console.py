"""The staff console in a real browser, as a new member of staff would use it.

Headless Chromium at 1366 x 768 signs in as the demo admin over the demo data (the story a
first `make run` loads), opens the front page, every page its sections link to, an event's
page, the dashboard and, where the console has one, the check-in desk; on each, nothing may
scroll sideways (at 1920 x 1080 either) and the browser console must stay free of errors.
Then it cancels an event and messages an event's ticket holders through the pages, reading
what they say. The dark theme is looked at too.

Every run saves its screenshots under pytest's temporary directory; with
EVENTLY_SCREENSHOTS=docs (what `make screenshot` sets) the three in the README are written to
docs/ instead: admin-index.png, admin-event.png and dashboard.png (the check-in desk's,
checkin-desk.png, is taken by tests/browser/test_checkin_desk.py, showing a scan's answer).
"""

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from bookings.models import Booking
from bookings.tickets.desk import checkin_desk_url
from boxoffice.selectors import event_cancel_impact, event_ticket_holders
from events.models import Event
from notifications.models import Notification
from tests.browser.chromium import (
    chromium,
    console_errors,
    require_chromium,
    save_page,
    sideways_scroll,
)
from tests.invariants import assert_books_balance
from waitlist.models import WaitlistEntry

ROOT = Path(__file__).resolve().parents[2]
SCREENS = (1366, 768), (1920, 1080)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-")


@pytest.fixture
def browser():
    require_chromium()
    with chromium() as driver:
        yield driver


@pytest.fixture
def demo(settings):
    """The demo data, with e-mail kept in memory and sent right after each commit."""
    call_command("load_demo_data", "--force", stdout=io.StringIO())
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFICATION_EMAIL_ON_COMMIT = True


class Staff:
    """A member of staff at the browser: opens pages, clicks, types, reads."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base = base_url

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def click(self, element) -> None:
        """Click what leads to another page, and wait until that page has loaded."""
        from selenium.webdriver.support.expected_conditions import staleness_of
        from selenium.webdriver.support.wait import WebDriverWait

        page = self.find("html")
        element.click()
        WebDriverWait(self.driver, 30).until(staleness_of(page))
        WebDriverWait(self.driver, 30).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    def click_link(self, text: str) -> None:
        """The link whose text starts with `text` (a list's links carry a second line)."""
        from selenium.webdriver.common.by import By

        for link in self.driver.find_elements(By.PARTIAL_LINK_TEXT, text):
            if link.text.startswith(text):
                self.click(link)
                return
        raise AssertionError(f"no link {text!r} on {self.path}")

    def text(self, css: str = "body") -> str:
        return self.find(css).text

    def sign_in(self, email: str, password: str) -> None:
        self.open("/admin/login/?next=/admin/")
        self.check_page()
        assert "Evently" in self.text("#header")
        self.find("#id_username").send_keys(email)
        self.find("#id_password").send_keys(password)
        self.click(self.find("#login-form [type=submit]"))
        assert self.path == "/admin/", self.text()

    def check_page(self) -> None:
        """Nothing scrolls sideways at either screen size, and no console error."""
        for width, height in SCREENS:
            self.driver.set_window_size(width, height)
            assert not sideways_scroll(self.driver), (
                self.path,
                width,
                sideways_scroll(self.driver),
            )
        self.driver.set_window_size(*SCREENS[0])
        assert not console_errors(self.driver), (self.path, console_errors(self.driver))


def test_staff_use_the_console_at_1366_px(live_server, browser, demo, shots):
    staff = Staff(browser, live_server.url)
    staff.sign_in("admin@evently.local", "evently-admin")

    # --- The front page: today's figures, then the console's sections -------------------------
    staff.check_page()
    assert "Evently" in staff.text("#header") and "Django" not in staff.text("#header")
    figures = staff.text(".ev-kpis")
    for label in ("BOOKINGS TODAY", "REVENUE TODAY", "NEXT EVENT'S FILL", "OFFERS WAITING"):
        assert label in figures.upper()
    sections = [h.text for h in staff.find_all(".ev-sections h2")]
    assert sections[:1] == ["Box office"] and "Security" in sections
    assert "Token" not in staff.text(".ev-section-box-office")
    save_page(browser, shots / "admin-index.png")

    # --- Every page the sections link to -----------------------------------------------------
    links = [a.get_attribute("href") for a in staff.find_all(".ev-sections li a")]
    assert len(links) >= 9  # lists, add pages and the dashboard
    for link in links:
        browser.get(link)
        assert staff.find_all("#content"), link
        staff.check_page()

    # --- A record of each kind, opened from its list ------------------------------------------
    for listing in ("bookings/booking", "waitlist/waitlistentry", "notifications/notification"):
        staff.open(f"/admin/{listing}/")
        staff.click(staff.find("#result_list tbody tr th a"))
        assert staff.path.endswith("/change/")
        staff.check_page()
        assert not UUID.search(staff.text(".breadcrumbs")), staff.text(".breadcrumbs")
    staff.open("/admin/accounts/user/")
    search = staff.find("#searchbar")
    search.send_keys("user@evently.local")
    staff.click(staff.find("#changelist-search [type=submit]"))
    staff.click_link("user@evently.local")
    staff.check_page()

    # --- An event's page -----------------------------------------------------------------
    jazz = Event.objects.get(name="Evening Jazz Quartet")
    staff.open("/admin/events/event/")
    staff.click_link("Evening Jazz Quartet")
    assert staff.path == f"/admin/events/event/{jazz.pk}/change/"
    staff.check_page()
    tools = staff.text(".object-tools").lower()
    assert "message attendees" in tools and "cancel event" in tools
    assert "Cancel" not in staff.text(".submit-row")  # away from Save, in a box of its own
    assert staff.text(".ev-danger-zone .ev-cancel-link") == "Cancel event\u2026"
    assert not staff.find_all(".submit-row .deletelink")
    bookings = staff.text("#bookings-group")
    assert str(Booking.objects.filter(event=jazz).first().user_id) not in bookings
    assert "@example.com" in bookings  # each row names the person
    assert "Doors open at 18:30" in staff.text("#messages")  # the demo's message, delivered
    save_page(browser, shots / "admin-event.png", max_height=2050)  # down to "Cancel this event"

    # --- The dashboard ---------------------------------------------------------------------
    staff.open("/admin/")
    staff.click_link("Analytics dashboard")
    assert staff.path == "/admin/dashboard/"
    staff.check_page()
    assert "No data yet" not in staff.text()
    save_page(browser, shots / "dashboard.png")

    # --- The check-in desk, once the console has one -----------------------------------------
    desk = checkin_desk_url(jazz.pk)
    if desk is not None:
        staff.open(desk)
        staff.check_page()  # its picture is tests/browser/test_checkin_desk.py's

    # --- Cancel an event -------------------------------------------------------------------
    matinee = Event.objects.get(name="Chamber Music Matinee")
    impact = event_cancel_impact(event=matinee)
    assert impact["bookings"] > 0
    staff.open(f"/admin/events/event/{matinee.pk}/change/")
    staff.click(staff.find(".object-tools .ev-cancel-tool"))
    assert staff.path == f"/admin/events/event/{matinee.pk}/cancel/"
    staff.check_page()
    facts = staff.text(".ev-facts")
    assert f"{impact['bookings']}\nconfirmed booking" in facts
    assert f"{impact['people']}\n" in facts and f"{impact['waitlist_entries']}\nwaitlist" in facts
    staff.click(staff.find("input.ev-danger"))
    assert staff.path == f"/admin/events/event/{matinee.pk}/change/"
    assert "Chamber Music Matinee is cancelled" in staff.text(".messagelist")
    assert "Cancel event" not in staff.text("#content-main")
    matinee.refresh_from_db()
    assert matinee.status == "cancelled"
    assert not Booking.objects.filter(event=matinee, status="confirmed").exists()
    assert not WaitlistEntry.objects.filter(
        event=matinee, status__in=["waiting", "offered"]
    ).exists()
    assert_books_balance(matinee)

    # --- Message an event's ticket holders ----------------------------------------------------
    festival = Event.objects.get(name="Food Market Tasting Tour")
    holders = event_ticket_holders(event=festival)
    assert holders > 0
    staff.open(f"/admin/events/event/{festival.pk}/change/")
    staff.click(staff.find(".object-tools .ev-message-tool"))
    staff.check_page()
    people = "person" if holders == 1 else "people"
    assert f"Goes to {holders} {people}" in staff.text(".ev-page")
    staff.find("#id_title").send_keys("Meet at the harbour gate")
    staff.find("#id_message").send_keys("The tour starts at the harbour gate, not the market hall.")
    staff.click(staff.find(".ev-actions [type=submit]"))
    assert staff.path == f"/admin/events/event/{festival.pk}/change/"
    assert f"Message sent to {holders} ticket holder" in staff.text(".messagelist")
    row = staff.find("#messages tbody tr").text
    assert "Meet at the harbour gate" in row
    assert f"{holders} {holders} 0 0" in row  # to, delivered, pending, failed
    sent = Notification.objects.filter(event=festival, type="event_message")
    assert sent.count() == holders and set(sent.values_list("email_status", flat=True)) == {"sent"}
    staff.check_page()


def test_the_dark_theme_is_dark_everywhere_it_is_drawn(live_server, browser, demo, tmp_path):
    staff = Staff(browser, live_server.url)
    staff.sign_in("admin@evently.local", "evently-admin")
    browser.execute_script("localStorage.setItem('theme', 'dark')")
    for path in ("/admin/", "/admin/events/event/", "/admin/dashboard/"):
        staff.open(path)
        assert browser.execute_script("return document.documentElement.dataset.theme") == "dark"
        dark = browser.execute_script(
            """
            const luminance = (el) => {
              const [r, g, b] = getComputedStyle(el).backgroundColor.match(/\\d+/g).map(Number);
              return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
            };
            const boxes = '.ev-kpi, .ev-card, .ad-card, #changelist-filter';
            const cards = [...document.querySelectorAll(boxes)];
            return [luminance(document.body), ...cards.map(luminance)];
            """
        )
        assert max(dark) < 0.25, (path, dark)  # no white box left on the dark page
        staff.check_page()
    save_page(browser, tmp_path / "dashboard-dark.png")
