from django.db import models

# Bookings of different events update different rows of a day unless their events share a
# shard; the overview reads at most SHARDS rows per day, however many bookings there are.
SHARDS = 16


class SalesDay(models.Model):
    """Running totals of one UTC day (in one shard of events), for the staff overview.

    Written by analytics.day_totals in the same transaction as each booking, cancellation and
    accepted offer, so it is always exact: `bookings`/`tickets` made that day, `revenue` of
    those still confirmed, `cancellations` made that day, `conversions` (offers accepted).
    """

    day = models.DateField()
    shard = models.PositiveSmallIntegerField()
    bookings = models.PositiveIntegerField(default=0)
    tickets = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    cancellations = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "shard"], name="analytics_salesday_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.day} #{self.shard}"
