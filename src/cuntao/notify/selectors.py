"""Reads of the notice outbox, always within the caller's scope."""

from django.db.models import Count, Q, QuerySet

from cuntao.core.scope import Scope, get_in_scope
from cuntao.notify.models import Channel, Notice, NoticeStatus


def notice_list(*, scope: Scope, county_id: int | None = None, station_id: int | None = None,
                status: str | None = None, kind: str | None = None, channel: str | None = None) -> QuerySet[Notice]:
    """Notices in scope, newest first; the one filter behind the pages and GET /api/v1/notices."""
    qs = scope.filter(Notice.objects.select_related("villager", "relative", "station"))
    if county_id is not None:
        qs = qs.filter(county_id=county_id)
    if station_id is not None:
        qs = qs.filter(station_id=station_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if channel:
        qs = qs.filter(channel=channel)
    return qs.order_by("-created_at", "-pk")


def notice_get_for_actor(*, scope: Scope, notice_id: int, lock: bool = False) -> Notice:
    return get_in_scope(scope.filter(Notice.objects.select_related("villager", "relative", "station")),
                        name="notice", lock=lock, pk=notice_id)


def station_tell_list(*, scope: Scope, station_id: int) -> QuerySet[Notice]:
    """What the partner still has to tell villagers in person, oldest first."""
    return notice_list(scope=scope, station_id=station_id, status=NoticeStatus.PENDING,
                       channel=Channel.IN_PERSON).order_by("created_at", "pk")


def station_notice_counts(*, scope: Scope, station_id: int) -> dict[str, int]:
    """For the station home page: notices to tell in person, and phone notices not yet delivered."""
    counts = notice_list(scope=scope, station_id=station_id).filter(
        status__in=(NoticeStatus.PENDING, NoticeStatus.SENDING, NoticeStatus.FAILED)).aggregate(
        to_tell=Count("pk", filter=Q(channel=Channel.IN_PERSON, status=NoticeStatus.PENDING)),
        undelivered=Count("pk", filter=~Q(channel=Channel.IN_PERSON)),
    )
    return {"to_tell": counts["to_tell"], "undelivered": counts["undelivered"]}
