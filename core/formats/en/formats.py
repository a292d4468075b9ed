"""Dates as the console shows them: day month year and a 24-hour clock ("9 Dec 2026, 19:00"),
shorter than Django's English "Dec. 9, 2026, 7 p.m." so list columns stay narrow, and the one
form of a date across the console: lists, titles, breadcrumbs, filters. Only the
display formats are set; input formats stay Django's (ISO dates are always accepted)."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
# The date hierarchy above lists: its days ("11 Dec") and months ("Dec 2026").
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
