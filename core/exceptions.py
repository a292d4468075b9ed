"""Domain errors raised by services.

A service refuses an illegal move by raising one of these; `core.problems` turns it into an
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


class AccountClosed(DomainError):
    """The caller's token is sound but its account was deleted or disabled since."""

    status = 401
    code = "token_not_valid"
    title = "Account closed"
    default_detail = "The account no longer exists or is disabled."


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


class EventClosed(DomainError):
    code = "event_closed"
    title = "Event closed"
    default_detail = "This event is cancelled or has already started."


class SoldOut(DomainError):
    code = "sold_out"
    title = "Sold out"
    default_detail = "Not enough seats are available."


class TicketLimit(DomainError):
    code = "ticket_limit"
    title = "Ticket limit reached"
    default_detail = "One person may hold at most 10 confirmed tickets per event."


class AlreadyWaitlisted(DomainError):
    code = "already_waitlisted"
    title = "Already on the waitlist"
    default_detail = "You already have an active waitlist entry for this event."


class AlreadyCancelled(DomainError):
    code = "already_cancelled"
    title = "Already cancelled"
    default_detail = "This is already cancelled."


class EventStarted(DomainError):
    code = "event_started"
    title = "Event started"
    default_detail = "The event has already started."


class OfferExpired(DomainError):
    code = "offer_expired"
    title = "Offer expired"
    default_detail = "The offer has expired; its seats were passed on."


class NotOffered(DomainError):
    code = "not_offered"
    title = "No open offer"
    default_detail = "This waitlist entry has no open offer."


class WaitlistEntryClosed(DomainError):
    code = "waitlist_entry_closed"
    title = "Waitlist entry closed"
    default_detail = "This waitlist entry is no longer active."


class IdempotencyKeyInFlight(DomainError):
    code = "idempotency_key_in_use"
    title = "Request in progress"
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    retry_after = 1


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused"
    default_detail = "This Idempotency-Key was already used with a different request."


class UnknownTicket(DomainError):
    """A code that names no ticket: malformed, forged, or of a booking that does not exist."""

    status = 404
    code = "unknown_ticket"
    title = "Unknown ticket"
    default_detail = "No ticket has this code."


class AlreadyCheckedIn(DomainError):
    code = "already_checked_in"
    title = "Already checked in"
    default_detail = "This ticket has already been checked in."


class TicketVoid(DomainError):
    code = "ticket_void"
    title = "Ticket void"
    default_detail = "This ticket is void: its booking or its event was cancelled."


class WrongEvent(DomainError):
    code = "wrong_event"
    title = "Wrong event"
    default_detail = "This ticket is for another event."


class CheckInClosed(DomainError):
    """A scan outside the event's check-in window (with its bounds, `opens_at`, `closes_at`):
    a ticket for next week does not let its holder in tonight."""

    code = "checkin_closed"
    title = "Check-in closed"
    default_detail = "Check-in for this event is not open."


class CheckedIn(DomainError):
    code = "checked_in"
    title = "Ticket checked in"
    default_detail = "A ticket of this booking has been checked in; it can no longer be cancelled."


class NotOnSale(DomainError):
    code = "not_on_sale"
    title = "Not on sale"
    default_detail = "This ticket type is not on sale now."


class TicketTypeRequired(DomainError):
    """`{event_id, quantity}` for an event that sells several types: which one is meant?"""

    status = 400
    code = "ticket_type_required"
    title = "Ticket type required"
    default_detail = "This event sells several ticket types: book with `items`."


class SeveralTicketTypes(DomainError):
    code = "several_ticket_types"
    title = "Several ticket types"
    default_detail = "This event sells several ticket types: change the price of each type instead."


class TicketTypeSold(DomainError):
    code = "ticket_type_sold"
    title = "Ticket type sold"
    default_detail = (
        "Tickets of this type were booked or waited for: deactivate it (is_active false) "
        "instead of deleting it."
    )


class LastTicketType(DomainError):
    code = "last_ticket_type"
    title = "Last ticket type"
    default_detail = "An event keeps at least one active ticket type."


class BookingExpired(DomainError):
    code = "booking_expired"
    title = "Checkout expired"
    default_detail = "This booking's hold has ended unpaid; its seats were released."


class AlreadyConfirmed(DomainError):
    code = "already_confirmed"
    title = "Already confirmed"
    default_detail = "This booking is confirmed; there is nothing to pay."


class RefundFailed(DomainError):
    """The payment provider refused or failed a refund: nothing was changed."""

    status = 502
    code = "refund_failed"
    title = "Refund failed"
    default_detail = "The payment provider did not refund this booking; nothing was changed."


class NotRefundable(DomainError):
    code = "not_refundable"
    title = "Nothing to refund"
    default_detail = "This payment is not a paid one whose booking can be refunded now."


class VoucherInvalid(DomainError):
    code = "voucher_invalid"
    title = "Voucher not valid"
    default_detail = "This voucher cannot be applied to this booking."


class VoucherUsed(DomainError):
    code = "voucher_used"
    title = "Voucher used"
    default_detail = (
        "Bookings applied this voucher: deactivate it (is_active false) instead of deleting it."
    )
