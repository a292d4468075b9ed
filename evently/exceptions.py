"""Domain errors raised by services.

A service refuses an illegal move by raising one of these; `evently.problems` turns it into an
RFC 9457 problem response in one place, so views never map errors themselves.
"""

from typing import Any


class DomainError(Exception):
    status = 409
    code = "conflict"
    title = "Conflict"
    default_detail = "The request conflicts with the current state."

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.default_detail
        # Extension members of the problem document, e.g. `available_seats` on sold_out.
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"
    default_detail = "Not found."


class Invalid(DomainError):
    """Input that is well-formed but breaks a rule that depends on no state."""

    status = 400
    code = "validation_error"
    title = "Invalid input"
    default_detail = "One or more fields are invalid."

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None) -> None:
        super().__init__(detail)
        self.errors = errors


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"
    title = "Invalid credentials"
    default_detail = "Invalid email or password."


class TokenNotValid(DomainError):
    """A refresh token in a request body that is invalid, expired, revoked or not the caller's.

    Not an authentication failure of the request itself, so a client that still sends a stale
    access token in `Authorization` can refresh.
    """

    status = 401
    code = "token_not_valid"
    title = "Token not valid"
    default_detail = "Token is invalid or expired."


class EmailTaken(DomainError):
    code = "email_taken"
    title = "Email already registered"
    default_detail = "An account with this email already exists."


class CapacityBelowTaken(DomainError):
    code = "capacity_below_taken"
    title = "Capacity below taken seats"
    default_detail = "Capacity cannot drop below the seats already booked or held."


class EventCancelled(DomainError):
    code = "event_cancelled"
    title = "Event cancelled"
    default_detail = "This event is cancelled and can no longer be changed."


class LockTimeout(DomainError):
    """A row lock could not be had in time; the client should retry shortly."""

    code = "busy"
    title = "Busy, try again"
    default_detail = "The resource is busy; retry shortly."
    retry_after = 1
