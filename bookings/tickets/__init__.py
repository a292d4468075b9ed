"""Tickets and check-in, a part of the bookings app.

A confirmed booking of `quantity` seats carries `quantity` tickets. Issuing them writes
nothing: a ticket is its booking and a seat index, and its id and its code are computed from
those (`codes`). Rows are written only when something happens to a ticket: its owner names the
person who will use it (`TicketAttendee`), or it is let in at the door (`TicketCheckIn`, at
most one per ticket, which the database enforces). A ticket's status follows: its booking
cancelled, void; a check-in row, checked in; otherwise valid.

- `codes`: ticket ids and signed codes, pure functions of the booking and the index.
- `selectors`: tickets as the owner and the door see them, counts and searches.
- `services`: the check-in and naming the attendee.
- `serializers`, `views`: the API; `desk`: the check-in desk of the Django admin.
"""
