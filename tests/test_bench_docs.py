"""docs/benchmarks.md has several writers: `make bench` the whole file, `make
bench-instructions` and `make bench-checkout` one section each. None may drop another's."""

import re
from pathlib import Path

from bench import prepare
from bench.run import OWN_HEADINGS, others_sections

DOC = """# Benchmarks

Measured by `make bench` at an older commit.

## Flash sale: `POST /api/bookings`, one seat each

old flash sale

## Another WSGI server: granian beside gunicorn (16 connections, one hot event)

old granian

## Instructions per booking

instructions

### Instructions per queue poll

polls

## Checkout: half paid, half expired

checkout
"""

REPORT = """# Benchmarks

Measured by `make bench` now.

## Flash sale: `POST /api/bookings`, one seat each

new flash sale
"""


def test_make_bench_keeps_the_sections_other_commands_wrote_and_drops_its_own_old_ones():
    kept = others_sections(DOC, REPORT)

    written = prepare.join_sections([REPORT, *kept])

    assert [prepare.heading(s) for s in prepare.doc_sections(written)] == [
        "# Benchmarks",
        "## Flash sale: `POST /api/bookings`, one seat each",
        "## Instructions per booking",
        "## Checkout: half paid, half expired",
    ]
    assert "new flash sale" in written and "old" not in written
    assert "### Instructions per queue poll\n\npolls\n\n## Checkout" in written


def test_every_heading_make_bench_writes_is_listed_as_its_own():
    source = (Path(prepare.ROOT) / "bench" / "run.py").read_text()

    assert set(re.findall(r'"(## [^"]+)"', source)) == set(OWN_HEADINGS)


def test_a_section_is_written_in_place_of_its_earlier_copy_or_at_the_end(tmp_path, monkeypatch):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(DOC)
    monkeypatch.setattr(prepare, "BENCHMARKS_DOC", doc)

    prepare.write_section("## Instructions per booking\n\nnew instructions\n")
    prepare.write_section("## Something else\n\nmore\n")

    text = doc.read_text()
    assert "new instructions" in text and "### Instructions per queue poll" not in text
    assert [prepare.heading(s) for s in prepare.doc_sections(text)][-3:] == [
        "## Instructions per booking",
        "## Checkout: half paid, half expired",
        "## Something else",
    ]
    assert text.endswith("## Something else\n\nmore\n")


def test_the_line_budget_is_what_is_left_of_a_booking_at_the_target_rate():
    from bench.run import line_budget, queue_section

    # 4000 people; the servers spent 10 s (2.5 ms a person, 2.0 of them their booking) and the
    # client 2 s (0.5 ms a person).
    figures = {"bookings": 4000, "rps": 500.0, "booking_p99": 900.0, "poll_p99": 800.0}
    figures |= {"join_p99": 700.0, "polls": 4000, "5xx": 0, "timeouts": 0}
    figures |= {"order_violations": 0, "observations": 4000}
    q = {
        "crowd": 4000,
        "sustained": 600.0,
        "rate_per_minute": 36000,
        "queued": figures,
        "guided": {**figures, "rate_per_minute": 25200},
        "booking_app_ms": 2.0,
        "poll_app_ms": 0.4,
        "queued_cpu_s": {"app": 10.0, "db": 3.0, "cache": 1.0, "client": 2.0, "busy": 16.0},
        "queued_wall_s": 9.0,
        "cores": 2,
        "open_rps": 550.0,
        "open_bookings": 4000,
        "open_p99": 4000.0,
        "open_timeouts": 0,
        "open_429": 0,
        "open_409": 0,
        "open_5xx": 0,
    }
    budget = line_budget(q)
    assert round(budget["allowed"], 4) == round(1 / 0.9 - 1, 4)
    assert round(budget["line_ms"], 6) == 0.5
    assert round(budget["line"], 6) == 0.25
    assert round(budget["client"], 6) == 0.25
    text = "\n".join(queue_section(q))
    assert "0.25 of a booking, and the client 0.25 more: 0.50 against 0.11: admitted" in text

    q["queued_cpu_s"] |= {"app": 8.3, "client": 0.0}  # 0.075 ms a person beyond the booking
    assert "0.04 of a booking, and the client 0.00 more: 0.04 against 0.11: within it." in (
        "\n".join(queue_section(q))
    )
