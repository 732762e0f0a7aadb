"""Gateways that deliver notices: text messages and voice calls.

A gateway is any class with `send(notice) -> message id`. It is called outside every
database transaction. It must pass `notice.reference` to the provider as the client
reference (SMS providers deduplicate on it), so a notice sent again after a worker
died between sending and recording is not delivered twice. A temporary problem
(provider down, timeout, throttled) raises GatewayUnavailable and the notice is tried
again later; a permanent one (number blocked, text refused) raises GatewayRejected
and the notice fails, for county staff to look at.

settings.NOTIFY_GATEWAY names the class; the default records every message in the
database and the log, which is what the demo and the tests use.
"""

import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from django.conf import settings
from django.utils.module_loading import import_string

from cuntao.notify.models import DeliveredMessage

if TYPE_CHECKING:
    from cuntao.notify.models import Notice

DEFAULT_GATEWAY = "cuntao.notify.gateways.DatabaseLogGateway"

logger = logging.getLogger("cuntao.notify")


class GatewayError(Exception):
    """The gateway did not deliver the notice."""


class GatewayUnavailable(GatewayError):
    """A temporary failure: try again later."""


class GatewayRejected(GatewayError):
    """A permanent failure: trying again will not help."""


@runtime_checkable
class Gateway(Protocol):
    def send(self, notice: "Notice") -> str:
        """Deliver the notice's text to its phone on its channel; return the provider's message id.

        Pass notice.reference as the client reference, so that a second send of the same
        notice returns the first message id instead of delivering again.
        """
        ...


def mask_phone(phone: str) -> str:
    """+86138****5678: enough to tell numbers apart in a log, not to call them."""
    return phone[:6] + "****" + phone[-4:] if len(phone) > 10 else "****"


class DatabaseLogGateway:
    """Deliver by recording a DeliveredMessage row and a log line; deduplicates on the reference."""

    def send(self, notice: "Notice") -> str:
        reference = str(notice.reference)
        # get_or_create inserts in a savepoint and, when a concurrent send of the same
        # reference won the insert, answers with that row.
        message, created = DeliveredMessage.objects.get_or_create(reference=reference, defaults={
            "county_id": notice.county_id, "channel": notice.channel, "phone": notice.phone, "text": notice.text,
        })
        if created:
            logger.info("notice delivered: %s to %s, reference %s, message %s", notice.channel,
                        mask_phone(notice.phone), reference, message.message_id)
        else:
            logger.info("notice %s already delivered as %s; not delivered again", reference, message.message_id)
        return message.message_id


def gateway_path() -> str:
    return getattr(settings, "NOTIFY_GATEWAY", DEFAULT_GATEWAY) or DEFAULT_GATEWAY


def get_gateway() -> Gateway:
    """A new instance of the gateway settings.NOTIFY_GATEWAY names."""
    return import_string(gateway_path())()
