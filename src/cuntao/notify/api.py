from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from cuntao.network.selectors import station_get_for_actor
from cuntao.notify.models import Channel, NoticeStatus
from cuntao.notify.selectors import notice_list
from cuntao.notify.services import notice_mark_told, notice_retry

router = Router(tags=["notices"])


class NoticeOut(Schema):
    id: int
    reference: str
    county_id: int
    station: str | None = Field(None, alias="station.code")
    villager_id: int | None
    relative_id: int | None
    recipient: str = Field(..., alias="recipient_name")
    phone: str
    channel: Channel
    language: str
    kind: str
    text: str
    status: NoticeStatus
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    sent_at: datetime | None
    gateway_message_id: str
    dedupe_key: str
    created_at: datetime

    @staticmethod
    def resolve_reference(obj):
        return str(obj.reference)


@router.get("/notices", response=list[NoticeOut], summary="Notices in my scope, newest first")
@paginate
def list_notices(request: HttpRequest, status: NoticeStatus | None = None, kind: str | None = None,
                 channel: Channel | None = None, station: str | None = None, county_id: int | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return notice_list(scope=request.scope, status=status, kind=kind, channel=channel, station_id=station_id,
                       county_id=county_id)


@router.post("/notices/{notice_id}/retry", response=NoticeOut, summary="Send a failed notice again (county staff)")
def retry_notice(request: HttpRequest, notice_id: int):
    return notice_retry(scope=request.scope, notice_id=notice_id)


@router.post("/notices/{notice_id}/told", response=NoticeOut,
             summary="Mark a notice told in person (partner); repeating it changes nothing")
def tell_notice(request: HttpRequest, notice_id: int):
    return notice_mark_told(scope=request.scope, notice_id=notice_id)
