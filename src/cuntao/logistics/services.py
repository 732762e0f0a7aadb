"""Writes of parcels: registration, scans at the warehouse and the station, hand-over.

Every change of a parcel's status appends a ParcelEvent in the same transaction.
Where two writers can meet (two scanners, two phones handing over one parcel) the
parcel row is locked first; a hand-over locks the station row before the parcel so the
station's hourly count of wrong codes is read under a lock too.
"""

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, ImageOps, UnidentifiedImageError

from cuntao.core.errors import Conflict, DomainError, Forbidden, NotFound
from cuntao.core.scope import Role, Scope
from cuntao.logistics.conf import remind_after_days, return_after_days
from cuntao.logistics.models import (
    MAX_PICKUP_ATTEMPTS,
    Direction,
    DiscrepancyKind,
    HandoverMethod,
    HomeLocation,
    Parcel,
    ParcelEvent,
    ParcelStatus,
    PickupAttempt,
    ReceiptDiscrepancy,
    ScanKind,
    Source,
    StationReceipt,
    StationShelf,
)
from cuntao.logistics.selectors import parcel_list
from cuntao.logistics.signals import ParcelChange, parcel_changed
from cuntao.network.models import Station
from cuntao.villagers.models import Villager

WAREHOUSE = "WH"
# Wrong codes tried at one station within an hour before it stops taking codes: with
# 10**6 codes and 20 tries an hour, guessing any one parcel takes decades.
MAX_WRONG_CODES_PER_STATION_HOUR = 20
PICKUP_CODE_DIGITS = 6
# A scan moves a parcel only forward from these; later statuses answer "duplicate".
WAREHOUSE_SCANNABLE = (ParcelStatus.ANNOUNCED, ParcelStatus.AT_WAREHOUSE)
STATION_EXPECTED = (ParcelStatus.SORTED, ParcelStatus.IN_TRANSIT)
# On the station's shelf: waiting for the villager, or for the driver to take it back.
ON_SHELF = (ParcelStatus.AT_STATION, ParcelStatus.RETURN_DUE)
# The daily ageing job (parcels_age) acts as the system; its events have no actor.
SYSTEM_SCOPE = Scope(user=None, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)


class UnknownParcel(NotFound):
    """A code no parcel has: a 404 whose message says what to do (a code is no secret)."""

    code = "unknown_parcel"


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


# --- helpers ---------------------------------------------------------------------


def _event(parcel: Parcel, *, scope: Scope, kind: str, from_status: str, place: str, note: str = "",
           at: datetime | None = None) -> ParcelEvent:
    """Append one event; the caller holds the parcel's lock and has set its new status."""
    return ParcelEvent.objects.create(parcel=parcel, county_id=parcel.county_id, actor=scope.user,
                                      at=at or timezone.now(), place=place, kind=kind, from_status=from_status,
                                      to_status=parcel.status, note=note[:300])


def _require_staff(scope: Scope) -> None:
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff scan at the warehouse."))


def _require_station(scope: Scope, station: Station) -> None:
    if not scope.may_reach_station(station.pk, station.county_id):
        raise NotFound(detail="station")


def _lock(parcel_pk: int) -> Parcel:
    return Parcel.objects.select_for_update(of=("self",)).select_related("station", "station__village").get(pk=parcel_pk)


def _announce(parcel: Parcel, *, scope: Scope, kind: str) -> None:
    """Tell the apps above (orders) in this transaction; see logistics.signals."""
    parcel_changed.send(sender=Parcel, parcel=parcel, kind=kind, scope=scope)


def pickup_code_digest(parcel_pk: int, code: str) -> str:
    """HMAC-SHA256 of the code, keyed by SECRET_KEY and bound to the parcel.

    A salted slow hash would add nothing: there are only 10**6 codes, so the defence is
    the attempt limits, and the key keeps a copied table from being searched offline.
    """
    message = f"pickup:{parcel_pk}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def new_pickup_code() -> str:
    return f"{secrets.randbelow(10 ** PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"


def notify_pickup(*, parcel: Parcel, code: str, actor=None) -> None:
    """Queue the villager's pickup notice with the code; call inside the arrival's transaction.

    A parcel without a known villager gets no notice: the partner tells the addressee in
    person and hands over after checking identity.
    """
    if parcel.villager_id is None:
        return
    from cuntao.notify.services import notice_enqueue

    notice_enqueue(kind="pickup_code", dedupe_key=f"pickup:{parcel.pk}", villager=parcel.villager,
                   params={"code": code}, county_id=parcel.county_id, station_id=parcel.station_id, actor=actor)


def _scanned_value(code_or_tracking_number: str) -> str:
    value = (code_or_tracking_number or "").strip()
    if not value:
        raise ValidationError({"code": [_("Scan or type a parcel code.")]})
    if len(value) > 40:
        raise ValidationError({"code": [_("A parcel code has at most 40 characters.")]})
    return value


def _find_locked_in_scope(scope: Scope, code_or_tracking_number: str) -> list[Parcel]:
    """Parcels in scope with this our-code (or else carrier tracking number), at most two,
    locked, with their station and village: one query for the usual scan of our code.
    """
    value = _scanned_value(code_or_tracking_number)
    # One row by a unique column: the model's ordering would only cost.
    qs = scope.filter(Parcel.objects.select_for_update(of=("self",)).select_related("station", "station__village")
                      .order_by())
    found = list(qs.filter(code=value.upper()))
    if not found:
        found = list(qs.filter(carrier_tracking_no=value)[:2])
    return found


def _find_in_scope(scope: Scope, code_or_tracking_number: str) -> list[int]:
    """Primary keys of parcels in scope with this our-code or carrier tracking number."""
    value = _scanned_value(code_or_tracking_number)
    qs = parcel_list(scope=scope)
    pks = list(qs.filter(code=value.upper()).values_list("pk", flat=True))
    if not pks:
        pks = list(qs.filter(carrier_tracking_no=value).values_list("pk", flat=True)[:2])
    return pks


# --- registration ----------------------------------------------------------------


@transaction.atomic
def parcel_register(*, scope: Scope, station: Station, source: str, direction: str = Direction.INBOUND,
                    villager: Villager | None = None, addressee_name: str = "", carrier: str = "",
                    carrier_tracking_no: str = "", weight_g: int = 0, volume_cm3: int = 0,
                    is_large_item: bool = False, fee_fen: int = 0, order_ref: str = "") -> Parcel:
    """Announce a parcel for a station (a carrier's manifest, an order, a return).

    The addressee may be unknown (no villager): the parcel is flagged at the warehouse
    and the partner finds the person. County staff register any parcel of their county;
    a partner registers outbound parcels (returns) at their own station.
    """
    _require_station(scope, station)
    if not scope.is_staff_scope and direction != Direction.OUTBOUND:
        raise Forbidden(_("Partners register only outbound parcels, such as returns."))
    errors: dict[str, list[str]] = {}
    carrier, carrier_tracking_no = carrier.strip(), carrier_tracking_no.strip()
    if source not in Source.values:
        errors["source"] = [_("Choose one of the sources.")]
    if direction not in Direction.values:
        errors["direction"] = [_("Choose inbound or outbound.")]
    if source == Source.CARRIER and not (carrier and carrier_tracking_no):
        errors["carrier_tracking_no"] = [_("A carrier parcel needs the carrier and its tracking number.")]
    if carrier_tracking_no and not carrier:
        errors["carrier"] = [_("Name the carrier of this tracking number.")]
    if fee_fen and source != Source.CARRIER:
        errors["fee_fen"] = [_("Only carrier parcels earn the station a fee.")]
    for field, value in (("weight_g", weight_g), ("volume_cm3", volume_cm3), ("fee_fen", fee_fen)):
        if value is None or value < 0:
            errors[field] = [_("Enter a number of at least 0.")]
    if villager is not None and villager.station_id != station.pk:
        errors["villager"] = [_("This villager belongs to another station.")]
    if len(addressee_name.strip()) > 50:
        errors["addressee_name"] = [_("At most 50 characters.")]
    if errors:
        raise ValidationError(errors)
    if carrier_tracking_no and Parcel.objects.filter(carrier=carrier, carrier_tracking_no=carrier_tracking_no).exists():
        raise Conflict(_("%(carrier)s %(number)s is already registered.")
                       % {"carrier": carrier, "number": carrier_tracking_no}, code="duplicate_tracking_no")
    parcel = Parcel(county_id=station.county_id, station=station, villager=villager,
                    addressee_name=addressee_name.strip() or (villager.name if villager else ""),
                    direction=direction, source=source, fee_fen=fee_fen, carrier=carrier,
                    carrier_tracking_no=carrier_tracking_no, weight_g=weight_g, volume_cm3=volume_cm3,
                    is_large_item=is_large_item, order_ref=order_ref.strip()[:40], created_by=scope.user)
    try:
        with transaction.atomic():
            parcel.save()
    except IntegrityError:
        # A twin registration committed between the check and the insert.
        raise Conflict(_("%(carrier)s %(number)s is already registered.")
                       % {"carrier": carrier, "number": carrier_tracking_no}, code="duplicate_tracking_no") from None
    _event(parcel, scope=scope, kind=ScanKind.REGISTERED, from_status="", place=WAREHOUSE,
           note="" if villager else "addressee unknown")
    return parcel


@transaction.atomic
def parcel_set_addressee(*, scope: Scope, parcel: Parcel, villager: Villager) -> Parcel:
    """Name the villager of a parcel whose addressee was unknown."""
    parcel = _lock(parcel.pk)
    _require_station(scope, parcel.station)
    if villager.station_id != parcel.station_id:
        raise ValidationError({"villager": [_("This villager belongs to another station.")]})
    if parcel.status in (ParcelStatus.HANDED_OVER, ParcelStatus.RETURNED):
        raise Conflict(_("This parcel has left the network."), code="parcel_closed")
    parcel.villager = villager
    parcel.addressee_name = villager.name
    parcel.save(update_fields=["villager", "addressee_name"])
    _event(parcel, scope=scope, kind=ScanKind.ADDRESSEE_SET, from_status=parcel.status, place=parcel.station.code)
    return parcel


# --- the county warehouse --------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    """What a scanner's screen shows: outcome in large letters, then where the parcel goes."""

    outcome: str  # sorted | duplicate | damaged | no_addressee | received | unexpected | unknown
    parcel: Parcel | None
    message: str
    station_code: str = ""
    village: str = ""


@transaction.atomic
def warehouse_scan(*, scope: Scope, code_or_tracking_number: str, damaged: bool = False) -> ScanResult:
    """Take a parcel in at the county warehouse and sort it to its station.

    A repeated scan of a sorted parcel answers "duplicate" and changes nothing, so a
    scanner that fires twice, or a retried request, never makes a second event or parcel.
    A damaged parcel is held at the warehouse (status damaged) for the county to handle.
    An unknown code raises UnknownParcel (404) saying what to do.
    """
    _require_staff(scope)
    found = _find_locked_in_scope(scope, code_or_tracking_number)
    if not found:
        raise UnknownParcel(_("No parcel has the code %(code)s. Put it on the unknown shelf and register it with "
                              "its carrier and tracking number.") % {"code": code_or_tracking_number.strip()})
    if len(found) > 1:
        raise Conflict(_("Two carriers use the tracking number %(code)s. Scan our CT code instead.")
                       % {"code": code_or_tracking_number.strip()}, code="ambiguous_code")
    parcel = found[0]
    station, village = parcel.station.code, parcel.station.village.name
    if parcel.status not in WAREHOUSE_SCANNABLE:
        return ScanResult("duplicate", parcel, _("Already scanned: %(status)s.") % {"status": parcel.get_status_display()},
                          station, village)
    before = parcel.status
    if damaged:
        parcel.status, parcel.is_damaged = ParcelStatus.DAMAGED, True
        parcel.save(update_fields=["status", "is_damaged"])
        _event(parcel, scope=scope, kind=ScanKind.WAREHOUSE_SCAN, from_status=before, place=WAREHOUSE, note="damaged")
        return ScanResult("damaged", parcel, _("Damaged: keep it at the warehouse for the county to handle."),
                          station, village)
    parcel.status = ParcelStatus.SORTED
    parcel.save(update_fields=["status"])
    _event(parcel, scope=scope, kind=ScanKind.WAREHOUSE_SCAN, from_status=before, place=WAREHOUSE,
           note="" if parcel.villager_id else "addressee unknown")
    _announce(parcel, scope=scope, kind=ParcelChange.AT_WAREHOUSE)
    if parcel.villager_id is None:
        return ScanResult("no_addressee", parcel, _("Sorted to %(station)s; no villager known: the partner will "
                                                      "find the addressee.") % {"station": station}, station, village)
    return ScanResult("sorted", parcel, _("Sorted to %(station)s.") % {"station": station}, station, village)


@transaction.atomic
def parcels_dispatch(*, scope: Scope, station: Station) -> int:
    """Load the station's sorted parcels on the truck (sorted to in transit); return how many.

    For the county's route sheets to call when a truck leaves.
    """
    _require_staff(scope)
    _require_station(scope, station)
    parcels = list(Parcel.objects.select_for_update().filter(station=station, status=ParcelStatus.SORTED).order_by("pk"))
    for parcel in parcels:
        parcel.status = ParcelStatus.IN_TRANSIT
        parcel.save(update_fields=["status"])
        _event(parcel, scope=scope, kind=ScanKind.DISPATCHED, from_status=ParcelStatus.SORTED, place=WAREHOUSE)
    return len(parcels)


# --- the station -----------------------------------------------------------------


def _open_receipt(scope: Scope, station: Station, now: datetime) -> StationReceipt:
    """The station's open receipt, opened now if there is none; the caller holds the station lock."""
    receipt = StationReceipt.objects.filter(station=station, closed_at__isnull=True).first()
    if receipt is None:
        receipt = StationReceipt.objects.create(county_id=station.county_id, station=station, opened_at=now,
                                                opened_by=scope.user)
    return receipt


@transaction.atomic
def station_receive_scan(*, scope: Scope, station: Station, code_or_tracking_number: str,
                         shelf_position: str = "") -> ScanResult:
    """Scan a parcel in at the station, put it on a shelf and queue the villager's pickup notice.

    A parcel of another station is refused with that station's code, so the partner
    hands it back to the driver. A code nobody knows, or a parcel that was not on its way
    here, is recorded as unexpected for the county (the first is answered "unknown" and
    not taken in). A repeated scan answers "duplicate" and changes nothing.
    """
    _require_station(scope, station)
    if len(shelf_position.strip()) > 20:
        raise ValidationError({"shelf_position": [_("A shelf position has at most 20 characters.")]})
    now = timezone.now()
    station = Station.objects.select_for_update().select_related("village").get(pk=station.pk)
    value = (code_or_tracking_number or "").strip()
    # A partner's scope reaches only their station; look the code up in the county so
    # a parcel of the next village can be named and handed back.
    county_qs = Parcel.objects.filter(county_id=station.county_id)
    if not value:
        raise ValidationError({"code": [_("Scan or type a parcel code.")]})
    if len(value) > 40:
        raise ValidationError({"code": [_("A parcel code has at most 40 characters.")]})
    pks = list(county_qs.filter(code=value.upper()).values_list("pk", flat=True))
    if not pks:
        pks = list(county_qs.filter(carrier_tracking_no=value).values_list("pk", flat=True)[:2])
    if len(pks) > 1:
        raise Conflict(_("Two carriers use the tracking number %(code)s. Scan our CT code instead.")
                       % {"code": value}, code="ambiguous_code")
    receipt = _open_receipt(scope, station, now)
    if not pks:
        if not receipt.discrepancies.filter(kind=DiscrepancyKind.UNEXPECTED, scanned_code=value).exists():
            ReceiptDiscrepancy.objects.create(receipt=receipt, county_id=station.county_id, station=station,
                                              kind=DiscrepancyKind.UNEXPECTED, scanned_code=value, at=now,
                                              actor=scope.user)
        return ScanResult("unknown", None, _("No parcel has the code %(code)s. Keep it aside; the county has been "
                                             "told.") % {"code": value}, station.code, station.village.name)
    parcel = _lock(pks[0])
    if parcel.station_id != station.pk:
        raise Conflict(_("This parcel is for station %(right)s (%(village)s), not this one. Give it back to the "
                         "driver.") % {"right": parcel.station.code, "village": parcel.station.village.name},
                       code="wrong_station")
    if parcel.status in (*ON_SHELF, ParcelStatus.HANDED_OVER, ParcelStatus.RETURNED):
        return ScanResult("duplicate", parcel, _("Already scanned: %(status)s.") % {"status": parcel.get_status_display()},
                          station.code, station.village.name)
    before = parcel.status
    expected = before in STATION_EXPECTED
    parcel.status = ParcelStatus.AT_STATION
    parcel.arrived_at_station_at = now
    parcel.shelf_position = shelf_position.strip()
    code = new_pickup_code()
    parcel.pickup_code_digest = pickup_code_digest(parcel.pk, code)
    parcel.pickup_attempts, parcel.pickup_locked_at = 0, None
    parcel.save(update_fields=["status", "arrived_at_station_at", "shelf_position", "pickup_code_digest",
                               "pickup_attempts", "pickup_locked_at"])
    _event(parcel, scope=scope, kind=ScanKind.STATION_SCAN if expected else ScanKind.UNEXPECTED, from_status=before,
           place=station.code, at=now, note=f"shelf {parcel.shelf_position}" if parcel.shelf_position else "")
    if not expected:
        ReceiptDiscrepancy.objects.create(receipt=receipt, county_id=station.county_id, station=station,
                                          kind=DiscrepancyKind.UNEXPECTED, parcel=parcel, scanned_code=value, at=now,
                                          actor=scope.user)
    notify_pickup(parcel=parcel, code=code, actor=scope.user)
    _announce(parcel, scope=scope, kind=ParcelChange.AT_STATION)
    outcome = "received" if expected else "unexpected"
    return ScanResult(outcome, parcel, _("On the shelf: %(shelf)s.") % {"shelf": parcel.shelf_position or "-"},
                      station.code, station.village.name)


@transaction.atomic
def station_receipt_close(*, scope: Scope, station: Station) -> StationReceipt:
    """Close today's receipt: every parcel on its way here and not scanned in is missing.

    The missing parcels and the unexpected ones scanned meanwhile stay on the receipt as
    discrepancies for the county. Closing with no receipt open opens and closes one, so
    a day when the truck brought nothing still reports what was expected.
    """
    _require_station(scope, station)
    now = timezone.now()
    station = Station.objects.select_for_update().get(pk=station.pk)
    receipt = _open_receipt(scope, station, now)
    missing = list(Parcel.objects.select_for_update().filter(station=station, status__in=STATION_EXPECTED).order_by("pk"))
    for parcel in missing:
        before = parcel.status
        parcel.status = ParcelStatus.MISSING
        parcel.save(update_fields=["status"])
        _event(parcel, scope=scope, kind=ScanKind.MISSING, from_status=before, place=station.code, at=now)
    ReceiptDiscrepancy.objects.bulk_create([
        ReceiptDiscrepancy(receipt=receipt, county_id=station.county_id, station=station, kind=DiscrepancyKind.MISSING,
                           parcel=parcel, at=now, actor=scope.user)
        for parcel in missing
    ])
    receipt.closed_at, receipt.closed_by = now, scope.user
    receipt.save(update_fields=["closed_at", "closed_by"])
    return receipt


# --- hand-over -------------------------------------------------------------------


@dataclass(frozen=True)
class HandoverOutcome:
    """The answer to a pickup code: handed over, or wrong with the attempts left."""

    ok: bool
    parcel: Parcel
    attempts_left: int
    message: str


def _lock_for_handover(scope: Scope, parcel: Parcel) -> tuple[Station, Parcel]:
    # Station first, then parcel: the station's hourly count is read under its lock, and
    # every hand-over takes the two locks in this one order.
    _require_station(scope, parcel.station)
    station = Station.objects.select_for_update().get(pk=parcel.station_id)
    parcel = _lock(parcel.pk)
    if parcel.status == ParcelStatus.HANDED_OVER:
        raise Conflict(_("This parcel was already handed over."), code="already_handed_over")
    if parcel.status not in ON_SHELF:
        raise Conflict(_("This parcel is %(status)s, not waiting at the station.")
                       % {"status": parcel.get_status_display()}, code="not_at_station")
    return station, parcel


def _hand_over(parcel: Parcel, *, scope: Scope, method: str, note: str, now: datetime, proof=None) -> ParcelEvent:
    """The one way a parcel becomes handed over: status, event (with any proof), then the signal.

    Every hand-over path (code, identity, proof at the door) ends here, so the apps above
    hear of each hand-over exactly once. A parcel marked for return but still on the
    shelf may still be handed over: the villager came in time.
    """
    before = parcel.status
    parcel.status, parcel.handed_over_at, parcel.handed_over_by = ParcelStatus.HANDED_OVER, now, scope.user
    parcel.handover_method, parcel.handover_note = method, note[:300]
    parcel.save(update_fields=["status", "handed_over_at", "handed_over_by", "handover_method", "handover_note"])
    event = _event(parcel, scope=scope, kind=ScanKind.HANDED_OVER, from_status=before, place=parcel.station.code,
                   at=now, note=method)
    if proof is not None:
        event.proof.save(proof.name, proof, save=True)
    _announce(parcel, scope=scope, kind=ParcelChange.HANDED_OVER)
    return event


@transaction.atomic
def handover_with_code(*, scope: Scope, parcel: Parcel, code: str) -> HandoverOutcome:
    """Hand the parcel over against its pickup code.

    A wrong code does not raise: it is counted and the answer says so, because the count
    must commit (a raise would roll it back and give a guesser unlimited tries). After
    MAX_PICKUP_ATTEMPTS wrong codes the parcel takes no more codes until the partner
    checks identity; a station that saw MAX_WRONG_CODES_PER_STATION_HOUR wrong codes in
    the last hour takes no codes for any parcel (TooManyAttempts). A second hand-over of
    the same parcel, even at the same moment from another phone, is a Conflict.
    """
    now = timezone.now()
    station, parcel = _lock_for_handover(scope, parcel)
    if parcel.pickup_locked_at is not None:
        raise TooManyAttempts(_("Too many wrong codes for this parcel. Check the villager's identity to hand it over."),
                              code="parcel_locked")
    wrong_this_hour = PickupAttempt.objects.filter(station=station, succeeded=False,
                                                   at__gte=now - timedelta(hours=1)).count()
    if wrong_this_hour >= MAX_WRONG_CODES_PER_STATION_HOUR:
        raise TooManyAttempts(_("Too many wrong codes at this station in the last hour. Wait, or check the "
                                "villager's identity."), code="station_locked")
    code = (code or "").strip()
    right = bool(parcel.pickup_code_digest) and hmac.compare_digest(
        pickup_code_digest(parcel.pk, code), parcel.pickup_code_digest)
    PickupAttempt.objects.create(county_id=parcel.county_id, station=station, parcel=parcel, actor=scope.user, at=now,
                                 succeeded=right)
    if right:
        _hand_over(parcel, scope=scope, method=HandoverMethod.CODE, note="", now=now)
        return HandoverOutcome(True, parcel, 0, _("Handed over."))
    parcel.pickup_attempts += 1
    update = ["pickup_attempts"]
    left = MAX_PICKUP_ATTEMPTS - parcel.pickup_attempts
    if left <= 0:
        parcel.pickup_locked_at = now
        update.append("pickup_locked_at")
    parcel.save(update_fields=update)
    if left <= 0:
        _event(parcel, scope=scope, kind=ScanKind.PICKUP_LOCKED, from_status=parcel.status, place=station.code, at=now)
        return HandoverOutcome(False, parcel, 0, _("Wrong code. This parcel now takes no more codes: check the "
                                                   "villager's identity."))
    return HandoverOutcome(False, parcel, left, ngettext("Wrong code. %(left)s try left for this parcel.",
                                                         "Wrong code. %(left)s tries left for this parcel.",
                                                         left) % {"left": left})


@transaction.atomic
def handover_with_identity(*, scope: Scope, parcel: Parcel, receiver_name: str, how_checked: str) -> Parcel:
    """Hand the parcel over after the partner checked who takes it (an old villager without a phone).

    Records who received it and how their identity was checked; also the way out of a
    parcel locked by wrong codes.
    """
    errors = {}
    if not receiver_name.strip():
        errors["receiver_name"] = [_("Write who received the parcel.")]
    if not how_checked.strip():
        errors["how_checked"] = [_("Write how you checked their identity, such as ID card or known in person.")]
    if len(receiver_name) + len(how_checked) > 250:
        errors["how_checked"] = [_("Keep it short: at most 250 characters in all.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    parcel = _lock_for_handover(scope, parcel)[1]
    _hand_over(parcel, scope=scope, method=HandoverMethod.IDENTITY,
               note=f"{receiver_name.strip()} / {how_checked.strip()}", now=now)
    return parcel


# --- proof of delivery at the door ---------------------------------------------------

MAX_PROOF_BYTES = 8 * 1024 * 1024
MAX_PROOF_PIXELS = 40_000_000
PROOF_PX = 1280  # enough to read a signature or see a parcel at a door; about 150 kB


def proof_image(upload, *, field: str = "proof") -> ContentFile:
    """Check an uploaded signature or photo and re-encode it small; ValidationError({field: ...}) if unreadable.

    Re-encoding keeps the stored file small on a phone's upload and drops the photo's
    metadata (its GPS position, the phone's name): the proof is the picture alone.
    """
    if upload is None or not getattr(upload, "size", 0):
        raise ValidationError({field: [_("Add the signature or a photo.")]})
    if upload.size > MAX_PROOF_BYTES:
        raise ValidationError({field: [_("The picture is larger than 8 MB; send a smaller one.")]})
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            if image.width * image.height > MAX_PROOF_PIXELS:
                raise ValidationError({field: [_("The picture has too many pixels; send one of at most 40 "
                                                 "megapixels.")]})
            image.load()
            image = ImageOps.exif_transpose(image)
            image.thumbnail((PROOF_PX, PROOF_PX))
            out = io.BytesIO()
            if image.mode in ("RGBA", "LA", "P", "1", "L"):
                # Signatures are line drawings: PNG keeps them sharp and small.
                image.convert("RGBA" if image.mode != "1" else "L").save(out, format="PNG", optimize=True)
                extension = "png"
            else:
                image.convert("RGB").save(out, format="JPEG", quality=75, optimize=True)
                extension = "jpg"
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ValidationError({field: [_("This file is not a picture we can read; send a JPEG or PNG.")]}) from None
    return ContentFile(out.getvalue(), name=f"proof.{extension}")


@transaction.atomic
def handover_with_proof(*, scope: Scope, parcel: Parcel, method: str, proof, receiver_name: str = "") -> Parcel:
    """Hand the parcel over at the door against a signature or a photo, stored with the hand-over event.

    `proof` is an uploaded image (checked and re-encoded by proof_image); `method` is
    signature or photo. A code at the door goes through handover_with_code instead.
    """
    if method not in (HandoverMethod.SIGNATURE, HandoverMethod.PHOTO):
        raise ValidationError({"method": [_("Choose a signature or a photo.")]})
    if len(receiver_name.strip()) > 50:
        raise ValidationError({"receiver_name": [_("At most 50 characters.")]})
    picture = proof_image(proof)
    now = timezone.now()
    parcel = _lock_for_handover(scope, parcel)[1]
    _hand_over(parcel, scope=scope, method=method, note=receiver_name.strip(), now=now, proof=picture)
    return parcel


# --- reminders, ageing and returns ---------------------------------------------------


@dataclass(frozen=True)
class AgeingReport:
    reminded: int
    marked_for_return: int


@transaction.atomic
def parcel_remind(*, parcel: Parcel, now: datetime) -> bool:
    """Remind the villager of a parcel waiting since before the reminder age; at most once a local day.

    The pickup code is kept only as a digest, so the reminder carries a new code and the
    old one stops working (the reminder says the code to use). The notice's dedupe key
    names the day, so a second run of the job on one day reminds nobody twice. Returns
    whether a reminder went out.
    """
    parcel = _lock(parcel.pk)
    today = timezone.localdate(now)
    if (parcel.status != ParcelStatus.AT_STATION or parcel.villager_id is None
            or parcel.arrived_at_station_at is None
            or parcel.arrived_at_station_at > now - timedelta(days=remind_after_days())
            or (parcel.reminded_at is not None and timezone.localdate(parcel.reminded_at) >= today)):
        return False
    from cuntao.notify.services import notice_enqueue

    code = new_pickup_code()
    parcel.pickup_code_digest = pickup_code_digest(parcel.pk, code)
    parcel.reminded_at = now
    parcel.save(update_fields=["pickup_code_digest", "reminded_at"])
    days = (now - parcel.arrived_at_station_at).days
    notice_enqueue(kind="pickup_reminder", dedupe_key=f"pickup-reminder:{parcel.pk}:{today.isoformat()}",
                   villager=parcel.villager, params={"code": code, "days": days}, county_id=parcel.county_id,
                   station_id=parcel.station_id, now=now)
    _event(parcel, scope=SYSTEM_SCOPE, kind=ScanKind.REMINDED, from_status=parcel.status, place=parcel.station.code,
           at=now, note=f"{days} days")
    return True


def _mark_return_due(parcel: Parcel, *, scope: Scope, now: datetime, note: str) -> None:
    """Put a parcel on the station's return list; the caller holds its lock."""
    before = parcel.status
    parcel.status, parcel.return_due_at = ParcelStatus.RETURN_DUE, now
    parcel.save(update_fields=["status", "return_due_at"])
    _event(parcel, scope=scope, kind=ScanKind.RETURN_DUE, from_status=before, place=parcel.station.code, at=now,
           note=note)
    _announce(parcel, scope=scope, kind=ParcelChange.RETURN_DUE)


@transaction.atomic
def parcel_expire(*, parcel: Parcel, now: datetime) -> bool:
    """Mark a parcel uncollected past the return age for return; returns whether it was marked."""
    parcel = _lock(parcel.pk)
    if (parcel.status != ParcelStatus.AT_STATION or parcel.arrived_at_station_at is None
            or parcel.arrived_at_station_at > now - timedelta(days=return_after_days())):
        return False
    _mark_return_due(parcel, scope=SYSTEM_SCOPE, now=now, note=f"uncollected {(now - parcel.arrived_at_station_at).days} days")
    return True


def parcels_age(*, now: datetime | None = None) -> AgeingReport:
    """The daily job: mark parcels uncollected past the return age for return, remind the rest.

    Each parcel is its own short transaction under its own lock, so a hand-over at a
    station is never held up behind the whole county's run, and a rerun (or two runs at
    once) changes nothing twice.
    """
    now = now or timezone.now()
    waiting = Parcel.objects.filter(status=ParcelStatus.AT_STATION)
    expired = waiting.filter(arrived_at_station_at__lte=now - timedelta(days=return_after_days()))
    marked = sum(parcel_expire(parcel=Parcel(pk=pk), now=now)
                 for pk in list(expired.order_by("pk").values_list("pk", flat=True)))
    start_of_today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    due = (waiting.filter(arrived_at_station_at__lte=now - timedelta(days=remind_after_days()),
                          villager__isnull=False)
           .exclude(reminded_at__gte=start_of_today))
    reminded = sum(parcel_remind(parcel=Parcel(pk=pk), now=now)
                   for pk in list(due.order_by("pk").values_list("pk", flat=True)))
    return AgeingReport(reminded=reminded, marked_for_return=marked)


@transaction.atomic
def parcel_mark_for_return(*, scope: Scope, parcel: Parcel, reason: str) -> Parcel:
    """The partner puts a waiting parcel on the return list (refused, wrong station of the addressee...)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Write why the parcel goes back.")]})
    if len(reason) > 200:
        raise ValidationError({"reason": [_("At most 200 characters.")]})
    _require_station(scope, parcel.station)
    parcel = _lock(parcel.pk)
    if parcel.status == ParcelStatus.RETURN_DUE:
        return parcel
    if parcel.status != ParcelStatus.AT_STATION:
        raise Conflict(_("This parcel is %(status)s, not waiting at the station.")
                       % {"status": parcel.get_status_display()}, code="not_at_station")
    _mark_return_due(parcel, scope=scope, now=timezone.now(), note=reason)
    return parcel


@transaction.atomic
def parcel_return_send(*, scope: Scope, parcel: Parcel) -> Parcel:
    """The driver takes a parcel on the return list back to the county warehouse; a repeat changes nothing."""
    _require_station(scope, parcel.station)
    parcel = _lock(parcel.pk)
    if parcel.status == ParcelStatus.RETURNED:
        return parcel
    if parcel.status != ParcelStatus.RETURN_DUE:
        raise Conflict(_("This parcel is %(status)s, not on the return list.")
                       % {"status": parcel.get_status_display()}, code="not_return_due")
    parcel.status = ParcelStatus.RETURNED
    parcel.save(update_fields=["status"])
    _event(parcel, scope=scope, kind=ScanKind.RETURNED, from_status=ParcelStatus.RETURN_DUE,
           place=parcel.station.code)
    _announce(parcel, scope=scope, kind=ParcelChange.RETURNED)
    return parcel


# --- the station's shelf and villagers' homes ----------------------------------------


@transaction.atomic
def station_shelf_set(*, scope: Scope, station: Station, capacity_parcels: int) -> StationShelf:
    """Set how many parcels the station's shelves hold (the partner or county staff)."""
    _require_station(scope, station)
    if type(capacity_parcels) is not int or not 1 <= capacity_parcels <= 5000:
        raise ValidationError({"capacity_parcels": [_("Enter a number from 1 to 5000.")]})
    shelf, _created = StationShelf.objects.select_for_update().get_or_create(
        station=station, defaults={"county_id": station.county_id, "capacity_parcels": capacity_parcels,
                                   "updated_by": scope.user})
    shelf.capacity_parcels, shelf.updated_by = capacity_parcels, scope.user
    shelf.save(update_fields=["capacity_parcels", "updated_by", "updated_at"])
    return shelf


@transaction.atomic
def home_location_set(*, scope: Scope, villager: Villager, lat, lon, note: str = "") -> HomeLocation:
    """Record where a villager lives, for ordering delivery runs; the latest position wins."""
    _require_station(scope, villager.station)
    errors: dict[str, list[str]] = {}
    values = {}
    for name, value, bound in (("lat", lat, 90), ("lon", lon, 180)):
        try:
            number = Decimal(str(value).strip()).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError):
            errors[name] = [_("Enter a number in degrees, such as 31.7268.")]
            continue
        if not -bound <= number <= bound:
            errors[name] = [_("Enter a number from -%(bound)d to %(bound)d.") % {"bound": bound}]
        values[name] = number
    if len((note or "").strip()) > 100:
        errors["note"] = [_("At most 100 characters.")]
    if errors:
        raise ValidationError(errors)
    home, _created = HomeLocation.objects.select_for_update().get_or_create(
        villager=villager, defaults={"county_id": villager.county_id, "station_id": villager.station_id,
                                     "lat": values["lat"], "lon": values["lon"], "note": (note or "").strip(),
                                     "updated_by": scope.user})
    home.station_id, home.lat, home.lon = villager.station_id, values["lat"], values["lon"]
    home.note, home.updated_by = (note or "").strip(), scope.user
    home.save()
    return home
