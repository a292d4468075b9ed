"""Small helpers shared by the admin classes."""

from collections.abc import Callable, Iterable
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminSplitDateTime
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.timezone import get_current_timezone_name, localtime

from core.exceptions import DomainError


def run_each(
    request, modeladmin, items: Iterable, action: Callable, verb: str, label: Callable = str
) -> None:
    """Run a service on each selected item; report successes and refusals (each item named by
    `label`) to the user.

    Each call is its own transaction, so one refusal (say, an already cancelled booking)
    neither blocks nor undoes the others.
    """
    done, refused = 0, []
    for item in items:
        try:
            action(item)
        except DomainError as exc:
            refused.append(f"{label(item)}: {exc.detail}")
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{verb}: {done}.", level=messages.SUCCESS)
    for reason in refused:
        modeladmin.message_user(request, reason, level=messages.WARNING)


class ReadOnlyRecordsMixin:
    """For admin classes of records that only services write: staff may look, not edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConsoleChangeList(ChangeList):
    """Django's list page, refusing a hostile query string as Django refuses a filter value it
    cannot read (IncorrectLookupParameters: back to the unfiltered list with `?e=1`) instead
    of failing with a 500: a NUL character anywhere in it (PostgreSQL text cannot hold one,
    so a filter or a search with it is a DataError) or a date part past Python's dates
    (`?event_time__year=99999999999` is an OverflowError in the date hierarchy)."""

    def get_filters(self, request):
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise IncorrectLookupParameters("A NUL character in the query.")
        try:
            return super().get_filters(request)
        except OverflowError as exc:
            raise IncorrectLookupParameters(exc) from exc


class ConsoleListMixin:
    """For every admin class of the console: its list page is a `ConsoleChangeList`."""

    def get_changelist(self, request, **kwargs):
        return ConsoleChangeList


def meter(part: float, held: float, total: float, *, wide: bool = False) -> str:
    """How full an event is, as a bar: sold, then held by open offers, of `total`. Drawn in
    SVG by attributes, not by inline styles, which the console's Content-Security-Policy
    refuses."""
    sold = min(100, round(part / total * 100)) if total else 0
    held = min(100 - sold, round(held / total * 100)) if total else 0
    return format_html(
        '<svg class="ev-meter{}" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" '
        'aria-label="{}% sold"><rect class="ev-sold" width="{}" height="10"/>'
        '<rect class="ev-held" x="{}" width="{}" height="10"/></svg>',
        " ev-meter-wide" if wide else "",
        sold,
        sold,
        sold,
        held,
    )


# Status badges: the tone each status is shown in, across the console.
_TONES = {
    "confirmed": "ok",
    "active": "ok",
    "inactive": "off",
    "used_up": "bad",
    "scheduled": "ok",
    "sent": "ok",
    "accepted": "ok",
    "waiting": "info",
    "offered": "warn",
    "pending": "warn",
    "pending_payment": "warn",
    "input": "info",
    "rejected": "bad",
    "error": "bad",
    "refunded": "off",
    "sending": "warn",
    "failed": "bad",
    "expired": "bad",
}


def badge(status: str, label: str | None = None, note: str = "") -> str:
    """A status as a coloured pill, with an optional line of detail under it."""
    pill = format_html(
        '<span class="ev-badge ev-badge-{}">{}</span>',
        _TONES.get(status, "off"),
        label or status.replace("_", " ").capitalize(),
    )
    return format_html(
        "{}{}", pill, format_html('<span class="ev-sub">{}</span>', note) if note else ""
    )


def _with_note(title: str, note: str) -> str:
    return format_html('{}<span class="ev-sub">{}</span>', title, note)


def person(user) -> str:
    """A person as staff know them: the name, with the e-mail address under it."""
    return _with_note(user.name, user.email)


def event_when(event) -> str:
    """An event as a list names it: the name, with its date and time under it."""
    return _with_note(event.name, when(event.event_time))


def when(moment) -> str:
    """A moment in the console's short form (evently/formats), in the site's time zone."""
    return date_format(localtime(moment), "DATETIME_FORMAT") if moment else "\N{EN DASH}"


def counted(number: int, singular: str, plural: str | None = None) -> str:
    """ "1 booking", "3 bookings", "2 people"."""
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def money(amount: Decimal | int | str | None) -> str:
    """An amount with its currency, as `CURRENCY` names it: "EUR 1,250.00" (a dash for none:
    a template's missing value is "")."""
    if amount is None or amount == "":
        return "\N{EN DASH}"
    return f"{settings.CURRENCY} {Decimal(amount):,.2f}"


def _in_currency(label: str) -> str:
    return f"{label} ({settings.CURRENCY})"


# A column or field label naming the currency, "Amount (EUR)": the figures under it stay bare,
# so the list's columns stay narrow. Lazy, read when the page is drawn, not at import.
in_currency = lazy(_in_currency, str)


class ZonedSplitDateTime(AdminSplitDateTime):
    """Django's date and time inputs with the time zone they are read in named beside them
    (`TIME_ZONE`), so nobody types a local time into a UTC field unawares."""

    template_name = "admin/core/widgets/split_datetime.html"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["time_zone"] = get_current_timezone_name()
        return context
