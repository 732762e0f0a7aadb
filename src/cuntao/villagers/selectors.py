"""Reads of villagers, households and relatives, always within the caller's scope."""

import re

from django.db import connection
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from cuntao.core.db import Columns
from cuntao.core.errors import NotFound
from cuntao.core.pinyin import has_chinese, name_initials, name_pinyin
from cuntao.core.scope import Scope, get_in_scope
from cuntao.network.models import Station
from cuntao.villagers.models import Household, MigrantRelative, Villager

PHONE_QUERY = re.compile(r"^\+?[\d\s-]{3,}$")


def villager_list(*, scope: Scope, station_id: int | None = None, q: str | None = None) -> QuerySet[Villager]:
    """Villagers in scope, optionally at one station, found by name, pinyin or phone.

    The one filter behind both the villager page and GET /api/v1/villagers.
    """
    qs = scope.filter(Villager.objects.select_related("household", "station"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    q = (q or "").strip()[:50]
    return villager_search(qs, q) if q else qs.order_by("name_pinyin", "pk")


def villager_search(qs: QuerySet[Villager], q: str) -> QuerySet[Villager]:
    """Match name, full pinyin (wangxiuying), initials (wxy), their prefixes and mixtures.

    Exact names first, then names whose pinyin or initials start with the query.
    """
    if PHONE_QUERY.match(q):
        digits = re.sub(r"\D", "", q)
        return qs.filter(phone__contains=digits).order_by("name_pinyin", "pk")
    spelled, initials = name_pinyin(q), name_initials(q)
    match = Q(name_pinyin__contains=spelled) | Q(name_initials__startswith=initials)
    if has_chinese(q):
        match |= Q(name__contains=q)
    rank = Case(
        When(name=q, then=Value(0)),
        When(name_initials=initials, then=Value(1)),
        When(name_pinyin__startswith=spelled, then=Value(2)),
        When(name_initials__startswith=initials, then=Value(3)),
        default=Value(4),
        output_field=IntegerField(),
    )
    return qs.filter(match).annotate(search_rank=rank).order_by("search_rank", "name_pinyin", "pk")


def villager_get_for_actor(*, scope: Scope, villager_id: int, lock: bool = False) -> Villager:
    """The villager, with household, station and county, if the scope reaches them."""
    qs = scope.filter(Villager.objects.select_related("household", "station", "county"))
    return get_in_scope(qs, name="villager", lock=lock, pk=villager_id)


_VILLAGER, _STATION = Columns(Villager, "v"), Columns(Station, "s")


def villager_with_station_for_actor(*, scope: Scope, villager_id: int) -> Villager:
    """villager_get_for_actor with the station only, in one hand-written statement.

    For placing an order, the Double-11 hot path. The scope is checked on the row, as
    scope.filter would: the villager's station for a partner, their county for staff.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_VILLAGER.sql}, {_STATION.sql} FROM villagers_villager v "
                       "JOIN network_station s ON s.id = v.station_id WHERE v.id = %s", [villager_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound(detail="villager")
    villager = _VILLAGER.build(row[:len(_VILLAGER)])
    if not scope.may_reach_station(villager.station_id, villager.county_id):
        raise NotFound(detail="villager")
    villager.station = _STATION.build(row[len(_VILLAGER):])
    return villager


def household_list(*, scope: Scope, station_id: int | None = None, q: str | None = None) -> QuerySet[Household]:
    qs = scope.filter(Household.objects.all()).annotate(member_count=Count("members"))
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if q:
        qs = qs.filter(name__contains=q.strip()[:50])
    return qs.order_by("name", "pk")


def household_get_for_actor(*, scope: Scope, household_id: int) -> Household:
    return get_in_scope(scope.filter(Household.objects.all()), name="household", pk=household_id)


def relative_list(*, scope: Scope, villager_id: int | None = None) -> QuerySet[MigrantRelative]:
    qs = scope.filter(MigrantRelative.objects.select_related("villager"))
    if villager_id is not None:
        qs = qs.filter(villager_id=villager_id)
    return qs.order_by("villager_id", "pk")


def station_villager_counts(*, scope: Scope, station_id: int) -> dict[str, int]:
    """Counts for the station home page, from the rows themselves (no invented numbers)."""
    villagers = villager_list(scope=scope, station_id=station_id)
    return {
        "villagers": villagers.count(),
        "households": household_list(scope=scope, station_id=station_id).count(),
        "relatives": relative_list(scope=scope).filter(station_id=station_id).count(),
        "needs_voice": villagers.filter(needs_voice=True).count(),
    }
