"""What the waitlist app tells whoever listens, sent inside the transaction of the change.

A receiver runs in that transaction: what it writes commits or rolls back with the change.
Apps above this one (webhooks) listen; this app never imports them.
"""

from django.dispatch import Signal

# event: the locked Event; entries: the WaitlistEntries just offered seats.
offers_made = Signal()
# event: the locked Event; entry: the WaitlistEntry whose offer just expired.
offer_expired = Signal()
