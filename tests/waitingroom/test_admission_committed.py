"""The admission rules again, each request in its own transaction as in production: a booking
without an Idempotency-Key then checks the waiting room inside its own one-round-trip
statement (bookings.statements, `unless_queued`), not with a query of its own first."""

import pytest

from tests.waitingroom import test_admission as rules

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

test_a_booking_of_a_queued_event_needs_an_admission = (
    rules.test_a_booking_of_a_queued_event_needs_an_admission
)
test_a_forged_admission_is_refused = rules.test_a_forged_admission_is_refused
test_an_expired_admission_is_refused = rules.test_an_expired_admission_is_refused
test_a_borrowed_admission_is_refused = rules.test_a_borrowed_admission_is_refused
test_an_admission_for_another_event_is_refused = (
    rules.test_an_admission_for_another_event_is_refused
)
test_an_idempotent_replay_from_before_the_queue_is_refused = (
    rules.test_an_idempotent_replay_from_before_the_queue_is_refused
)
test_events_without_a_queue_book_as_before = rules.test_events_without_a_queue_book_as_before
test_a_closed_account_is_401_before_queue_required = (
    rules.test_a_closed_account_is_401_before_queue_required
)
