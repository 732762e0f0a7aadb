"""Writes of the notice outbox.

Other apps call `notice_enqueue` inside their own service transaction, so a notice
exists exactly when the business change it tells of committed. `cuntao worker` then
claims due notices in a short transaction, sends them outside any transaction, and
records the outcome; the partner marks in-person notices told; county staff retry
failed ones.
"""

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cuntao.core.db import Columns, insert_new
from cuntao.core.errors import Conflict, Forbidden
from cuntao.core.scope import Scope
from cuntao.network.models import Station
from cuntao.notify.gateways import Gateway, GatewayRejected, GatewayUnavailable
from cuntao.notify.kinds import notice_kind
from cuntao.notify.models import (
    GATEWAY_CHANNELS,
    Channel,
    Notice,
    NoticeEvent,
    NoticeStatus,
)
from cuntao.notify.selectors import notice_get_for_actor
from cuntao.villagers.models import MigrantRelative, Villager

logger = logging.getLogger("cuntao.notify")

MAX_KEY_LENGTH = 150


def max_attempts() -> int:
    """Sends tried before a notice fails and waits for county staff (about 9 hours at the defaults)."""
    return getattr(settings, "NOTIFY_MAX_ATTEMPTS", 10)


def lease_seconds() -> int:
    """How long a worker's claim lasts; past it another worker may send the notice again."""
    return getattr(settings, "NOTIFY_LEASE_SECONDS", 300)


BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 3600


@dataclass(frozen=True)
class Recipient:
    channel: str
    phone: str
    relative: MigrantRelative | None = None

    @property
    def key(self) -> str:
        return f"relative:{self.relative.pk}" if self.relative is not None else "villager"


def choose_recipients(*, villager: Villager, relative: MigrantRelative | None, personal: bool) -> list[Recipient]:
    """Who gets a notice about this villager, and how.

    A relative named by the caller gets a text. A villager with a phone gets a text, or a
    call if they cannot read. A villager without a phone is told through each relative
    who receives notices, or, without one (or for a personal notice), in person by the
    partner.
    """
    if relative is not None:
        return [Recipient(Channel.SMS, relative.phone, relative)]
    if villager.phone:
        return [Recipient(Channel.VOICE if villager.needs_voice else Channel.SMS, villager.phone)]
    if not personal:
        relatives = [Recipient(Channel.SMS, r.phone, r) for r in _relatives_told(villager)]
        if relatives:
            return relatives
    return [Recipient(Channel.IN_PERSON, "")]


_RELATIVE = Columns(MigrantRelative, "r")


def _relatives_told(villager: Villager) -> list[MigrantRelative]:
    """The villager's relatives who receive notices, oldest first.

    Hand-written: every order of a villager without a phone reads them.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_RELATIVE.sql} FROM villagers_migrantrelative r "
                       "WHERE r.villager_id = %s AND r.receives_notices ORDER BY r.id", [villager.pk])
        return [_RELATIVE.build(row) for row in cursor.fetchall()]


def notice_enqueue(*, kind: str, dedupe_key: str, villager: Villager | None = None,
                   relative: MigrantRelative | None = None, params: dict | None = None,
                   county_id: int | None = None, station_id: int | None = None, actor=None,
                   now: datetime | None = None) -> list[Notice]:
    """Queue the notices of one business event; call inside the caller's transaction.

    The notices commit or roll back with the business change. `dedupe_key` names the
    event (such as "order:42:placed"); queueing the same key again in the county
    returns the notices already queued and adds none. Call while holding the lock of
    the business row the key names, so two writers of one event cannot meet; if they
    do, the unique constraint refuses the second and its transaction rolls back.

    `params` fill the kind's placeholders; the villager's and the station's names are
    added. The text is rendered now, in the villager's language. A mistake here (an
    unknown kind, a missing param) is a programming error and raises ValueError.
    """
    queued = notices_enqueue(events=[NoticeRequest(kind, dedupe_key, params or {})], villager=villager,
                             relative=relative, county_id=county_id, station_id=station_id, actor=actor, now=now)
    return queued[dedupe_key]


@dataclass(frozen=True)
class NoticeRequest:
    """One business event to tell of: its notice kind, dedupe key and the kind's params."""

    kind: str
    dedupe_key: str
    params: dict


def notices_enqueue(*, events: list[NoticeRequest], villager: Villager | None = None,
                    relative: MigrantRelative | None = None, county_id: int | None = None,
                    station_id: int | None = None, actor=None, now: datetime | None = None,
                    new_events: bool = False) -> dict[str, list[Notice]]:
    """notice_enqueue for several events about one villager at once (an order placed and paid).

    The same rules per event, in one look-up of the dedupe keys, one read of the
    recipients and one insert: an order's two notices cost three queries, not six.
    new_events says the keys name rows this transaction has just made, so nothing can
    have been queued for them: no look-up then. Returns the notices by dedupe key,
    queued now or earlier.
    """
    villager, county_id = _notice_villager(villager, relative, county_id)
    specs = {}
    for event in events:
        if not event.dedupe_key or len(event.dedupe_key) > MAX_KEY_LENGTH:
            raise ValueError(f"A dedupe_key has 1 to {MAX_KEY_LENGTH} characters.")
        if event.dedupe_key in specs:
            raise ValueError(f"The dedupe_key {event.dedupe_key!r} names two events.")
        spec = specs[event.dedupe_key] = notice_kind(event.kind)
        if set(event.params) != set(spec.params):
            raise ValueError(f"Notice kind {event.kind!r} takes params {sorted(spec.params)}, "
                             f"not {sorted(event.params)}.")

    with transaction.atomic(savepoint=False):
        # Only the ids first, unordered: the usual answer is "none", and a narrow query is cheaper.
        existing = {} if new_events else dict(
            Notice.objects.filter(county_id=county_id, dedupe_key__in=list(specs)).order_by()
            .values_list("pk", "dedupe_key"))
        queued: dict[str, list[Notice]] = {key: [] for key in specs}
        if existing:
            for notice in Notice.objects.filter(pk__in=list(existing)).order_by("pk"):
                queued[notice.dedupe_key].append(notice)
        fresh = [event for event in events if not queued[event.dedupe_key]]
        if not fresh:
            return queued
        station = _notice_station(villager, county_id, station_id)
        now = now or timezone.now()
        recipients: dict[bool, list[Recipient]] = {}  # by the kind's `personal`: read once per batch
        notices = []
        with translation.override(villager.language):
            for event in fresh:
                spec = specs[event.dedupe_key]
                if spec.personal not in recipients:
                    recipients[spec.personal] = choose_recipients(villager=villager, relative=relative,
                                                                  personal=spec.personal)
                params = {**event.params, "villager": villager.name, "station": station.name}
                for recipient in recipients[spec.personal]:
                    notices.append(Notice(
                        county_id=county_id, station=station, villager=villager, relative=recipient.relative,
                        phone=recipient.phone, channel=recipient.channel, language=villager.language,
                        kind=event.kind, text=spec.render(params, for_relative=recipient.relative is not None),
                        next_attempt_at=None if recipient.channel == Channel.IN_PERSON else now,
                        dedupe_key=event.dedupe_key, recipient_key=recipient.key, created_by=actor,
                    ))
        for notice in insert_new(notices):
            queued[notice.dedupe_key].append(notice)
        return queued


def _notice_villager(villager: Villager | None, relative: MigrantRelative | None,
                     county_id: int | None) -> tuple[Villager, int]:
    """The villager the notices are about and their county, checked against what the caller named."""
    if relative is not None:
        if villager is None:
            villager = relative.villager
        elif relative.villager_id != villager.pk:
            raise ValueError("The relative is not this villager's relative.")
    if villager is None:
        raise ValueError("A notice needs a villager or a relative.")
    if county_id is None:
        county_id = villager.county_id
    elif county_id != villager.county_id:
        raise ValueError("The notice's county is not the villager's county.")
    return villager, county_id


def _notice_station(villager: Villager, county_id: int, station_id: int | None) -> Station:
    if station_id is None or station_id == villager.station_id:
        return villager.station
    station = Station.objects.only("pk", "name", "county_id").get(pk=station_id)
    if station.county_id != county_id:
        raise ValueError("The notice's station is in another county.")
    return station


def notices_cancel(*, county_id: int, dedupe_key: str, actor=None, reason: str = "",
                   now: datetime | None = None) -> int:
    """Cancel the event's notices not yet sent (a pay link for an order cancelled meanwhile).

    Call inside the caller's transaction. A notice a worker is sending at this moment
    may already be with the gateway, so it is left to finish. Returns how many were
    cancelled.
    """
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        notices = list(Notice.objects.select_for_update().filter(
            county_id=county_id, dedupe_key=dedupe_key, status=NoticeStatus.PENDING).order_by("pk"))
        if not notices:
            return 0
        Notice.objects.filter(pk__in=[n.pk for n in notices]).update(status=NoticeStatus.CANCELLED, next_attempt_at=None)
        NoticeEvent.objects.bulk_create([
            NoticeEvent(notice=n, county_id=n.county_id, from_status=NoticeStatus.PENDING,
                        to_status=NoticeStatus.CANCELLED, actor=actor, at=now, note=reason[:500])
            for n in notices
        ])
    return len(notices)


@transaction.atomic
def notice_mark_told(*, scope: Scope, notice_id: int, now: datetime | None = None) -> Notice:
    """Record that the partner told the villager in person; telling twice changes nothing."""
    notice = notice_get_for_actor(scope=scope, notice_id=notice_id, lock=True)
    if notice.channel != Channel.IN_PERSON:
        raise Conflict(_("This notice goes by phone; only notices to tell in person are marked told."),
                       code="not_in_person")
    if notice.status == NoticeStatus.SENT:
        return notice
    if notice.status != NoticeStatus.PENDING:
        raise Conflict(_("This notice is %(status)s and can no longer be marked told.")
                       % {"status": notice.get_status_display()}, code="notice_not_pending")
    now = now or timezone.now()
    notice.status, notice.sent_at, notice.sent_by = NoticeStatus.SENT, now, scope.user
    notice.save(update_fields=["status", "sent_at", "sent_by"])
    NoticeEvent.objects.create(notice=notice, county_id=notice.county_id, from_status=NoticeStatus.PENDING,
                               to_status=NoticeStatus.SENT, actor=scope.user, at=now, note="told in person")
    return notice


@transaction.atomic
def notice_retry(*, scope: Scope, notice_id: int, now: datetime | None = None) -> Notice:
    """Send a failed notice again, with a fresh count of attempts (county staff only)."""
    if not scope.is_staff_scope:
        raise Forbidden(_("Only county staff retry notices."))
    notice = notice_get_for_actor(scope=scope, notice_id=notice_id, lock=True)
    if notice.status != NoticeStatus.FAILED:
        raise Conflict(_("Only a failed notice can be retried; this one is %(status)s.")
                       % {"status": notice.get_status_display()}, code="notice_not_failed")
    now = now or timezone.now()
    notice.status, notice.attempts, notice.next_attempt_at = NoticeStatus.PENDING, 0, now
    notice.save(update_fields=["status", "attempts", "next_attempt_at"])
    NoticeEvent.objects.create(notice=notice, county_id=notice.county_id, from_status=NoticeStatus.FAILED,
                               to_status=NoticeStatus.PENDING, actor=scope.user, at=now, note="retry requested")
    return notice


# --- the worker's steps -------------------------------------------------------------


def backoff(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before the next try: doubling from 30 s to at most an hour, with jitter.

    The jitter (half to all of the delay) keeps notices that failed together from
    hitting a recovering gateway all at once.
    """
    delay = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return timedelta(seconds=delay * (rng or random).uniform(0.5, 1.0))


def notices_claim(*, batch: int = 50, now: datetime | None = None) -> list[Notice]:
    """Claim up to `batch` due notices for this worker, in one short transaction.

    Due: waiting with their time come, or being sent by a worker whose claim ran out
    (it died, or hangs). Claimed notices are `sending` until the lease ends; each claim
    counts as an attempt and carries a token that the outcome must match. On PostgreSQL
    concurrent workers skip each other's locked rows; SQLite lets one writer in at a time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        qs = Notice.objects.filter(channel__in=GATEWAY_CHANNELS).filter(
            Q(status=NoticeStatus.PENDING, next_attempt_at__lte=now) | Q(status=NoticeStatus.SENDING, lease_until__lte=now)
        ).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        notices = list(qs[:batch])
        if not notices:
            return []
        token, lease_until = uuid.uuid4().hex, now + timedelta(seconds=lease_seconds())
        events = []
        for notice in notices:
            events.append(NoticeEvent(
                notice=notice, county_id=notice.county_id, from_status=notice.status, to_status=NoticeStatus.SENDING,
                attempt=notice.attempts + 1, at=now,
                note="claim expired; claimed again" if notice.status == NoticeStatus.SENDING else "claimed",
            ))
            notice.status, notice.attempts = NoticeStatus.SENDING, notice.attempts + 1
            notice.lease_until, notice.lease_token = lease_until, token
        Notice.objects.bulk_update(notices, ["status", "attempts", "lease_until", "lease_token"])
        NoticeEvent.objects.bulk_create(events)
    return notices


def _finish(notice: Notice, *, to_status: str, now: datetime, note: str = "", message_id: str = "", **fields) -> bool:
    """Record a send's outcome if this worker still holds the claim; False if it lost it."""
    with transaction.atomic():
        updated = Notice.objects.filter(pk=notice.pk, status=NoticeStatus.SENDING, lease_token=notice.lease_token).update(
            status=to_status, lease_until=None, lease_token="", **fields)
        if not updated:
            logger.warning("notice %s: claim lost before its outcome (%s) was recorded", notice.pk, to_status)
            return False
        NoticeEvent.objects.create(notice=notice, county_id=notice.county_id, from_status=NoticeStatus.SENDING,
                                   to_status=to_status, attempt=notice.attempts, at=now,
                                   gateway_message_id=message_id, note=note[:500])
    notice.status = to_status
    for name, value in fields.items():
        setattr(notice, name, value)
    return True


def notice_deliver(notice: Notice, *, gateway: Gateway, now: datetime | None = None,
                   rng: random.Random | None = None) -> str:
    """Send one claimed notice through the gateway, outside any transaction; record the outcome.

    Returns "sent", "retry", "failed", or "skipped" when the claim ended before the send.
    """
    if (now or timezone.now()) >= notice.lease_until:
        return "skipped"  # another worker may hold it now; sending could race with it
    try:
        message_id = gateway.send(notice)
    except GatewayRejected as error:
        logger.warning("notice %s rejected by the gateway: %s", notice.pk, error)
        _finish(notice, to_status=NoticeStatus.FAILED, now=now or timezone.now(), note=str(error),
                last_error=str(error)[:500], next_attempt_at=None)
        return "failed"
    except Exception as error:  # a temporary failure, or a gateway bug: either way, try again later
        if not isinstance(error, GatewayUnavailable):
            logger.exception("notice %s: the gateway raised an unexpected error", notice.pk)
        now = now or timezone.now()
        message = str(error)[:500] or error.__class__.__name__
        if notice.attempts >= max_attempts():
            _finish(notice, to_status=NoticeStatus.FAILED, now=now, note=message, last_error=message,
                    next_attempt_at=None)
            return "failed"
        _finish(notice, to_status=NoticeStatus.PENDING, now=now, note=message, last_error=message,
                next_attempt_at=now + backoff(notice.attempts, rng=rng))
        return "retry"
    now = now or timezone.now()
    _finish(notice, to_status=NoticeStatus.SENT, now=now, message_id=str(message_id)[:100],
            sent_at=now, gateway_message_id=str(message_id)[:100], last_error="")
    return "sent"


def notices_send_due(*, gateway: Gateway, batch: int = 50, now: datetime | None = None,
                     rng: random.Random | None = None) -> dict[str, int]:
    """One round of the worker: claim a batch, send each, count the outcomes."""
    counts = {"claimed": 0, "sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    notices = notices_claim(batch=batch, now=now)
    counts["claimed"] = len(notices)
    for notice in notices:
        counts[notice_deliver(notice, gateway=gateway, now=now, rng=rng)] += 1
    return counts
