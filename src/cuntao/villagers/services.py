"""Writes of villagers, households and their migrant relatives."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import Conflict, NotFound
from cuntao.core.pinyin import name_initials, name_pinyin
from cuntao.core.scope import Scope
from cuntao.core.validators import national_id_birth_year, normalize_national_id, normalize_phone
from cuntao.network.models import Station, StationStatus
from cuntao.villagers.models import Household, MigrantRelative, Villager

# A station serves villagers while its partner trains and while it is open; a
# suspended or closed station keeps its records but takes no new ones.
STATION_STATUSES_TAKING_VILLAGERS = (StationStatus.TRAINING, StationStatus.OPEN)

VILLAGER_FIELDS = ("name", "birth_year", "gender", "phone", "national_id", "needs_large_print",
                   "needs_voice", "language", "household")


def require_station_in_scope(scope: Scope, station: Station) -> None:
    if not scope.may_reach_station(station.pk, station.county_id):
        raise NotFound(detail="station")


def require_station_serving(station: Station) -> None:
    if station.status not in STATION_STATUSES_TAKING_VILLAGERS:
        raise Conflict(_("Station %(code)s is %(status)s and takes no new records.")
                       % {"code": station.code, "status": station.get_status_display()}, code="station_not_serving")


def clean_contact_fields(*, phone: str, national_id: str, birth_year: int | None) -> tuple[str, str, dict]:
    """Normalise phone and ID number; return them with any errors by field.

    An ID number carries its owner's birth date, so it must agree with the birth year.
    """
    errors: dict[str, list[str]] = {}
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as e:
            errors["phone"] = e.messages
    if national_id:
        try:
            national_id = normalize_national_id(national_id)
        except ValidationError as e:
            errors["national_id"] = e.messages
        else:
            if birth_year and national_id_birth_year(national_id) != birth_year:
                errors["national_id"] = [_("This ID number says the person was born in %(id_year)s, not %(year)s.")
                                         % {"id_year": national_id_birth_year(national_id), "year": birth_year}]
    return phone, national_id, errors


def _check_household(household: Household | None, station: Station, errors: dict) -> None:
    if household is not None and household.station_id != station.pk:
        errors["household"] = [_("This household belongs to another station.")]


def _save_villager(villager: Villager, errors: dict) -> Villager:
    villager.name = (villager.name or "").strip()
    villager.name_pinyin = name_pinyin(villager.name)[:300]
    villager.name_initials = name_initials(villager.name)[:50]
    try:
        villager.full_clean(exclude=["county", "station", "registered_by", "name_pinyin", "name_initials"])
    except ValidationError as e:
        for field, messages in e.message_dict.items():
            errors.setdefault(field, messages)
    if errors:
        raise ValidationError(errors)
    villager.save()
    return villager


@transaction.atomic
def villager_register(
    *,
    scope: Scope,
    station: Station,
    name: str,
    birth_year: int,
    gender: str,
    consent: bool,
    phone: str = "",
    national_id: str = "",
    household: Household | None = None,
    new_household_name: str = "",
    needs_large_print: bool = False,
    needs_voice: bool = False,
    language: str = "zh-hans",
) -> Villager:
    """Register a villager at their home station, with their consent to keep their data."""
    require_station_in_scope(scope, station)
    require_station_serving(station)
    phone, national_id, errors = clean_contact_fields(phone=phone, national_id=national_id, birth_year=birth_year)
    if not consent:
        errors["consent"] = [_("Ask the villager to agree to keeping their data before registering them.")]
    _check_household(household, station, errors)
    if household is None and new_household_name.strip():
        if len(new_household_name.strip()) > 100:
            errors["new_household_name"] = [_("A household name has at most 100 characters.")]
        elif not errors:
            household = household_create(scope=scope, station=station, name=new_household_name)
    villager = Villager(
        county_id=station.county_id, station=station, household=household, name=name, phone=phone,
        national_id=national_id, birth_year=birth_year, gender=gender, needs_large_print=needs_large_print,
        needs_voice=needs_voice, language=language, consent_at=timezone.now(), registered_by=scope.user,
    )
    return _save_villager(villager, errors)


@transaction.atomic
def villager_update(*, scope: Scope, villager: Villager, **changes) -> Villager:
    """Change a villager's details; fields not given keep their values."""
    unknown = set(changes) - set(VILLAGER_FIELDS)
    if unknown:
        raise ValidationError({field: [_("This field cannot be changed here.")] for field in sorted(unknown)})
    villager = Villager.objects.select_for_update().get(pk=villager.pk)
    require_station_in_scope(scope, villager.station)
    for field, value in changes.items():
        setattr(villager, field, value)
    villager.phone, villager.national_id, errors = clean_contact_fields(
        phone=villager.phone, national_id=villager.national_id, birth_year=villager.birth_year)
    _check_household(villager.household, villager.station, errors)
    return _save_villager(villager, errors)


@transaction.atomic
def household_create(*, scope: Scope, station: Station, name: str, address: str = "") -> Household:
    require_station_in_scope(scope, station)
    require_station_serving(station)
    household = Household(county_id=station.county_id, station=station, name=name.strip(), address=address.strip())
    household.full_clean(exclude=["county", "station"])
    household.save()
    return household


@transaction.atomic
def relative_add(*, scope: Scope, villager: Villager, name: str, phone: str, relation: str, city: str = "",
                 receives_notices: bool = True) -> MigrantRelative:
    """Record a relative working away, who may get the villager's notices and pay for them."""
    require_station_in_scope(scope, villager.station)
    errors: dict[str, list[str]] = {}
    try:
        phone = normalize_phone(phone)
    except ValidationError as e:
        errors["phone"] = e.messages
    relative = MigrantRelative(county_id=villager.county_id, station_id=villager.station_id, villager=villager,
                               name=name.strip(), phone=phone, city=city.strip(), relation=relation,
                               receives_notices=receives_notices)
    try:
        relative.full_clean(exclude=["county", "station", "villager"] + (["phone"] if "phone" in errors else []))
    except ValidationError as e:
        for field, messages in e.message_dict.items():
            errors.setdefault(field, messages)
    if not errors and MigrantRelative.objects.filter(villager=villager, phone=phone).exists():
        errors["phone"] = [_("This villager already has a relative with that phone number.")]
    if errors:
        raise ValidationError(errors)
    relative.save()
    return relative
