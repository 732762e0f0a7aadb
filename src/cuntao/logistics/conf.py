"""The logistics settings, with their defaults; settings.py may set each from the environment."""

from django.conf import settings


def remind_after_days() -> int:
    """A parcel uncollected this many days gets a reminder (then at most one a day)."""
    return int(getattr(settings, "LOGISTICS_REMIND_AFTER_DAYS", 3))


def return_after_days() -> int:
    """A parcel uncollected this many days goes on the station's return list."""
    return int(getattr(settings, "LOGISTICS_RETURN_AFTER_DAYS", 14))


def default_shelf_capacity() -> int:
    """Parcels a station's shelves hold until its partner says otherwise."""
    return int(getattr(settings, "LOGISTICS_SHELF_CAPACITY", 60))


def delivery_speed_kmh() -> int:
    """A partner's motorbike on village roads."""
    return int(getattr(settings, "LOGISTICS_DELIVERY_SPEED_KMH", 25))


def delivery_time_limit_s() -> float:
    """How long the solver orders a run's stops; 50 stops are near-optimal well within a second."""
    return float(getattr(settings, "LOGISTICS_DELIVERY_TIME_LIMIT_S", 1.0))
