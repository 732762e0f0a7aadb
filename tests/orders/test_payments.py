"""Online payment of assisted orders through the sandbox provider: checkout, signed webhooks, refunds."""

import json
import time

import pytest
from django.test import Client

from cuntao.catalog.models import Product
from cuntao.core.errors import DomainError
from cuntao.ledger.models import Transaction
from cuntao.notify.models import Notice
from cuntao.orders.models import Order, OrderStatus, Payment, PaymentStatus, PaymentWebhookEvent, SandboxWebhook
from cuntao.orders.payments import payment_refund, sandbox_deliver_webhooks, sandbox_pay, sandbox_sign
from cuntao.orders.selectors import order_payment_current
from cuntao.orders.services import order_advance, order_cancel, order_checkout, order_hand_over, order_return
from tests.orders.factories import place, rice_cooker, villager_at

WEBHOOK = "/api/v1/payments/webhook/sandbox"


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def villager(station):
    return villager_at(station)


@pytest.fixture
def cooker(db):
    return rice_cooker()


@pytest.fixture
def online_order(scope, station, villager, cooker):
    return place(scope, station, villager, cooker, quantity=2, payment_method="online")


def payment_of(order) -> Payment:
    return order_payment_current(order=order)


def webhook_body(payment, *, event_id="evt_test_1", amount_fen=None, kind="payment.succeeded", timestamp=None) -> bytes:
    return json.dumps({"id": event_id, "type": kind, "timestamp": int(timestamp or time.time()),
                       "data": {"provider_ref": payment.provider_ref,
                                "amount_fen": payment.amount_fen if amount_fen is None else amount_fen}}).encode()


def post_webhook(body: bytes, signature: str | None = None):
    # A provider sends no CSRF token and no session: the endpoint must not need them.
    client = Client(enforce_csrf_checks=True)
    return client.post(WEBHOOK, body, content_type="application/json",
                       HTTP_X_SANDBOX_SIGNATURE=sandbox_sign(body) if signature is None else signature)


def online_postings(order) -> int:
    return Transaction.objects.filter(reference_id=str(order.pk), dedupe_key__startswith="payment:online:").count()


def state(order) -> tuple:
    order.refresh_from_db()
    payment = payment_of(order)
    return (order.status, order.paid_at, payment.status, payment.refunded_fen, Transaction.objects.count(),
            PaymentWebhookEvent.objects.count(), Notice.objects.filter(kind="order_paid").count())


def test_online_order_reserves_stock_and_awaits_payment_with_a_qr(online_order, cooker, partner_client):
    assert online_order.status == OrderStatus.AWAITING_PAYMENT and online_order.paid_at is None
    assert online_order.payment_due_at is not None
    assert Product.objects.get(pk=cooker.pk).stock == 8
    assert [e.to_status for e in online_order.events.order_by("pk")] == ["placed", "awaiting_payment"]
    payment = payment_of(online_order)
    assert payment.status == PaymentStatus.PENDING and payment.amount_fen == 39800
    assert payment.expires_at == online_order.payment_due_at
    assert online_postings(online_order) == 0
    page = partner_client.get(f"/orders/{online_order.number}/")
    assert page.status_code == 200 and b"<svg" in page.content
    assert payment.checkout_url.encode() in page.content


def test_checkout_queues_a_webhook_and_only_its_delivery_pays_the_order(online_order):
    payment = payment_of(online_order)
    page = Client().get(payment.checkout_url)
    assert page.status_code == 200 and b"<svg" in page.content and "¥398.00" in page.content.decode()
    response = Client().post(payment.checkout_url, {"action": "pay"})
    assert response.status_code == 200
    online_order.refresh_from_db()
    assert online_order.status == OrderStatus.AWAITING_PAYMENT  # the page itself changes nothing
    assert payment_of(online_order).status == PaymentStatus.PENDING

    assert sandbox_deliver_webhooks() == {"delivered": 1, "failed": 0}
    online_order.refresh_from_db()
    assert online_order.status == OrderStatus.PAID and online_order.paid_at is not None
    assert payment_of(online_order).status == PaymentStatus.SUCCEEDED
    assert online_postings(online_order) == 1
    assert Notice.objects.filter(kind="order_paid", villager=online_order.villager).count() == 1
    assert [e.to_status for e in online_order.events.order_by("pk")] == ["placed", "awaiting_payment", "paid"]
    assert sandbox_deliver_webhooks() == {"delivered": 0, "failed": 0}
    # The checkout is spent: a second visit shows no Pay button, and pressing it queues nothing.
    assert b'value="pay"' not in Client().get(payment.checkout_url).content
    Client().post(payment.checkout_url, {"action": "pay"})
    assert SandboxWebhook.objects.count() == 1


def test_forged_signature_is_400_and_changes_nothing(online_order):
    before = state(online_order)
    payment = payment_of(online_order)
    response = post_webhook(webhook_body(payment), signature="0" * 64)
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_signature"
    response = post_webhook(webhook_body(payment), signature="")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_signature"
    # Signed, then altered on the way: the signature no longer matches.
    body = webhook_body(payment, event_id="evt_a")
    response = post_webhook(body.replace(b"evt_a", b"evt_b"), signature=sandbox_sign(body))
    assert response.status_code == 400
    assert state(online_order) == before


def test_replayed_webhook_pays_once_and_posts_once(online_order):
    body = webhook_body(payment_of(online_order))
    first, second = post_webhook(body), post_webhook(body)
    assert first.status_code == 200 and first.json() == {"result": "applied"}
    assert second.status_code == 200 and second.json() == {"result": "replayed"}
    # Another event for a payment already made changes nothing either.
    third = post_webhook(webhook_body(payment_of(online_order), event_id="evt_other"))
    assert third.status_code == 200 and third.json() == {"result": "ignored"}
    assert Payment.objects.count() == 1 and online_postings(online_order) == 1
    assert Notice.objects.filter(kind="order_paid").count() == 1
    online_order.refresh_from_db()
    assert online_order.status == OrderStatus.PAID
    assert online_order.events.filter(to_status="paid").count() == 1


def test_amount_mismatch_is_400_and_changes_nothing(online_order):
    before = state(online_order)
    response = post_webhook(webhook_body(payment_of(online_order), amount_fen=100))
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_mismatch"
    assert state(online_order) == before
    # The same event id with the right amount is still applied: the refusal recorded nothing.
    assert post_webhook(webhook_body(payment_of(online_order))).json() == {"result": "applied"}


@pytest.mark.parametrize("age", [3600, -3600])
def test_stale_or_future_webhook_is_refused(online_order, age):
    before = state(online_order)
    response = post_webhook(webhook_body(payment_of(online_order), timestamp=time.time() - age))
    assert response.status_code == 400 and response.json()["error"]["code"] == "stale_webhook"
    assert state(online_order) == before


def test_unknown_payment_garbage_and_unknown_provider_are_4xx(online_order):
    payment = payment_of(online_order)
    payment.provider_ref = "sbx_nobody"
    assert post_webhook(webhook_body(payment)).json()["error"]["code"] == "unknown_payment"
    assert post_webhook(b"not json").json()["error"]["code"] == "bad_webhook"
    response = Client().post("/api/v1/payments/webhook/other", b"{}", content_type="application/json")
    assert response.status_code == 404
    assert PaymentWebhookEvent.objects.count() == 0


def test_declined_payment_keeps_the_order_waiting_and_a_new_qr_can_be_made(online_order, partner_client):
    first = payment_of(online_order)
    sandbox_pay(provider_ref=first.provider_ref, approve=False)
    sandbox_deliver_webhooks()
    first.refresh_from_db()
    online_order.refresh_from_db()
    assert first.status == PaymentStatus.FAILED and online_order.status == OrderStatus.AWAITING_PAYMENT
    response = partner_client.post(f"/orders/{online_order.number}/payment/")
    assert response.status_code == 302
    second = payment_of(online_order)
    assert second.pk != first.pk and second.status == PaymentStatus.PENDING
    sandbox_pay(provider_ref=second.provider_ref, approve=True)
    sandbox_deliver_webhooks()
    online_order.refresh_from_db()
    assert online_order.status == OrderStatus.PAID and online_postings(online_order) == 1


def paid(order) -> Order:
    payment = payment_of(order)
    sandbox_pay(provider_ref=payment.provider_ref, approve=True)
    sandbox_deliver_webhooks()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    return order


def refunds(order, method="online") -> list[int]:
    return [sum(e.amount_fen for e in t.entries.all() if e.amount_fen > 0)
            for t in Transaction.objects.filter(reference_id=str(order.pk), kind="refund",
                                                dedupe_key__startswith=f"refund:{method}:")]


def test_refund_larger_than_paid_is_refused_and_changes_nothing(online_order):
    payment = payment_of(paid(online_order))
    with pytest.raises(DomainError) as e:
        payment_refund(payment=payment, amount_fen=payment.amount_fen + 1, reason="too much")
    assert e.value.code == "refund_too_large" and e.value.status == 400
    payment_refund(payment=payment, amount_fen=800, reason="one part broken")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED and payment.refunded_fen == 800
    with pytest.raises(DomainError) as e:
        payment_refund(payment=payment, amount_fen=payment.amount_fen - 800 + 1, reason="too much")
    assert e.value.code == "refund_too_large"
    with pytest.raises(DomainError):
        payment_refund(payment=payment, amount_fen=0, reason="nothing")
    payment.refresh_from_db()
    assert payment.refunded_fen == 800


def test_refund_of_an_unpaid_payment_is_refused(online_order):
    with pytest.raises(DomainError) as e:
        payment_refund(payment=payment_of(online_order), amount_fen=1, reason="never paid")
    assert e.value.code == "refund_too_large"


def test_cancelling_an_online_paid_order_refunds_the_way_it_came(scope, online_order, cooker):
    order = paid(online_order)
    order_cancel(scope=scope, order=order, reason="changed mind")
    order.refresh_from_db()
    payment = payment_of(order)
    assert order.status == OrderStatus.CANCELLED and order.commission_state == "reversed"
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == 39800
    assert refunds(order) == [39800] and refunds(order, "cash") == []
    assert Product.objects.get(pk=cooker.pk).stock == 10
    order_cancel(scope=scope, order=order, reason="again")  # a repeat is a no-op
    assert refunds(order) == [39800] and payment_of(order).refunded_fen == 39800


def test_returning_an_online_paid_order_refunds_online(scope, online_order, clerk, scope_of):
    order = paid(online_order)
    staff = scope_of(clerk)
    for status in ("shipped", "at_county_warehouse", "at_station"):
        order_advance(scope=staff, order=order, to_status=status)
    order_hand_over(scope=scope, order=order)
    order_return(scope=scope, order=order, reason="does not work")
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    assert payment_of(order).status == PaymentStatus.REFUNDED and refunds(order) == [39800]


def test_cancelling_an_order_awaiting_payment_expires_its_payment_and_refunds_nothing(scope, online_order, cooker):
    order_cancel(scope=scope, order=online_order, reason="will pay cash instead")
    payment = payment_of(online_order)
    assert payment.status == PaymentStatus.EXPIRED and refunds(online_order) == []
    assert Product.objects.get(pk=cooker.pk).stock == 10
    assert Client().get(payment.checkout_url).status_code == 410
    with pytest.raises(DomainError) as e:
        order_checkout(order=online_order)
    assert e.value.status == 410


def test_money_arriving_after_cancellation_is_given_straight_back(scope, online_order):
    payment = payment_of(online_order)
    sandbox_pay(provider_ref=payment.provider_ref, approve=True)  # paid at the provider...
    order_cancel(scope=scope, order=online_order, reason="villager left")  # ...while the partner cancels
    sandbox_deliver_webhooks()
    online_order.refresh_from_db()
    payment.refresh_from_db()
    assert online_order.status == OrderStatus.CANCELLED and online_order.paid_at is None
    assert payment.status == PaymentStatus.REFUNDED and payment.refunded_fen == payment.amount_fen
    assert online_postings(online_order) == 1 and refunds(online_order) == [payment.amount_fen]
    assert online_order.events.order_by("-pk").first().note.startswith("Paid after the order was closed")


def test_api_places_online_orders_and_shows_the_pay_url(partner_client, villager, cooker):
    response = partner_client.post("/api/v1/orders", {
        "villager_id": villager.pk, "payment_method": "online",
        "lines": [{"product_id": cooker.pk, "quantity": 1, "expected_unit_price_fen": cooker.price_fen}]},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="online-1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "awaiting_payment" and data["payment_due_at"]
    assert data["payment"]["status"] == "pending" and data["payment"]["pay_url"].startswith("/pay/sandbox/sbx_")
    assert data["payment"]["pay_link_url"] is None


def test_webhook_endpoint_is_in_the_api_schema_without_auth(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/payments/webhook/{provider}"]["post"]
    assert not operation.get("security")
    assert "relative_pays" in json.dumps(schema["components"]["schemas"]["OrderIn"])
