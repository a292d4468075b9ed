"""The check-in desk, pages of the Django admin for the door (staff and role scanner).

A page per event with a box that a USB barcode scanner types into (the code, then Enter), a
large coloured answer, the door's counts and the latest check-ins, and a search by name or
e-mail for people without their phone. The page's script (`bookings/static/bookings/
checkin.js`) talks to the JSON views below with the admin session and its CSRF token; every
answer comes from the same service and selectors as the API's check-in routes.

Wrapped with `admin.site.door_view`: the only pages of the admin site a scanner can open.
"""

import json

from django.contrib import admin
from django.http import Http404, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST
from rest_framework.utils.encoders import JSONEncoder

from bookings.tickets import selectors, services
from bookings.tickets.codes import ref_from_code, ref_from_ticket_id
from bookings.tickets.serializers import TicketSerializer
from evently.exceptions import DomainError, NotFound
from evently.problems import problem
from events.models import Event

RECENT = 8


def _json(body: dict, **kwargs) -> JsonResponse:
    # DRF's encoder, so datetimes and ids read exactly as the API writes them.
    return JsonResponse(body, encoder=JSONEncoder, **kwargs)


def _event(event_id) -> Event:
    event = Event.objects.annotate(checked_in=selectors.checked_in_tickets()).filter(pk=event_id)
    event = event.first()
    if event is None:
        raise Http404("No event with this id.")
    return event


def _ticket_row(ticket) -> dict:
    return {
        **TicketSerializer(ticket).data,
        "holder": ticket.holder_name,
        "email": ticket.booking.user.email,
        "quantity": ticket.booking.quantity,
    }


@require_GET
def desk_index(request):
    """Tonight's events (started in the last 12 hours or starting in the next 24)."""
    events = [{"event": event, **selectors.counts_of(event)} for event in selectors.desk_events()]
    context = {**admin.site.each_context(request), "title": "Check-in desk", "events": events}
    return TemplateResponse(request, "admin/bookings/checkin/index.html", context)


@require_GET
def desk(request, event_id):
    event = _event(event_id)
    context = {
        **admin.site.each_context(request),
        "title": f"Check-in: {event.name}",
        "event": event,
        "counts": selectors.counts_of(event),
        "recent": selectors.recent_check_ins(event_id=event.pk, limit=RECENT),
    }
    return TemplateResponse(request, "admin/bookings/checkin/desk.html", context)


@require_POST
def desk_scan(request, event_id):
    """Check a ticket in at this event's door: `{"code"}` as scanned, or `{"ticket_id"}` from
    the search. Answers 200 whatever the outcome, which `result` names: `checked_in`, or the
    API's refusal code with its problem document's members (`checked_in_at`, `ticket_event`).
    A refusal is the door's ordinary business, not a failed request; plus the counts."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {}
    if "ticket_id" in body:
        ref = ref_from_ticket_id(body["ticket_id"])
    else:
        ref = ref_from_code(str(body.get("code", "")).strip())
    try:
        ticket = services.ticket_check_in(ref=ref, event_id=event_id, actor=request.user)
    except DomainError as exc:
        answer = {
            "result": exc.code,
            **problem(exc.status, exc.code, exc.detail, title=exc.title, **exc.extra),
        }
    else:
        answer = {
            "result": "checked_in",
            "title": "Checked in",
            "ticket": TicketSerializer(ticket).data,
            "holder": {"name": ticket.holder_name},
            "quantity": ticket.booking.quantity,
        }
    try:
        answer["counts"] = selectors.door_counts(event_id=event_id)
    except NotFound:
        raise Http404("No event with this id.") from None
    return _json(answer)


@require_GET
def desk_status(request, event_id):
    """The counts and the latest check-ins, which the page polls."""
    event = _event(event_id)
    return _json(
        {
            "counts": selectors.counts_of(event),
            "recent": selectors.recent_check_ins(event_id=event.pk, limit=RECENT),
        }
    )


@require_GET
def desk_search(request, event_id):
    tickets = selectors.desk_search(event_id=event_id, query=request.GET.get("q", ""))
    return _json({"results": [_ticket_row(t) for t in tickets]})


def urls():
    door = admin.site.door_view
    return [
        path("", door(desk_index), name="admin-checkin"),
        path("<uuid:event_id>/", door(desk), name="admin-checkin-desk"),
        path("<uuid:event_id>/scan", door(desk_scan), name="admin-checkin-scan"),
        path("<uuid:event_id>/status", door(desk_status), name="admin-checkin-status"),
        path("<uuid:event_id>/search", door(desk_search), name="admin-checkin-search"),
    ]
