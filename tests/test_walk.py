"""The README's API walk, run as a newcomer would run it: `make walk` (scripts/walk.sh) takes the
README's blocks marked <!-- walk --> and runs them in order against a fresh development server
on a new SQLite database with the demo data. Then the database must hold what the walk says
happened: a one-seat event, the demo user's booking cancelled, Ann's waitlist entry offered
and accepted, her booking confirmed."""

import re
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def walk_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"^<!-- walk -->\n```sh\n(.*?)^```$", text, re.M | re.S)


def test_the_walk_covers_a_seat_from_booking_to_an_accepted_offer_on_makes_port():
    walk = "\n".join(walk_blocks())
    assert walk.startswith("API=http://localhost:${PORT:-8080}/api")
    for step in (
        "$API/auth/register",
        r"\"total_capacity\": 1",  # the admin's one-seat event
        '"email": "user@evently.local"',  # the demo user books it
        '| field \'["waitlist_entry"]["id"]\'',  # Ann waits
        "$API/bookings/$BOOKING/cancel",  # the demo user cancels
        "$API/waitlist/$ENTRY/accept",  # Ann accepts the offer
        "$API/events/$JAZZ/ticket-types",  # the admin adds a second ticket type
        r"\"items\": [",  # Ann books both types in one booking
        '-X POST "$PAY_URL"',  # and pays on the payment page
        "$API/bookings/$JAZZ_BOOKING/cancel",  # then cancels it: refunded
    ):
        assert step in walk, step
    assert "<" not in re.sub(r"<<|< /dev", "", walk), "a placeholder is left in the walk"


def test_make_walk_runs_the_readme_walk_to_its_end(tmp_path):
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "walk", f"WALK_DIR={tmp_path}"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    port = re.search(r"against http://localhost:(\d+) \(PORT=\1\)", done.stdout).group(1)
    assert "The walk finished" in done.stdout
    assert '"status":"offered"' in done.stdout
    assert (tmp_path / "ticket.svg").read_text().lstrip().startswith(("<?xml", "<svg"))

    with sqlite3.connect(tmp_path / "walk.sqlite3") as db:
        # The jazz night sold two types in one booking: 2 early birds and 1 general admission.
        items = db.execute(
            "SELECT t.name, i.quantity, i.amount FROM bookings_bookingitem i "
            "JOIN events_tickettype t ON t.id = i.ticket_type_id "
            "JOIN events_event e ON e.id = t.event_id WHERE e.name = 'Jazz Night' ORDER BY i.id"
        ).fetchall()
        assert [(n, q, float(a)) for n, q, a in items] == [
            ("Early bird", 2, 50.0),
            ("General admission", 1, 40.0),
        ]
        # Ann paid for it on its payment page, then cancelled it: refunded through the provider.
        ((status, refunded, payment),) = db.execute(
            "SELECT b.status, b.refunded_amount, p.status FROM bookings_booking b "
            "JOIN events_event e ON e.id = b.event_id "
            "JOIN bookings_payment p ON p.booking_id = b.id WHERE e.name = 'Jazz Night'"
        ).fetchall()
        assert (status, float(refunded), payment) == ("cancelled", 90.0, "refunded")
        ((event_id, capacity, available),) = db.execute(
            "SELECT id, total_capacity, available_seats FROM events_event "
            "WHERE name = 'House Concert'"
        ).fetchall()
        assert (capacity, available) == (1, 0)
        bookings = db.execute(
            "SELECT u.email, b.status, b.quantity FROM bookings_booking b "
            "JOIN accounts_user u ON u.id = b.user_id WHERE b.event_id = ? ORDER BY b.created_at",
            (event_id,),
        ).fetchall()
        assert bookings == [
            ("user@evently.local", "cancelled", 1),
            ("ann@example.com", "confirmed", 1),
        ]
        entries = db.execute(
            "SELECT u.email, w.status FROM waitlist_waitlistentry w "
            "JOIN accounts_user u ON u.id = w.user_id WHERE w.event_id = ?",
            (event_id,),
        ).fetchall()
        assert entries == [("ann@example.com", "accepted")]
    # The walk's server stops with it.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
