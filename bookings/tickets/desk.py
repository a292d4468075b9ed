"""The check-in desk, pages of the Django admin for the door (staff and role scanner).

A page per event with a box that a USB barcode scanner types into (the code, then Enter), a
large coloured answer, the door's counts and the latest check-ins, and a search by name or
e-mail for people without their phone. The page's script (`bookings/static/bookings/
checkin.js`) talks to the JSON views below with the admin session and its CSRF token; every
answer comes from the same service and selectors as the API's check-in routes.

Wrapped with `admin.site.door_view`: the only pages of the admin site a scanner can open.

What the door sees is what a door needs, no more: a scanner's account reaches only the events
the desk offers tonight (`desk_events`; staff reach any), and the desk's answers name the
holder, the ticket's state and the booking, with the booker's e-mail masked and never a
ticket's code. Otherwise short searches (`q=@e`) would hand a scanner every code and every
e-mail of any event, and each code then checks in over the API.
"""

import json
from functools import wraps

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.http import require_GET, require_POST
from rest_framework.utils.encoders import JSONEncoder

from bookings.tickets import selectors, services
from bookings.tickets.codes import ref_from_code, ref_from_ticket_id
from core.admin_tools import when
from core.exceptions import DomainError
from core.problems import problem, problem_response
from events.models import Event

RECENT = 8


def _json(body: dict, **kwargs) -> JsonResponse:
    # DRF's encoder, so datetimes and ids read exactly as the API writes them.
    return JsonResponse(body, encoder=JSONEncoder, **kwargs)


def _event(request, event_id) -> Event:
    """The desk's event with its door counts: any for staff; for door staff only one that
    `desk_events` offers (PermissionDenied for another, so a scanner's account reaches no
    other event's holders)."""
    if request.user.is_staff:
        events = Event.objects.annotate(checked_in=selectors.checked_in_tickets())
    else:
        events = selectors.desk_events()
    event = events.filter(pk=event_id).first()
    if event is not None:
        return event
    if Event.objects.filter(pk=event_id).exists():
        raise PermissionDenied(
            "This event's desk is not open to door staff: only the events on the desk's list."
        )
    raise Http404("No event with this id.")


def _json_view(view):
    """A JSON view of the desk: called with its event, a refusal as a problem document."""

    @wraps(view)
    def json_view(request, event_id):
        try:
            event = _event(request, event_id)
        except PermissionDenied as refusal:
            return problem_response(403, "permission_denied", str(refusal))
        return view(request, event)

    return json_view


_WINDOW_LABELS = {
    selectors.CheckInWindow.NOT_YET: "Check-in opens {}",
    selectors.CheckInWindow.OPEN: "Check-in open until {}",
    selectors.CheckInWindow.CLOSED: "Check-in closed at {}",
}


def window_of(event: Event) -> dict:
    """The event's check-in window as the desk shows it: its state, bounds and a line saying
    when the door opens or closes, in the console's time zone."""
    window = selectors.checkin_window(event)
    state = window.state()
    moment = window.opens_at if state == window.NOT_YET else window.closes_at
    return {
        "state": state,
        "opens_at": window.opens_at,
        "closes_at": window.closes_at,
        "label": _WINDOW_LABELS[state].format(when(moment)),
    }


def masked_email(email: str) -> str:
    """`a•••@example.com`, as box offices print it: enough to tell two Ann Smiths apart at the
    desk, not a list of addresses to collect."""
    local, at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if at else "•••"


def _ticket(ticket) -> dict:
    """A ticket as the desk shows it: never its code, which would let it in elsewhere."""
    return {
        "id": ticket.id,
        "booking_id": ticket.booking_id,
        "number": ticket.number,
        "quantity": ticket.booking.quantity,
        "status": ticket.status,
        "holder": ticket.holder_name,
        "checked_in_at": ticket.checked_in_at,
    }


def _search_row(ticket) -> dict:
    return {**_ticket(ticket), "email": masked_email(ticket.booking.user.email)}


@require_GET
def desk_index(request):
    """Tonight's events (`desk_events`), each with its door counts and check-in window."""
    events = [
        {"event": event, "window": window_of(event), **selectors.counts_of(event)}
        for event in selectors.desk_events()
    ]
    context = {**admin.site.each_context(request), "title": "Check-in desk", "events": events}
    return TemplateResponse(request, "admin/bookings/checkin/index.html", context)


@require_GET
def desk(request, event_id):
    event = _event(request, event_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Check-in: {event.name}",
        "event": event,
        "counts": selectors.counts_of(event),
        "window": window_of(event),
        "recent": selectors.recent_check_ins(event_id=event.pk, limit=RECENT),
    }
    return TemplateResponse(request, "admin/bookings/checkin/desk.html", context)


@require_POST
@_json_view
def desk_scan(request, event):
    """Check a ticket in at this event's door: `{"code"}` as scanned, or `{"ticket_id"}` from
    the search. Answers 200 whatever the outcome, which `result` names: `checked_in`, or the
    API's refusal code with its problem document's members (`checked_in_at`, `ticket_event`).
    A refusal is the door's ordinary business, not a failed request; plus the counts."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):  # not JSON, or nested past Python's recursion limit
        body = None
    if not isinstance(body, dict):
        body = {}
    if "ticket_id" in body:
        ref = ref_from_ticket_id(body["ticket_id"])
    else:
        ref = ref_from_code(str(body.get("code", "")).strip())
    try:
        ticket = services.ticket_check_in(ref=ref, event_id=event.pk, actor=request.user)
    except DomainError as exc:
        answer = {
            "result": exc.code,
            **problem(exc.status, exc.code, exc.detail, title=exc.title, **exc.extra),
        }
    else:
        answer = {
            "result": "checked_in",
            "title": "Checked in",
            "ticket": _ticket(ticket),
            "holder": {"name": ticket.holder_name},
            "quantity": ticket.booking.quantity,
        }
    answer["counts"] = selectors.door_counts(event_id=event.pk)
    return _json(answer)


@require_GET
@_json_view
def desk_status(request, event):
    """The counts, the check-in window and the latest check-ins, which the page polls."""
    return _json(
        {
            "counts": selectors.counts_of(event),
            "window": window_of(event),
            "recent": selectors.recent_check_ins(event_id=event.pk, limit=RECENT),
        }
    )


@require_GET
@_json_view
def desk_search(request, event):
    """Tickets by the holder's name or e-mail: `{"results": [...]}`, each with the booking's
    id, the ticket's state and the e-mail masked."""
    query = request.GET.get("q", "")
    if "\x00" in query:  # PostgreSQL text cannot hold one: no name or e-mail has it
        return problem_response(
            400,
            "validation_error",
            "One or more fields are invalid.",
            errors={"q": ["Null characters are not allowed."]},
        )
    tickets = selectors.desk_search(event_id=event.pk, query=query)
    return _json({"results": [_search_row(t) for t in tickets]})


def checkin_desk_url(event_id) -> str | None:
    """The check-in desk of an event, or None while the console has no desk."""
    try:
        return reverse("admin-checkin-desk", args=[event_id])
    except NoReverseMatch:
        return None


def urls():
    door = admin.site.door_view
    return [
        path("", door(desk_index), name="admin-checkin"),
        path("<uuid:event_id>/", door(desk), name="admin-checkin-desk"),
        path("<uuid:event_id>/scan", door(desk_scan), name="admin-checkin-scan"),
        path("<uuid:event_id>/status", door(desk_status), name="admin-checkin-status"),
        path("<uuid:event_id>/search", door(desk_search), name="admin-checkin-search"),
    ]
