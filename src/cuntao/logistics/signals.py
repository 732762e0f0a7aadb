"""What logistics tells the apps above it about a parcel, without importing them.

`parcel_changed` is sent inside the transaction that changed the parcel, after its row
and event are written, with the parcel still locked:

    parcel_changed.send(sender=Parcel, parcel=parcel, kind=ParcelChange.AT_STATION, scope=scope)

A receiver works in the same transaction: what it writes commits or rolls back with the
scan, and an exception it raises refuses the scan or hand-over (so it raises only to
refuse, such as handing over the goods of a cancelled order). Receivers must be
idempotent: a parcel may be reported at a place it already reached (an unexpected
arrival skips the warehouse, say). `scope` is the caller's; a receiver that needs more
rights derives them itself and records `scope.user` as the actor.
"""

from django.db.models import TextChoices
from django.dispatch import Signal


class ParcelChange(TextChoices):
    AT_WAREHOUSE = "at_warehouse"  # sorted at the county warehouse
    AT_STATION = "at_station"  # scanned in at its station
    HANDED_OVER = "handed_over"  # at the station or at the door, by any method
    RETURN_DUE = "return_due"  # uncollected or refused: on the return list (still collectable)
    RETURNED = "returned"  # given to the driver: going back to the county, never to the villager


parcel_changed = Signal()
