"""factory_boy factories and test gateways for the notify app."""

import threading

import factory
from django.db import connection
from django.utils import timezone

from cuntao.notify.gateways import (
    DatabaseLogGateway,
    GatewayRejected,
    GatewayUnavailable,
)
from cuntao.notify.models import Notice
from tests.factories import VillagerFactory


class NoticeFactory(factory.django.DjangoModelFactory):
    """A text notice to a villager, waiting to be sent."""

    class Meta:
        model = Notice

    villager = factory.SubFactory(VillagerFactory, phone="+8613812345678")
    county = factory.SelfAttribute("villager.county")
    station = factory.SelfAttribute("villager.station")
    phone = factory.SelfAttribute("villager.phone")
    channel = "sms"
    language = "zh-hans"
    kind = "pickup_code"
    text = factory.Sequence(lambda n: f"取件码 {n:06d}")
    next_attempt_at = factory.LazyFunction(timezone.now)
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")
    recipient_key = "villager"


class InPersonNoticeFactory(NoticeFactory):
    villager = factory.SubFactory(VillagerFactory, phone="")
    phone = ""
    channel = "in_person"
    next_attempt_at = None


class FailedNoticeFactory(NoticeFactory):
    status = "failed"
    attempts = 3
    next_attempt_at = None
    last_error = "number blocked"


class RecordingGateway(DatabaseLogGateway):
    """The database gateway that also remembers every call, thread-safely."""

    def __init__(self):
        self.calls: list[str] = []
        self.inside_transaction: list[bool] = []  # was the caller's connection in a transaction?
        self._lock = threading.Lock()

    def send(self, notice):
        with self._lock:
            self.calls.append(str(notice.reference))
            self.inside_transaction.append(connection.in_atomic_block)
        return super().send(notice)


class DownGateway:
    """A gateway whose provider is unreachable."""

    calls = 0

    def send(self, notice):
        DownGateway.calls += 1
        raise GatewayUnavailable("connection refused")


class RejectingGateway:
    def send(self, notice):
        raise GatewayRejected("number is blocked")


class BrokenGateway:
    """A gateway with a bug: not a GatewayError at all."""

    def send(self, notice):
        raise KeyError("oops")
