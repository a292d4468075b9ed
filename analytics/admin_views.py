"""The staff analytics dashboard, a page of the admin site (wrapped in `admin_view` in urls).

Every figure comes from `analytics.selectors`; this view only picks the period, turns the
figures into chart geometry (`analytics.charts`) and renders the admin template.
"""

from datetime import UTC, timedelta

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils import timezone

from analytics import charts, selectors
from core.db_router import replica_reads

DEFAULT_DAYS, MIN_DAYS, MAX_DAYS = 30, 7, 366
PERIOD_CHOICES = (7, 30, 90, 365)
UPCOMING_LIMIT = 15
TOP_LIMIT = 10
PAST_LIMIT = 10
METER_WIDTH = 180
TOP_METER_WIDTH = 100
CONVERSION_WIDTH = 440


def period_days(raw: str | None) -> int:
    """The period length from `?days=`; anything unreadable or out of range is the default."""
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if MIN_DAYS <= days <= MAX_DAYS else DEFAULT_DAYS


def _with_meter(row: dict, parts: list[int], width: int) -> dict:
    row["meter"] = charts.stacked_bar(parts, total=row["total_capacity"], width=width)
    row["sold_percent"] = charts.percent(row["confirmed_tickets"], row["total_capacity"])
    return row


@replica_reads
def dashboard(request):
    days = period_days(request.GET.get("days"))
    today = timezone.now().astimezone(UTC).date()
    period = selectors.Period(start=today - timedelta(days=days - 1), end=today)
    overview = selectors.sales_overview(period=period)
    series = overview["series"]
    labels = [f"{row['date'].day} {row['date']:%b}" for row in series]

    upcoming = [
        _with_meter(row, [row["confirmed_tickets"], row["held_seats"]], METER_WIDTH)
        for row in selectors.upcoming_utilization(limit=UPCOMING_LIMIT)
    ]
    for row in upcoming:
        row["held_percent"] = charts.percent(row["held_seats"], row["total_capacity"])

    top_events = [
        _with_meter(row, [row["confirmed_tickets"]], TOP_METER_WIDTH)
        for row in selectors.popular_events(limit=TOP_LIMIT)
        if row["confirmed_tickets"]
    ]

    attendance = selectors.past_attendance(limit=PAST_LIMIT)
    for row in attendance["events"]:
        row["meter"] = charts.stacked_bar(
            [row["checked_in"], row["no_shows"]], width=TOP_METER_WIDTH
        )
        row["no_show_percent"] = charts.percent(row["no_shows"], row["confirmed_tickets"])
    attendance["no_show_percent"] = charts.percent(attendance["no_shows"], attendance["tickets"])

    waitlist = selectors.waitlist_conversion()
    outcomes = [
        ("accepted", "Accepted", waitlist["accepted"]),
        ("expired", "Expired", waitlist["expired"]),
        ("open", "Still offered", waitlist["still_offered"]),
        ("cancelled", "Declined or cancelled", waitlist["cancelled"]),
    ]
    segments = charts.stacked_bar([count for *_, count in outcomes], width=CONVERSION_WIDTH)
    decided = waitlist["accepted"] + waitlist["expired"] + waitlist["cancelled"]

    context = {
        **admin.site.each_context(request),
        "title": "Analytics dashboard",
        "days": days,
        "period_choices": PERIOD_CHOICES,
        "overview": overview,
        "no_sales": not overview["bookings"],
        "bookings_chart": charts.series_chart([row["bookings"] for row in series], labels),
        "revenue_chart": charts.series_chart([row["revenue"] for row in series], labels),
        "revenue_heading": f"Revenue per day ({settings.CURRENCY})",
        "currency_code": settings.CURRENCY,
        "upcoming": upcoming,
        "ticket_types": selectors.upcoming_ticket_types(),
        "meter_width": METER_WIDTH,
        "top_events": top_events,
        "top_meter_width": TOP_METER_WIDTH,
        "attendance": attendance,
        "waitlist": waitlist,
        "conversion": [
            {"key": key, "label": label, "count": count, "segment": segment}
            for (key, label, count), segment in zip(outcomes, segments, strict=True)
        ],
        "conversion_width": CONVERSION_WIDTH,
        "decided": decided,
        "acceptance_percent": charts.percent(waitlist["accepted"], decided),
    }
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)
