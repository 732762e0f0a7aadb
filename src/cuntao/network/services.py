"""Writes of the station network: onboarding a partner, a station's life cycle."""

import datetime
import secrets
import string

import phonenumbers
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, Forbidden
from cuntao.core.scope import Scope
from cuntao.core.validators import normalize_national_id, normalize_phone
from cuntao.network.models import County, Partner, PartnerStatus, Station, StationStatus, StationStatusEvent, Village
from cuntao.network.selectors import station_current_partner

User = get_user_model()

# Which status a station may move to from each status.
STATION_TRANSITIONS = {
    StationStatus.APPLYING: {StationStatus.TRAINING, StationStatus.CLOSED},
    StationStatus.TRAINING: {StationStatus.OPEN, StationStatus.CLOSED},
    StationStatus.OPEN: {StationStatus.SUSPENDED, StationStatus.CLOSED},
    StationStatus.SUSPENDED: {StationStatus.OPEN, StationStatus.CLOSED},
    StationStatus.CLOSED: set(),
}
# The partner's status that goes with each station status.
PARTNER_STATUS_FOR_STATION = {
    StationStatus.TRAINING: PartnerStatus.TRAINING,
    StationStatus.OPEN: PartnerStatus.ACTIVE,
    StationStatus.SUSPENDED: PartnerStatus.SUSPENDED,
    StationStatus.CLOSED: PartnerStatus.ENDED,
}
# No 0/O or 1/l/I: a county clerk reads this password aloud to the new partner.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


def require_staff(scope: Scope, county_id: int) -> None:
    if not (scope.is_staff_scope and scope.may_reach_county(county_id)):
        raise Forbidden(_("Only county staff of this county may do that."))


def initial_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(10))


def username_for_phone(e164: str) -> str:
    """Partners sign in with their phone number as they would dial it at home."""
    return phonenumbers.national_significant_number(phonenumbers.parse(e164))


def next_station_code(*, county: County) -> str:
    """Allocate the county's next station code; the caller holds the county row lock."""
    prefix = f"{county.code}-"
    codes = Station.objects.filter(county=county, code__startswith=prefix).values_list("code", flat=True)
    numbers = [int(code[len(prefix):]) for code in codes if code[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


@transaction.atomic
def station_apply(
    *,
    scope: Scope,
    village: Village,
    station_name: str,
    applicant_name: str,
    applicant_phone: str,
    applicant_national_id: str = "",
    address: str = "",
    opens_at: datetime.time = datetime.time(8, 0),
    closes_at: datetime.time = datetime.time(20, 0),
    shelf_capacity: int = 80,
) -> tuple[Station, Partner, str]:
    """Record a partner's application to open a station in a village.

    Creates the applicant's login with a one-time password, returned for the county
    clerk to hand over; the partner changes it at first sign-in.
    """
    require_staff(scope, village.county_id)
    errors = {}
    try:
        phone = normalize_phone(applicant_phone)
    except ValidationError as e:
        errors["applicant_phone"] = e.messages
    national_id = ""
    if applicant_national_id:
        try:
            national_id = normalize_national_id(applicant_national_id)
        except ValidationError as e:
            errors["applicant_national_id"] = e.messages
    if errors:
        raise ValidationError(errors)
    if Partner.objects.filter(phone=phone).exists() or User.objects.filter(username=username_for_phone(phone)).exists():
        raise ValidationError({"applicant_phone": [_("A partner with this phone number is already registered.")]})

    county = County.objects.select_for_update().get(pk=village.county_id)
    station = Station(
        county=county, village=village, code=next_station_code(county=county), name=station_name.strip(),
        address=address.strip(), status=StationStatus.APPLYING, opens_at=opens_at, closes_at=closes_at,
        shelf_capacity=shelf_capacity,
    )
    _clean(station, renames={"name": "station_name"})
    station.save()
    password = initial_password()
    user = User.objects.create_user(username=username_for_phone(phone), password=password,
                                    first_name=applicant_name.strip()[:150])
    partner = Partner(user=user, station=station, county=county, full_name=applicant_name.strip(), phone=phone,
                      national_id=national_id, status=PartnerStatus.APPLICANT)
    _clean(partner, exclude=["user", "station", "county"], renames={"full_name": "applicant_name"})
    partner.save()
    _record_station_event(station=station, from_status="", to_status=StationStatus.APPLYING, scope=scope,
                          note=_("Application by %(name)s") % {"name": partner.full_name})
    return station, partner, password


@transaction.atomic
def partner_verify_identity(*, scope: Scope, station: Station) -> Partner:
    """Mark the applicant's identity as checked against their ID card, by this clerk."""
    require_staff(scope, station.county_id)
    partner = _lock_partner(station)
    if not partner.national_id:
        raise ValidationError({"national_id": [_("Record the applicant's ID number before verifying the identity.")]})
    if partner.identity_verified_at is None:
        partner.identity_verified_at = timezone.now()
        partner.identity_verified_by = scope.user
        partner.save(update_fields=["identity_verified_at", "identity_verified_by"])
    return partner


@transaction.atomic
def station_start_training(*, scope: Scope, station: Station, note: str = "") -> Station:
    """Accept the application: the partner starts training."""
    require_staff(scope, station.county_id)
    partner = _lock_partner(station)
    if partner.identity_verified_at is None:
        raise Conflict(_("Verify the applicant's identity before training starts."), code="identity_not_verified")
    return _move_station(scope=scope, station=station, to_status=StationStatus.TRAINING, note=note)


@transaction.atomic
def station_open(*, scope: Scope, station: Station, contract_start: datetime.date, contract_end: datetime.date,
                 note: str = "") -> Station:
    """Open the station for business, under the partner's signed contract."""
    require_staff(scope, station.county_id)
    if contract_end <= contract_start:
        raise ValidationError({"contract_end": [_("The contract must end after it starts.")]})
    partner = _lock_partner(station)
    station = _move_station(scope=scope, station=station, to_status=StationStatus.OPEN, note=note)
    if partner.contract_start is None:
        partner.contract_start, partner.contract_end = contract_start, contract_end
        partner.save(update_fields=["contract_start", "contract_end"])
    return station


@transaction.atomic
def station_suspend(*, scope: Scope, station: Station, note: str) -> Station:
    """Pause a station, for a reason the partner and the county can read later."""
    if not note.strip():
        raise ValidationError({"note": [_("Say why the station is suspended.")]})
    return _move_station(scope=scope, station=station, to_status=StationStatus.SUSPENDED, note=note)


@transaction.atomic
def station_reopen(*, scope: Scope, station: Station, note: str = "") -> Station:
    return _move_station(scope=scope, station=station, to_status=StationStatus.OPEN, note=note)


@transaction.atomic
def station_close(*, scope: Scope, station: Station, note: str) -> Station:
    """Close the station for good; its history and its villagers stay."""
    if not note.strip():
        raise ValidationError({"note": [_("Say why the station is closed.")]})
    return _move_station(scope=scope, station=station, to_status=StationStatus.CLOSED, note=note)


def _clean(instance, *, exclude=None, renames: dict[str, str]) -> None:
    """Validate a row, naming its errors after the fields the caller filled in."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as e:
        raise ValidationError({renames.get(k, k): v for k, v in e.message_dict.items()}) from None


def _lock_partner(station: Station) -> Partner:
    partner = station_current_partner(station=station)
    if partner is None:
        raise Conflict(_("This station has no partner."), code="no_partner")
    return Partner.objects.select_for_update().get(pk=partner.pk)


def _move_station(*, scope: Scope, station: Station, to_status: str, note: str) -> Station:
    """Change the station's status and its partner's, and record who did it.

    Takes the station's row lock, so two clerks clicking at once cannot both act on
    the same old status. Runs inside the caller's transaction.
    """
    require_staff(scope, station.county_id)
    station = Station.objects.select_for_update().get(pk=station.pk)
    if to_status not in STATION_TRANSITIONS[station.status]:
        raise Conflict(
            _("A station that is %(current)s cannot become %(target)s.")
            % {"current": station.get_status_display(), "target": StationStatus(to_status).label},
            code="invalid_transition",
        )
    from_status = station.status
    now = timezone.now()
    station.status, station.status_changed_at = to_status, now
    if to_status == StationStatus.OPEN and station.opened_at is None:
        station.opened_at = now
    station.save(update_fields=["status", "status_changed_at", "opened_at"])
    Partner.objects.filter(station=station).exclude(status=PartnerStatus.ENDED).update(
        status=PARTNER_STATUS_FOR_STATION[to_status]
    )
    _record_station_event(station=station, from_status=from_status, to_status=to_status, scope=scope, note=note)
    return station


def _record_station_event(*, station: Station, from_status: str, to_status: str, scope: Scope, note: str) -> None:
    StationStatusEvent.objects.create(station=station, county_id=station.county_id, from_status=from_status,
                                      to_status=to_status, actor=scope.user, note=note.strip()[:500])
