"""The staff console's queue panel on the event's page: live figures (JSON, polled by the
page) and the buttons that turn the queue on, set its rate, pause and resume it, each through
the same service as PATCH /api/admin/events/{id}/queue."""

import dataclasses

from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.urls import reverse

from core.exceptions import DomainError
from waitingroom import services

_ACTIONS = {
    "enable": {"enabled": True},
    "disable": {"enabled": False},
    "pause": {"paused": True},
    "resume": {"paused": False},
    "rate": {},
}


def queue_panel(request, event_id):
    """GET: the queue's figures now. POST `action` (and `rate`): change it, back to the page."""
    if request.method == "GET":
        return JsonResponse(dataclasses.asdict(services.queue_status(event_id=event_id)))
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    back = HttpResponseRedirect(reverse("admin:events_event_change", args=[event_id]))
    action = request.POST.get("action")
    if action not in _ACTIONS:
        messages.error(request, "Unknown queue action.")
        return back
    values = dict(_ACTIONS[action])
    raw_rate = request.POST.get("rate")
    if raw_rate:
        try:
            values["rate"] = int(raw_rate)
        except ValueError:
            values["rate"] = 0
        if values["rate"] < 1:
            messages.error(request, "The rate is a whole number of people a minute, 1 or more.")
            return back
    try:
        status = services.queue_configure(event_id=event_id, **values)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return back
    state = "off" if not status.queue_enabled else ("paused" if status.paused else "admitting")
    messages.success(request, f"Waiting room {state}, {status.queue_rate} people a minute.")
    return back
