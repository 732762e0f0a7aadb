"""Reads of the station network, always through the caller's scope."""

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from cuntao.core.errors import DomainError
from cuntao.core.scope import Role, Scope, get_in_scope
from cuntao.core.validators import mask_name
from cuntao.network.models import County, Partner, PartnerStatus, StaffRole, Station, Village

# A partner reaches their station's data while training and while active.
PARTNER_STATUSES_WITH_ACCESS = (PartnerStatus.TRAINING, PartnerStatus.ACTIVE)


def scope_for_user(*, user) -> Scope:
    """The scope of an active, signed-in user: programme admin, county staff or partner."""
    with connection.cursor() as cursor:  # every API call reads it: hand-written, no ORM compiling
        cursor.execute("SELECT role, county_id FROM network_staffmembership WHERE user_id = %s", [user.pk])
        memberships = cursor.fetchall()
    if user.is_superuser or any(role == StaffRole.PROGRAMME_ADMIN for role, _ in memberships):
        return Scope(user=user, role=Role.PROGRAMME_ADMIN, county_ids=None, station_ids=None)
    county_ids = frozenset(county_id for role, county_id in memberships if role == StaffRole.COUNTY_STAFF)
    if county_ids:
        return Scope(user=user, role=Role.COUNTY_STAFF, county_ids=county_ids, station_ids=None)
    partner = _partner_with_access(user)
    if partner is not None:
        county_id, station_id = partner
        return Scope(user=user, role=Role.PARTNER, county_ids=frozenset({county_id}),
                     station_ids=frozenset({station_id}))
    return Scope(user=user, role=Role.NONE, county_ids=frozenset(), station_ids=frozenset())


# The user's relations scope_for_user reads: a caller that loads the user may select
# them with it (API token auth does, saving a query on every call).
scope_for_user.user_relations = ("partner",)


def _partner_with_access(user) -> tuple[int, int] | None:
    """(county_id, station_id) of the user's partner row if it gives access, else None."""
    if user.__class__.partner.is_cached(user):  # selected with the user (__class__: it may be a lazy object)
        partner = getattr(user, "partner", None)
        if partner is None or partner.status not in PARTNER_STATUSES_WITH_ACCESS:
            return None
        return partner.county_id, partner.station_id
    # One row per user (one-to-one): two columns, no model, no ordering (the default
    # sorts by station code through a join).
    rows = list(Partner.objects.filter(user=user, status__in=PARTNER_STATUSES_WITH_ACCESS).order_by()
                .values_list("county_id", "station_id"))
    return rows[0] if rows else None


def county_list(*, scope: Scope) -> QuerySet[County]:
    return scope.filter(County.objects.select_related("province"), county_field="pk", station_field=None)


def county_get_for_actor(*, scope: Scope, county_id: int) -> County:
    return get_in_scope(county_list(scope=scope), name="county", pk=county_id)


def village_list(*, scope: Scope, county_id: int | None = None) -> QuerySet[Village]:
    qs = scope.filter(Village.objects.all(), station_field="stations")
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    return qs.order_by("name")


def villages_without_live_station(*, scope: Scope, county_id: int) -> QuerySet[Village]:
    """Villages where a new station may apply: none of theirs is applying, open or paused."""
    return village_list(scope=scope, county_id=county_id).exclude(stations__in=Station.objects.exclude(status="closed"))


def station_list(*, scope: Scope, county_id: int | None = None, status: str | None = None, q: str | None = None) -> QuerySet[Station]:
    """Stations in scope, with village, county and current partner, for list pages and the API."""
    qs = scope.filter(Station.objects.all(), station_field="pk").select_related("village", "county")
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(village__name__icontains=q))
    return qs.order_by("code")


def station_get_for_actor(*, scope: Scope, code: str, lock: bool = False) -> Station:
    """Fetch a station the caller may reach; outside the scope it does not exist."""
    return get_in_scope(station_list(scope=scope), name="station", lock=lock, code=code)


def station_of_partner(*, scope: Scope) -> Station:
    """The partner's own station."""
    return get_in_scope(station_list(scope=scope), name="station", pk=scope.station_id)


def station_for_write(*, scope: Scope, code: str | None) -> Station:
    """The station a create is for: the one named by its code, or the partner's own."""
    if code:
        return station_get_for_actor(scope=scope, code=code)
    if scope.station_id is not None:
        return station_of_partner(scope=scope)
    raise DomainError(_("Name the station by its code."), code="invalid", fields={"station": [_("This field is required.")]})


def station_rows_with_partner(*, scope: Scope, county_id: int, status: str | None = None,
                              q: str | None = None) -> list[tuple[Station, Partner | None]]:
    """The county console's list: each station beside its current partner, in two queries."""
    stations = station_list(scope=scope, county_id=county_id, status=status, q=q)
    partners = {p.station_id: p for p in partner_list(scope=scope, county_id=county_id).exclude(status=PartnerStatus.ENDED)}
    return [(station, partners.get(station.pk)) for station in stations]


def station_current_partner(*, station: Station) -> Partner | None:
    return station.partners.exclude(status=PartnerStatus.ENDED).select_related("user").order_by("-applied_at").first()


def station_history(*, station: Station):
    return station.status_events.select_related("actor").order_by("at", "pk")


def station_verify(*, code: str) -> tuple[Station, str] | None:
    """Public check of a station code: anyone may ask, no scope.

    Returns the station and its partner's name masked (王**): enough to recognise
    the person at the counter, not enough to find them elsewhere.
    """
    code = (code or "").strip().upper()
    if not code:
        return None
    station = Station.objects.select_related("village", "county__province").filter(code=code).first()
    if station is None:
        return None
    partner = station_current_partner(station=station)
    return station, (mask_name(partner.full_name) if partner else "")


def partner_list(*, scope: Scope, county_id: int | None = None, status: str | None = None) -> QuerySet[Partner]:
    qs = scope.filter(Partner.objects.select_related("station", "user", "county"))
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("station__code")


def county_summaries(*, scope: Scope) -> QuerySet[County]:
    """Counties in scope, each with its count of villages and of stations by status."""
    return county_list(scope=scope).annotate(
        village_count=Count("villages", distinct=True),
        open_count=Count("stations", filter=Q(stations__status="open"), distinct=True),
        pipeline_count=Count("stations", filter=Q(stations__status__in=["applying", "training"]), distinct=True),
        paused_count=Count("stations", filter=Q(stations__status="suspended"), distinct=True),
    )
