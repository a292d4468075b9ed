"""What the first `make run` prints while it loads the demo data: a line a week of the story and
a summary, not the services' log line of each of its hundreds of bookings."""

import io
import logging
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from bookings.models import Booking
from waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 3, 15, 12, 0, tzinfo=UTC)


def test_the_first_load_prints_a_line_a_week_and_a_summary_and_logs_nothing_below_warning(
    caplog,
):
    out = io.StringIO()
    with time_machine.travel(NOW), caplog.at_level(logging.INFO):
        call_command("load_demo_data", "--force", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Loading the demo data: a month of box office, booked at its times..."
    weeks = lines[1:6]
    assert weeks[0] == "  Wed 13 Feb: the accounts are made, the events go on sale"
    assert [line[:13] for line in weeks[1:]] == [
        "  Wed 20 Feb:",
        "  Wed 27 Feb:",
        "  Wed 06 Mar:",
        "  Wed 13 Mar:",
    ]
    counts = [int(re.search(r": (\d+) bookings", line).group(1)) for line in weeks[1:]]
    assert counts == sorted(counts) and counts[0] > 0
    summary = re.fullmatch(
        r"Demo data loaded in \d+ s: (\d+) events, (\d+) bookings \((\d+) cancelled\), "
        r"(\d+) waitlist entries \((\d+) offers open\)\.",
        lines[6],
    )
    assert summary, lines[6]
    assert int(summary.group(2)) == Booking.objects.count() > counts[-1]
    assert int(summary.group(4)) == WaitlistEntry.objects.count()
    assert lines[7:] == [
        "Demo logins:",
        "  admin: admin@evently.local / evently-admin  (also for /admin/)",
        "  user:  user@evently.local / evently-user",
        "  door:  door@evently.local / evently-door  (role scanner: the check-in desk)",
    ]
    # Hundreds of bookings, offers and check-ins, and not one INFO record of them.
    assert [
        record.getMessage() for record in caplog.records if record.levelno < logging.WARNING
    ] == []
    # The services log again once the story is told.
    logging.getLogger("bookings.services").info("served again")
    assert caplog.records[-1].getMessage() == "served again"
