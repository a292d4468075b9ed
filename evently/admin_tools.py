"""Small helpers shared by the admin classes."""

from collections.abc import Callable, Iterable

from django.contrib import messages

from evently.exceptions import DomainError


def run_each(request, modeladmin, items: Iterable, action: Callable, verb: str) -> None:
    """Run a service on each selected item; report successes and refusals to the user.

    Each call is its own transaction, so one refusal (say, an already cancelled booking)
    neither blocks nor undoes the others.
    """
    done, refused = 0, []
    for item in items:
        try:
            action(item)
        except DomainError as exc:
            refused.append(f"{item}: {exc.detail}")
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
