"""What the events app tells whoever listens, sent inside the transaction of the change.

A receiver runs in that transaction: what it writes commits or rolls back with the change.
Apps above this one (webhooks) listen; this app never imports them.
"""

from django.dispatch import Signal

# event: the Event as the change left it (created, edited, or cancelled).
event_created = Signal()
event_updated = Signal()
event_cancelled = Signal()
