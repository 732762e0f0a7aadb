"""What the signed-in user may see, resolved once per request.

Selectors take a Scope and filter by it; views and API routes never work out access
themselves. Rows carry their county directly, so the filter is one indexed column.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db.models import QuerySet
from django.utils.functional import SimpleLazyObject
from django.utils.module_loading import import_string

from cuntao.core.errors import NotFound


class Role(StrEnum):
    PROGRAMME_ADMIN = "programme_admin"
    COUNTY_STAFF = "county_staff"
    PARTNER = "partner"
    NONE = "none"


@dataclass(frozen=True)
class Scope:
    """The counties and stations one user may reach; None means all of them."""

    user: object | None  # the acting User; services record it as the actor
    role: Role
    county_ids: frozenset[int] | None
    station_ids: frozenset[int] | None

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

    @property
    def is_staff_scope(self) -> bool:
        """County staff or programme admin: may run the county console."""
        return self.role in (Role.PROGRAMME_ADMIN, Role.COUNTY_STAFF)

    @property
    def is_programme_admin(self) -> bool:
        return self.role == Role.PROGRAMME_ADMIN

    @property
    def is_county_staff(self) -> bool:
        return self.role == Role.COUNTY_STAFF

    @property
    def is_partner(self) -> bool:
        return self.role == Role.PARTNER

    @property
    def station_id(self) -> int | None:
        """The partner's own station."""
        if self.station_ids and len(self.station_ids) == 1:
            return next(iter(self.station_ids))
        return None

    def filter(self, qs: QuerySet, *, county_field: str | None = "county", station_field: str | None = "station") -> QuerySet:
        """Keep the rows of qs inside this scope.

        A row with a station is reached through that station; a row with only a county
        is reached by a partner only if its model has no station field (pass None).
        """
        if self.role == Role.NONE:
            return qs.none()
        if self.station_ids is not None:
            if station_field is None:
                return qs.filter(**{f"{county_field}__in": self.county_ids or ()})
            return qs.filter(**{f"{station_field}__in": self.station_ids})
        if self.county_ids is not None:
            return qs.filter(**{f"{county_field}__in": self.county_ids})
        return qs

    def may_reach_county(self, county_id: int) -> bool:
        return self.role != Role.NONE and (self.county_ids is None or county_id in self.county_ids)

    def may_reach_station(self, station_id: int, county_id: int) -> bool:
        if self.station_ids is not None:
            return station_id in self.station_ids
        return self.may_reach_county(county_id)


def get_in_scope(qs: QuerySet, *, name: str, lock: bool = False, **lookup):
    """The one object of an already scope-filtered qs matching lookup, or NotFound.

    With lock, the row is locked (select_for_update) for the caller's transaction.
    """
    if lock:
        qs = qs.select_for_update(of=("self",))
    found = qs.filter(**lookup).order_by().first()  # one row: the model's ordering would only cost
    if found is None:
        raise NotFound(detail=name)
    return found


NO_SCOPE = Scope(user=None, role=Role.NONE, county_ids=frozenset(), station_ids=frozenset())


def resolve_scope(user) -> Scope:
    """Work out the user's scope from their memberships (a few queries, once a request).

    The memberships live in an app above this one (network); settings.SCOPE_RESOLVER
    names the function that reads them, so core imports nothing from above.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NO_SCOPE
    return import_string(settings.SCOPE_RESOLVER)(user=user)


def scope_user_relations() -> tuple[str, ...]:
    """The user's relations the scope resolver reads, for a caller to select with the user."""
    return getattr(import_string(settings.SCOPE_RESOLVER), "user_relations", ())


def attach_scope(request) -> None:
    """Give the request a lazy `request.scope` for its current user.

    Lazy: many pages never ask. API token auth sets request.user after the middleware
    has run, and then sets request.scope itself.
    """
    request.scope = SimpleLazyObject(lambda: resolve_scope(request.user))


class ScopeMiddleware:
    """Give every request its scope (see attach_scope)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        attach_scope(request)
        return self.get_response(request)


def scope_context(request):
    return {"scope": getattr(request, "scope", NO_SCOPE)}
