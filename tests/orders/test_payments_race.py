"""The same payment webhook delivered by 5 threads at once: the order is paid once."""

import time

import pytest
from django.db import connection
from django.test import Client

from cuntao.ledger.models import Transaction
from cuntao.notify.models import Notice
from cuntao.orders.models import OrderStatus, Payment, PaymentWebhookEvent
from cuntao.orders.payments import sandbox_sign
from tests.orders.factories import place, rice_cooker, villager_at
from tests.orders.test_payments import webhook_body
from tests.orders.test_races import run_in_threads

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_webhook_delivered_five_times_at_once_pays_once(partner, station, scope_of):
    order = place(scope_of(partner.user), station, villager_at(station), rice_cooker(), payment_method="online")
    payment = Payment.objects.get(reference=order.number)
    body = webhook_body(payment, event_id="evt_race", timestamp=time.time())
    signature = sandbox_sign(body)
    connection.close()  # the threads open their own connections

    def deliver(i):
        response = Client().post("/api/v1/payments/webhook/sandbox", body, content_type="application/json",
                                 HTTP_X_SANDBOX_SIGNATURE=signature)
        assert response.status_code == 200, response.content
        return response.json()["result"]

    outcomes, errors = run_in_threads(5, deliver)
    assert not errors, errors
    assert sorted(outcomes) == ["applied"] + ["replayed"] * 4
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.events.filter(to_status="paid").count() == 1
    assert PaymentWebhookEvent.objects.count() == 1
    assert Transaction.objects.filter(dedupe_key__startswith="payment:online:").count() == 1
    assert Notice.objects.filter(kind="order_paid").count() == 1
