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
