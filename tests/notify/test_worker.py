"""The worker: claims due notices, sends them outside transactions, never loses or doubles one."""

import io
import json
import os
import random
import signal
import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from cuntao.notify.gateways import DatabaseLogGateway, Gateway, get_gateway
from cuntao.notify.models import DeliveredMessage, Notice, NoticeEvent
from cuntao.notify.services import (
    BACKOFF_BASE_SECONDS,
    backoff,
    lease_seconds,
    notice_deliver,
    notices_claim,
    notices_send_due,
)
from tests.notify.factories import (
    BrokenGateway,
    DownGateway,
    InPersonNoticeFactory,
    NoticeFactory,
    RecordingGateway,
    RejectingGateway,
)

GATEWAYS = "tests.notify.factories"


def run_worker(*args) -> dict:
    out = io.StringIO()
    call_command("worker", *args, stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary.pop("worker") == "notify"
    return summary


def test_default_gateway_is_the_database_log_gateway(settings):
    del settings.NOTIFY_GATEWAY  # the lead's setting may be absent: the default applies
    gateway = get_gateway()
    assert isinstance(gateway, DatabaseLogGateway) and isinstance(gateway, Gateway)


def test_worker_sends_each_due_notice_once_through_the_configured_gateway(station):
    notices = NoticeFactory.create_batch(3, villager__station=station)
    with override_settings(NOTIFY_GATEWAY=f"{GATEWAYS}.RecordingGateway"):
        assert run_worker("--once", "--batch", "2") == {"claimed": 3, "sent": 3, "retry": 0, "failed": 0, "skipped": 0}
        assert run_worker("--once")["claimed"] == 0
    assert DeliveredMessage.objects.count() == 3
    for notice in notices:
        notice.refresh_from_db()
        delivered = DeliveredMessage.objects.get(reference=str(notice.reference))
        assert (notice.status, notice.attempts, notice.gateway_message_id) == ("sent", 1, delivered.message_id)
        assert notice.sent_at is not None and notice.lease_until is None and notice.lease_token == ""
        assert (delivered.phone, delivered.text) == (notice.phone, notice.text)
        assert list(notice.events.values_list("from_status", "to_status", "attempt")) == [
            ("pending", "sending", 1), ("sending", "sent", 1)]


def test_notice_not_yet_due_waits(station):
    now = timezone.now()
    NoticeFactory(villager__station=station, next_attempt_at=now + timedelta(minutes=5))
    assert notices_send_due(gateway=RecordingGateway(), now=now)["claimed"] == 0
    assert notices_send_due(gateway=RecordingGateway(), now=now + timedelta(minutes=5))["sent"] == 1


def test_in_person_notices_are_never_given_to_the_gateway(station):
    InPersonNoticeFactory(villager__station=station)
    assert run_worker("--once")["claimed"] == 0
    assert Notice.objects.get().status == "pending"


def test_gateway_down_delays_the_notice_and_a_later_round_sends_it(station):
    notice = NoticeFactory(villager__station=station)
    now = timezone.now()
    assert notices_send_due(gateway=DownGateway(), now=now)["retry"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("pending", 1, "connection refused")
    wait = notice.next_attempt_at - now
    assert timedelta(seconds=BACKOFF_BASE_SECONDS / 2) <= wait <= timedelta(seconds=BACKOFF_BASE_SECONDS)

    assert notices_send_due(gateway=DownGateway(), now=now)["claimed"] == 0  # not due again yet
    later = now + timedelta(hours=1)
    assert notices_send_due(gateway=DownGateway(), now=later)["retry"] == 1
    gateway = RecordingGateway()
    assert notices_send_due(gateway=gateway, now=later + timedelta(hours=1))["sent"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("sent", 3, "")
    assert gateway.calls == [str(notice.reference)]
    assert list(notice.events.filter(from_status="sending").values_list("to_status", "attempt")) == [
        ("pending", 1), ("pending", 2), ("sent", 3)]


def test_backoff_doubles_up_to_an_hour_with_jitter():
    rng = random.Random(7)
    for attempts, full in [(1, 30), (2, 60), (3, 120), (8, 3600), (30, 3600)]:
        wait = backoff(attempts, rng=rng).total_seconds()
        assert full / 2 <= wait <= full


@override_settings(NOTIFY_MAX_ATTEMPTS=2)
def test_gateway_down_for_too_long_fails_the_notice_for_staff_to_retry(station):
    notice = NoticeFactory(villager__station=station)
    now = timezone.now()
    assert notices_send_due(gateway=DownGateway(), now=now)["retry"] == 1
    assert notices_send_due(gateway=DownGateway(), now=now + timedelta(hours=1))["failed"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.next_attempt_at) == ("failed", 2, None)
    assert notices_send_due(gateway=DownGateway(), now=now + timedelta(days=1))["claimed"] == 0


def test_permanent_rejection_fails_at_once(station):
    notice = NoticeFactory(villager__station=station)
    assert run_worker_with(RejectingGateway)["failed"] == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts, notice.last_error) == ("failed", 1, "number is blocked")
    assert notice.events.last().to_status == "failed"


def test_unexpected_gateway_error_is_retried_not_lost(station):
    notice = NoticeFactory(villager__station=station)
    assert run_worker_with(BrokenGateway)["retry"] == 1
    notice.refresh_from_db()
    assert notice.status == "pending" and notice.attempts == 1 and "oops" in notice.last_error


def run_worker_with(gateway_class) -> dict:
    with override_settings(NOTIFY_GATEWAY=f"{GATEWAYS}.{gateway_class.__name__}"):
        return run_worker("--once")


def test_crashed_worker_notice_is_sent_again_after_its_claim_expires_and_delivered_once(station):
    notice = NoticeFactory(villager__station=station)
    now = timezone.now()
    [claimed] = notices_claim(now=now)
    first_id = DatabaseLogGateway().send(claimed)  # the worker sent it, then died before recording it

    gateway = RecordingGateway()
    assert notices_send_due(gateway=gateway, now=now + timedelta(seconds=lease_seconds() - 1))["claimed"] == 0
    assert notices_send_due(gateway=gateway, now=now + timedelta(seconds=lease_seconds()))["sent"] == 1
    notice.refresh_from_db()
    assert gateway.calls == [str(notice.reference)]  # sent again, with the same client reference
    assert DeliveredMessage.objects.count() == 1  # and the gateway did not deliver it twice
    assert (notice.status, notice.gateway_message_id, notice.attempts) == ("sent", first_id, 2)
    assert notice.events.filter(note="claim expired; claimed again").count() == 1


def test_worker_whose_claim_was_taken_over_does_not_overwrite_the_outcome(station):
    notice = NoticeFactory(villager__station=station)
    now = timezone.now()
    [slow] = notices_claim(now=now)
    later = now + timedelta(seconds=lease_seconds())
    [fresh] = notices_claim(now=later)
    assert notice_deliver(fresh, gateway=DatabaseLogGateway(), now=later) == "sent"
    # The slow worker wakes up with its stale claim: its rejection must not turn "sent" into "failed".
    slow.lease_until = later + timedelta(seconds=1)
    notice_deliver(slow, gateway=RejectingGateway(), now=later)
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert not NoticeEvent.objects.filter(to_status="failed").exists()


def test_worker_skips_a_notice_whose_claim_ran_out_before_its_turn(station):
    NoticeFactory(villager__station=station)
    now = timezone.now()
    [claimed] = notices_claim(now=now)
    gateway = RecordingGateway()
    assert notice_deliver(claimed, gateway=gateway, now=now + timedelta(seconds=lease_seconds())) == "skipped"
    assert gateway.calls == []


class SigtermGateway(RecordingGateway):
    """Delivers, and on the first delivery the process is asked to stop."""

    def send(self, notice):
        if not self.calls:
            os.kill(os.getpid(), signal.SIGTERM)
        return super().send(notice)


def test_sigterm_stops_the_worker_after_the_current_batch(station):
    NoticeFactory.create_batch(3, villager__station=station)
    before = signal.getsignal(signal.SIGTERM)
    with override_settings(NOTIFY_GATEWAY="tests.notify.test_worker.SigtermGateway"):
        totals = run_worker("--batch", "1", "--sleep", "0")  # no --once: only the signal ends it
    assert totals["sent"] == 1
    assert list(Notice.objects.order_by("status").values_list("status", flat=True)) == ["pending", "pending", "sent"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_bad_worker_options_are_refused():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("worker", "--once", "--batch", "0")


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_deliver_each_notice_exactly_once_outside_transactions(station):
    notices = NoticeFactory.create_batch(40, villager__station=station)
    gateway = RecordingGateway()
    barrier = threading.Barrier(2, timeout=10)
    errors = []

    def work():
        try:
            barrier.wait()
            while notices_send_due(gateway=gateway, batch=3)["claimed"]:
                pass
        except Exception as error:  # surfaced in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and not any(thread.is_alive() for thread in threads)
    assert sorted(gateway.calls) == sorted(str(n.reference) for n in notices)  # each sent by exactly one worker
    assert not any(gateway.inside_transaction)  # and no send held a transaction open
    assert DeliveredMessage.objects.count() == 40
    assert set(Notice.objects.values_list("status", "attempts")) == {("sent", 1)}
