"""What the bookings app tells whoever listens, sent inside the transaction of the change.

A receiver runs in that transaction: what it writes commits or rolls back with the change, and
an exception in it undoes the change. Apps above this one (webhooks) listen; this app never
imports them.
"""

from django.dispatch import Signal

# booking: the confirmed Booking, its event attached. The common booking (one type, free seats,
# no Idempotency-Key) sends it within its one round trip to the database, after its write is
# sent but before its outcome is known (bookings.statements.book_free_seats): a receiver writes
# only with statements conditional on the booking's row, as webhooks.outbox.record(only_with=)
# does, and a refused booking then writes nothing.
booking_confirmed = Signal()
# bookings: the cancelled Bookings (one, or every booking of a cancelled event), events attached.
bookings_cancelled = Signal()
# ticket: the bookings.tickets.selectors.Ticket just let in at the door.
ticket_checked_in = Signal()
