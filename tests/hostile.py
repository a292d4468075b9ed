"""Hostile inputs, one list for every door of the project: the API's tests and the staff
pages' (tests/test_staff_bad_input.py) throw the same ones.

Each was a 500 somewhere once, or is the kind that makes one: a NUL (PostgreSQL text cannot
hold it; the API refuses it in every string, which is why the schemathesis run leaves it out),
digits Python reads and PostgreSQL does not, numbers past every range, UTC offsets PostgreSQL
refuses, dates past year 9999, JSON nested past Python's recursion limit, markup, formulas.
"""

# Nested past the recursion limit of Python's JSON parser (RecursionError, not ValueError).
NESTED_JSON = "[" * 50000 + "]" * 50000

# `str.isdigit()` says yes to both, `int()` takes the Arabic-Indic three, PostgreSQL neither.
NON_ASCII_DIGITS = ("²", "٣")

# UTC offsets past PostgreSQL's ±15:59, and bounds whose UTC time falls outside years 1-9999.
ODD_DATETIMES = (
    "2030-01-01T00:00:00-17:09",
    "2030-01-01T00:00:00+23:59",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:00-05:00",
)

# Values for any query parameter, form field or JSON string.
VALUES = (
    "\x00",
    "ann\x00@example.com",
    "99999999999",  # past a C int: OverflowError in datetime(), in a year of the date hierarchy
    "-1",
    "0",
    *NON_ASCII_DIGITS,
    "1e400",
    "NaN",
    *ODD_DATETIMES,
    "x" * 5000,
    "' OR 1=1 --",
    '<script>alert("x")</script>',
    '=HYPERLINK("http://evil.example/","x")',
    "%",
    "\u202egnp.exe",
)

# JSON bodies that are valid JSON but not what a view expects.
JSON_BODIES = ("null", "[]", "42", '"code"', '{"code": null}', '{"code": {"a": 1}}')
