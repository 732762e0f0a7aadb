"""Parcels on their way between the county warehouse and the villager, and every scan of them."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cuntao.network.models import County, Station
from cuntao.villagers.models import Villager

# Crockford's base32 without I, L, O and U: a clerk reads CT-codes aloud and types them.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "CT"
CODE_LENGTH = 8  # 32**8, about 10**12: collisions are retried, never expected
MAX_PICKUP_ATTEMPTS = 5


def new_parcel_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound (to a villager)")
    OUTBOUND = "outbound", _("Outbound (from a village)")


class Source(models.TextChoices):
    OUR_ORDER = "our_order", _("Our order")
    EXTERNAL_MARKETPLACE = "external_marketplace", _("External marketplace order")
    CARRIER = "carrier", _("Carrier parcel")


class ParcelStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced")
    AT_WAREHOUSE = "at_warehouse", _("At the county warehouse")
    SORTED = "sorted", _("Sorted to its station")
    IN_TRANSIT = "in_transit", _("On the truck")
    AT_STATION = "at_station", _("At the station")
    HANDED_OVER = "handed_over", _("Handed over")
    RETURN_DUE = "return_due", _("To be returned")
    DAMAGED = "damaged", _("Damaged")
    RETURNED = "returned", _("Returned")
    MISSING = "missing", _("Missing")


class HandoverMethod(models.TextChoices):
    CODE = "code", _("Pickup code")
    IDENTITY = "identity", _("Identity checked by the partner")
    SIGNATURE = "signature", _("Signature at the door")
    PHOTO = "photo", _("Photo at the door")


class Parcel(models.Model):
    """A parcel (包裹) for a villager through their station, or from a village.

    The pickup code is kept only as an HMAC (see services.pickup_code_digest): it is
    shown once, in the notice to the villager. The tracking token makes the public
    tracking link; it is unguessable and shows no names or phones.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="parcels", verbose_name=_("station"))
    villager = models.ForeignKey(Villager, on_delete=models.PROTECT, null=True, blank=True, related_name="parcels",
                                 verbose_name=_("addressee"))
    addressee_name = models.CharField(_("addressee name on the label"), max_length=50, blank=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction, default=Direction.INBOUND)
    source = models.CharField(_("source"), max_length=24, choices=Source)
    fee_fen = models.PositiveIntegerField(_("station fee (fen)"), default=0,
                                          help_text=_("What the carrier pays the station for this parcel."))
    carrier = models.CharField(_("carrier"), max_length=40, blank=True)
    carrier_tracking_no = models.CharField(_("carrier tracking number"), max_length=40, blank=True)
    code = models.CharField(_("parcel code"), max_length=12, unique=True, default=new_parcel_code, editable=False)
    weight_g = models.PositiveIntegerField(_("weight (g)"), default=0)
    volume_cm3 = models.PositiveIntegerField(_("volume (cm³)"), default=0)
    is_large_item = models.BooleanField(_("large item"), default=False)
    status = models.CharField(_("status"), max_length=14, choices=ParcelStatus, default=ParcelStatus.ANNOUNCED)
    is_damaged = models.BooleanField(_("damaged"), default=False)
    shelf_position = models.CharField(_("shelf position"), max_length=20, blank=True)
    arrived_at_station_at = models.DateTimeField(_("arrived at the station at"), null=True, blank=True)
    pickup_code_digest = models.CharField(_("pickup code (HMAC)"), max_length=64, blank=True, editable=False)
    pickup_attempts = models.PositiveSmallIntegerField(_("wrong pickup codes"), default=0)
    pickup_locked_at = models.DateTimeField(_("pickup by code locked at"), null=True, blank=True)
    tracking_token = models.CharField(_("tracking token"), max_length=32, unique=True, default=new_tracking_token,
                                      editable=False)
    reminded_at = models.DateTimeField(_("last reminded at"), null=True, blank=True)
    return_due_at = models.DateTimeField(_("marked for return at"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    handed_over_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="+", verbose_name=_("handed over by"))
    handover_method = models.CharField(_("handed over with"), max_length=10, choices=HandoverMethod, blank=True)
    handover_note = models.CharField(_("hand-over note"), max_length=300, blank=True,
                                     help_text=_("Who received the parcel and how their identity was checked."))
    order_ref = models.CharField(_("order reference"), max_length=40, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("registered by"))
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("parcel")
        verbose_name_plural = _("parcels")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["station", "status"]),
            models.Index(fields=["county", "status"]),
            models.Index(fields=["county", "carrier_tracking_no"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "carrier_tracking_no"], condition=~Q(carrier_tracking_no=""),
                                    name="parcel_tracking_no_unique_per_carrier",
                                    violation_error_message=_("This carrier's tracking number is already registered.")),
            models.CheckConstraint(condition=Q(source="carrier") | Q(fee_fen=0), name="parcel_fee_only_for_carrier",
                                   violation_error_message=_("Only carrier parcels earn the station a fee.")),
            models.CheckConstraint(
                condition=(Q(status="handed_over") & Q(handed_over_at__isnull=False) & ~Q(handover_method=""))
                | (~Q(status="handed_over") & Q(handed_over_at__isnull=True)),
                name="parcel_handed_over_has_time_and_method",
                violation_error_message=_("A handed-over parcel records when and how, and only it does."),
            ),
            models.CheckConstraint(condition=Q(pickup_attempts__lte=MAX_PICKUP_ATTEMPTS),
                                   name="parcel_pickup_attempts_capped",
                                   violation_error_message=_("Too many wrong pickup codes.")),
        ]

    def __str__(self):
        return self.code


class ScanKind(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAREHOUSE_SCAN = "warehouse_scan", _("Scanned at the county warehouse")
    DISPATCHED = "dispatched", _("Loaded on the truck")
    STATION_SCAN = "station_scan", _("Scanned in at the station")
    UNEXPECTED = "unexpected", _("Arrived unexpectedly")
    MISSING = "missing", _("Missing at receipt")
    PICKUP_LOCKED = "pickup_locked", _("Pickup by code locked")
    HANDED_OVER = "handed_over", _("Handed over")
    ADDRESSEE_SET = "addressee_set", _("Addressee found")
    REMINDED = "reminded", _("Reminder sent")
    RETURN_DUE = "return_due", _("Marked for return")
    RETURNED = "returned", _("Given to the driver for return")
    OUT_FOR_DELIVERY = "out_for_delivery", _("Out for home delivery")
    DELIVERY_FAILED = "delivery_failed", _("Home delivery failed")


class ParcelEvent(models.Model):
    """One scan or change of a parcel (扫描记录): who, when, where, what; never rewritten."""

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="events", verbose_name=_("parcel"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    place = models.CharField(_("where"), max_length=20, blank=True,
                             help_text=_("WH for the county warehouse, or the station code."))
    kind = models.CharField(_("what"), max_length=16, choices=ScanKind)
    from_status = models.CharField(_("from"), max_length=14, choices=ParcelStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=14, choices=ParcelStatus)
    note = models.CharField(_("note"), max_length=300, blank=True)
    proof = models.FileField(_("proof of delivery"), upload_to="proofs/%Y/%m/", blank=True,
                             help_text=_("The signature or photo taken at the door."))

    class Meta:
        verbose_name = _("parcel event")
        verbose_name_plural = _("parcel events")
        ordering = ["parcel", "at", "pk"]

    def __str__(self):
        return f"{self.parcel_id}: {self.kind} {self.from_status} -> {self.to_status}"


class StationReceipt(models.Model):
    """One receipt of the day's truck at a station (到站签收): opened by the first scan, closed by the partner."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("station"))
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("opened by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))

    class Meta:
        verbose_name = _("station receipt")
        verbose_name_plural = _("station receipts")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["station"], condition=Q(closed_at__isnull=True),
                                    name="one_open_receipt_per_station",
                                    violation_error_message=_("This station already has an open receipt.")),
        ]

    def __str__(self):
        return f"{self.station_id} @ {self.opened_at:%Y-%m-%d}"


class DiscrepancyKind(models.TextChoices):
    MISSING = "missing", _("Missing")
    UNEXPECTED = "unexpected", _("Unexpected")


class ReceiptDiscrepancy(models.Model):
    """A parcel expected but not scanned, or scanned but not expected, reported to the county (差异)."""

    receipt = models.ForeignKey(StationReceipt, on_delete=models.PROTECT, related_name="discrepancies",
                                verbose_name=_("receipt"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    kind = models.CharField(_("kind"), max_length=10, choices=DiscrepancyKind)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                               verbose_name=_("parcel"))
    scanned_code = models.CharField(_("scanned code"), max_length=40, blank=True)
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))

    class Meta:
        verbose_name = _("receipt discrepancy")
        verbose_name_plural = _("receipt discrepancies")
        ordering = ["receipt", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(parcel__isnull=False) | ~Q(scanned_code=""),
                                   name="discrepancy_names_a_parcel_or_code",
                                   violation_error_message=_("A discrepancy names a parcel or the scanned code.")),
        ]

    def __str__(self):
        return f"{self.kind}: {self.parcel_id or self.scanned_code}"


class PickupAttempt(models.Model):
    """One pickup code tried at a station (取件尝试); wrong ones count towards the limits."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="pickup_attempt_rows",
                               verbose_name=_("parcel"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    succeeded = models.BooleanField(_("succeeded"))

    class Meta:
        verbose_name = _("pickup attempt")
        verbose_name_plural = _("pickup attempts")
        indexes = [models.Index(fields=["station", "succeeded", "at"])]

    def __str__(self):
        return f"{self.parcel_id} @ {self.at}"


# --- County routes ---------------------------------------------------------------------


class CountyFleet(models.Model):
    """The county's delivery trucks (配送车队) as the route planner sees them; county staff edit it.

    One row per county; every truck is alike. Litres are optional: 0 means parcels alone
    bound a load.
    """

    county = models.OneToOneField(County, on_delete=models.PROTECT, related_name="fleet", verbose_name=_("county"))
    vehicle_count = models.PositiveSmallIntegerField(_("trucks"), default=1)
    capacity_parcels = models.PositiveIntegerField(_("capacity (parcels per truck)"), default=300)
    capacity_litres = models.PositiveIntegerField(_("capacity (litres per truck)"), default=0,
                                                  help_text=_("0 when only the parcel count limits a load."))
    max_route_minutes = models.PositiveIntegerField(_("longest route (minutes)"), default=480)
    speed_kmh = models.PositiveSmallIntegerField(_("average speed (km/h)"), default=40)
    service_minutes = models.PositiveSmallIntegerField(_("minutes to unload at a station"), default=10)
    leaves_at = models.TimeField(_("warehouse opens at"), default="07:00")
    returns_by = models.TimeField(_("trucks back by"), default="20:00")
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("county fleet")
        verbose_name_plural = _("county fleets")
        constraints = [
            models.CheckConstraint(condition=Q(speed_kmh__gte=1, speed_kmh__lte=150), name="fleet_speed_sensible",
                                   violation_error_message=_("The average speed is between 1 and 150 km/h.")),
            models.CheckConstraint(condition=Q(max_route_minutes__gte=1), name="fleet_route_minutes_positive",
                                   violation_error_message=_("The longest route lasts at least a minute.")),
            models.CheckConstraint(condition=Q(leaves_at__lt=models.F("returns_by")), name="fleet_leaves_before_return",
                                   violation_error_message=_("Trucks leave before they must be back.")),
        ]

    def __str__(self):
        return f"{self.county_id}: {self.vehicle_count} x {self.capacity_parcels}"


class CountyTravelMatrix(models.Model):
    """An uploaded road distance/time matrix (路网距离表), parsed; the newest one is used.

    `data` holds {"codes": [...], "metres": [[...]], "seconds": [[...]]}; the warehouse
    is the code WH, stations go by their station codes.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="travel_matrices",
                               verbose_name=_("county"))
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    places = models.PositiveIntegerField(_("places"))
    data = models.JSONField(_("matrix"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("county travel matrix")
        verbose_name_plural = _("county travel matrices")
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self):
        return f"{self.county_id}: {self.file_name} ({self.places})"


class RoutePlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CONFIRMED = "confirmed", _("Confirmed")


class RoutePlan(models.Model):
    """One day's truck routes for a county (配送路线计划), as the solver made them.

    Never rewritten once confirmed: planning again makes a new plan, and the newest
    one is the day's plan.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, related_name="route_plans", verbose_name=_("county"))
    date = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=10, choices=RoutePlanStatus, default=RoutePlanStatus.DRAFT)
    distance_source = models.CharField(_("distances from"), max_length=12)
    parameters = models.JSONField(_("parameters used"), default=dict)
    total_distance_m = models.PositiveIntegerField(_("total distance (m)"))
    total_duration_s = models.PositiveIntegerField(_("total duration (s)"))
    time_limit_s = models.FloatField(_("solver time limit (s)"))
    solver_seconds = models.FloatField(_("solver time (s)"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("planned by"))
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("route plan")
        verbose_name_plural = _("route plans")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["county", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="confirmed") & Q(confirmed_at__isnull=False))
                | (~Q(status="confirmed") & Q(confirmed_at__isnull=True)),
                name="route_plan_confirmed_has_time",
                violation_error_message=_("A confirmed plan records when, and only it does."),
            ),
        ]

    def __str__(self):
        return f"{self.county_id} {self.date} #{self.pk}"


class RoutePlanEvent(models.Model):
    """A change of a route plan's status: who, when, from, to; never rewritten."""

    plan = models.ForeignKey(RoutePlan, on_delete=models.PROTECT, related_name="events", verbose_name=_("plan"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("by"))
    at = models.DateTimeField(_("at"))
    from_status = models.CharField(_("from"), max_length=10, choices=RoutePlanStatus, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=RoutePlanStatus)

    class Meta:
        verbose_name = _("route plan event")
        verbose_name_plural = _("route plan events")
        ordering = ["plan", "at", "pk"]

    def __str__(self):
        return f"{self.plan_id}: {self.from_status} -> {self.to_status}"


class PlannedRoute(models.Model):
    """One truck's trip in a route plan (车次)."""

    plan = models.ForeignKey(RoutePlan, on_delete=models.PROTECT, related_name="routes", verbose_name=_("plan"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    truck_no = models.PositiveSmallIntegerField(_("truck"))
    departure_at = models.DateTimeField(_("leaves at"))
    return_at = models.DateTimeField(_("back at"))
    distance_m = models.PositiveIntegerField(_("distance (m)"))
    duration_s = models.PositiveIntegerField(_("duration (s)"))
    load_parcels = models.PositiveIntegerField(_("parcels"))
    load_litres = models.PositiveIntegerField(_("litres"), default=0)

    class Meta:
        verbose_name = _("planned route")
        verbose_name_plural = _("planned routes")
        ordering = ["plan", "truck_no"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "truck_no"], name="planned_route_truck_once_per_plan",
                                    violation_error_message=_("A truck drives one route per plan.")),
        ]

    def __str__(self):
        return f"{self.plan_id} truck {self.truck_no}"


class PlannedStop(models.Model):
    """A station on a planned route, in order, with the parcels for it (停靠站)."""

    route = models.ForeignKey(PlannedRoute, on_delete=models.PROTECT, related_name="stops", verbose_name=_("route"))
    plan = models.ForeignKey(RoutePlan, on_delete=models.PROTECT, related_name="stops", verbose_name=_("plan"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    sequence = models.PositiveSmallIntegerField(_("stop"))
    arrival_at = models.DateTimeField(_("arrives at"))
    start_at = models.DateTimeField(_("unloads at"))
    parcels_count = models.PositiveIntegerField(_("parcels"))
    litres = models.PositiveIntegerField(_("litres"), default=0)
    parcel_codes = models.JSONField(_("parcel codes"), default=list)

    class Meta:
        verbose_name = _("planned stop")
        verbose_name_plural = _("planned stops")
        ordering = ["route", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "station"], name="planned_stop_station_once_per_plan",
                                    violation_error_message=_("A plan visits each station once.")),
            models.UniqueConstraint(fields=["route", "sequence"], name="planned_stop_sequence_unique",
                                    violation_error_message=_("Two stops cannot share a place in the order.")),
        ]

    def __str__(self):
        return f"{self.route_id}#{self.sequence} {self.station_id}"


# --- The station's shelf, homes and delivery runs ---------------------------------------------


class StationShelf(models.Model):
    """How many parcels the station's shelves hold (货架容量); the station panel warns past it.

    A station without a row has settings.LOGISTICS_SHELF_CAPACITY.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.OneToOneField(Station, on_delete=models.PROTECT, related_name="shelf",
                                   verbose_name=_("station"))
    capacity_parcels = models.PositiveIntegerField(_("shelf capacity (parcels)"))
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("station shelf")
        verbose_name_plural = _("station shelves")
        constraints = [
            models.CheckConstraint(condition=Q(capacity_parcels__gte=1, capacity_parcels__lte=5000),
                                   name="shelf_capacity_1_to_5000",
                                   violation_error_message=_("A shelf holds from 1 to 5000 parcels.")),
        ]

    def __str__(self):
        return f"{self.station_id}: {self.capacity_parcels}"


class HomeLocation(models.Model):
    """Where a villager's home is (住址定位), as the partner found it on a delivery; orders the runs.

    Kept by logistics, which is the only app that rides to homes; a villager without one is
    planned at their village's coordinates.
    """

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    villager = models.OneToOneField(Villager, on_delete=models.PROTECT, related_name="home_location",
                                    verbose_name=_("villager"))
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    note = models.CharField(_("how to find it"), max_length=100, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("home location")
        verbose_name_plural = _("home locations")
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90, lon__gte=-180, lon__lte=180),
                                   name="home_location_coordinates_valid",
                                   violation_error_message=_("Latitude is between -90 and 90, longitude between "
                                                             "-180 and 180.")),
        ]

    def __str__(self):
        return f"{self.villager_id}: {self.lat},{self.lon}"


class DeliveryRunStatus(models.TextChoices):
    OPEN = "open", _("On the way")
    CLOSED = "closed", _("Closed")


class DeliveryRun(models.Model):
    """A partner's home delivery run (送货上门): parcels from the station, stops in the solver's order."""

    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="delivery_runs",
                                verbose_name=_("station"))
    date = models.DateField(_("date"))
    status = models.CharField(_("status"), max_length=8, choices=DeliveryRunStatus, default=DeliveryRunStatus.OPEN)
    distance_m = models.PositiveIntegerField(_("distance (m)"))
    duration_s = models.PositiveIntegerField(_("riding time (s)"))
    solver_seconds = models.FloatField(_("solver time (s)"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("planned by"))
    created_at = models.DateTimeField(_("planned at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("closed by"))

    class Meta:
        verbose_name = _("delivery run")
        verbose_name_plural = _("delivery runs")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["station", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="delivery_run_closed_has_time",
                violation_error_message=_("A closed run records when, and only it does."),
            ),
        ]

    def __str__(self):
        return f"{self.station_id} {self.date} #{self.pk}"


class StopOutcome(models.TextChoices):
    PENDING = "pending", _("To deliver")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Not delivered")


class FailureReason(models.TextChoices):
    NOT_HOME = "not_home", _("Nobody at home")
    REFUSED = "refused", _("Refused")
    WRONG_ADDRESS = "wrong_address", _("Wrong address")
    NO_ACCESS = "no_access", _("Could not get there")
    DAMAGED = "damaged", _("Damaged on the way")
    NOT_ATTEMPTED = "not_attempted", _("Not attempted")
    OTHER = "other", _("Other")


class DeliveryStop(models.Model):
    """One parcel's stop on a delivery run (送货点), in order, with what happened there."""

    run = models.ForeignKey(DeliveryRun, on_delete=models.PROTECT, related_name="stops", verbose_name=_("run"))
    county = models.ForeignKey(County, on_delete=models.PROTECT, verbose_name=_("county"))
    station = models.ForeignKey(Station, on_delete=models.PROTECT, related_name="+", verbose_name=_("station"))
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="delivery_stops",
                               verbose_name=_("parcel"))
    sequence = models.PositiveSmallIntegerField(_("stop"))
    lat = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    lon = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    at_home = models.BooleanField(_("home location known"), default=False,
                                  help_text=_("Otherwise the stop is planned at the village."))
    outcome = models.CharField(_("outcome"), max_length=10, choices=StopOutcome, default=StopOutcome.PENDING)
    failure_reason = models.CharField(_("why not delivered"), max_length=14, choices=FailureReason, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("done by"))

    class Meta:
        verbose_name = _("delivery stop")
        verbose_name_plural = _("delivery stops")
        ordering = ["run", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sequence"], name="delivery_stop_sequence_unique",
                                    violation_error_message=_("Two stops cannot share a place in the order.")),
            models.UniqueConstraint(fields=["parcel"], condition=Q(outcome="pending"),
                                    name="delivery_stop_one_pending_per_parcel",
                                    violation_error_message=_("This parcel is already out on a delivery run.")),
            models.CheckConstraint(
                condition=(Q(outcome="failed") & ~Q(failure_reason="")) | (~Q(outcome="failed") & Q(failure_reason="")),
                name="delivery_stop_failure_has_reason",
                violation_error_message=_("A failed stop says why, and only it does."),
            ),
        ]

    def __str__(self):
        return f"{self.run_id}#{self.sequence} {self.parcel_id}"
