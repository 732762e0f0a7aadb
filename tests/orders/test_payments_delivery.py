"""The sandbox's webhooks over real HTTP, and delivery retried when the receiver is down."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cuntao.orders.models import OrderStatus, Payment, SandboxWebhook
from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay
from tests.orders.factories import place, rice_cooker, villager_at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(partner, station, scope_of):
    order = place(scope_of(partner.user), station, villager_at(station), rice_cooker(), payment_method="online")
    sandbox_pay(provider_ref=Payment.objects.get(reference=order.number).provider_ref, approve=True)
    return order


def test_webhook_delivered_over_http_pays_the_order(order, live_server, settings):
    settings.PAYMENT_SANDBOX_WEBHOOK_URL = live_server.url + "/api/v1/payments/webhook/sandbox"
    assert sandbox_deliver_webhooks() == {"delivered": 1, "failed": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert SandboxWebhook.objects.get().delivered_at is not None


def test_receiver_down_delays_the_webhook_and_a_later_round_delivers_it(order, live_server, settings):
    settings.PAYMENT_SANDBOX_WEBHOOK_URL = live_server.url + "/api/v1/payments/webhook/nobody"  # answers 404
    assert sandbox_deliver_webhooks() == {"delivered": 0, "failed": 1}
    hook = SandboxWebhook.objects.get()
    assert hook.attempts == 1 and hook.delivered_at is None and "404" in hook.last_error
    assert hook.next_attempt_at > timezone.now()
    assert sandbox_deliver_webhooks() == {"delivered": 0, "failed": 0}  # not due yet
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT

    settings.PAYMENT_SANDBOX_WEBHOOK_URL = live_server.url + "/api/v1/payments/webhook/sandbox"
    assert sandbox_deliver_webhooks(now=hook.next_attempt_at + timedelta(seconds=1)) == {"delivered": 1, "failed": 0}
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
