"""A relative pays: the pay link sent to a migrant relative, its page, its single use, and its expiry."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from cuntao.catalog.models import Product
from cuntao.ledger.models import Transaction
from cuntao.notify.models import Notice
from cuntao.orders.models import Order, OrderStatus, PayLink, Payment, PaymentStatus
from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay
from cuntao.orders.services import orders_expire_unpaid
from tests.factories import RelativeFactory
from tests.orders.factories import place, rice_cooker, villager_at


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def villager(station):
    return villager_at(station, name="李大爷")


@pytest.fixture
def son(villager):
    return RelativeFactory(villager=villager, name="李明", relation="child")


@pytest.fixture
def cooker(db):
    return rice_cooker()


@pytest.fixture
def order(scope, station, villager, son, cooker):
    return place(scope, station, villager, cooker, quantity=2, payment_method="relative_pays", relative_id=son.pk)


def link_of(order) -> str:
    return f"/p/{PayLink.objects.get(order=order).token}/"


def test_relative_pays_needs_one_of_the_villagers_relatives(scope, station, villager, cooker, db):
    stranger = RelativeFactory(villager=villager_at(station))
    for relative_id in (None, stranger.pk, 0):
        with pytest.raises(ValidationError) as e:
            place(scope, station, villager, cooker, payment_method="relative_pays", relative_id=relative_id)
        assert list(e.value.message_dict) == ["relative"]
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert Product.objects.get(pk=cooker.pk).stock == 10


def test_the_relative_gets_a_pay_link_and_the_order_awaits_payment(order, son, cooker):
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert Product.objects.get(pk=cooker.pk).stock == 8
    link = PayLink.objects.get(order=order)
    assert len(link.token) >= 32 and link.relative == son
    assert link.expires_at == order.payment_due_at == order.placed_at + timedelta(hours=48)
    notice = Notice.objects.get(kind="pay_link")
    assert notice.relative == son and notice.phone == son.phone
    assert f"/p/{link.token}/" in notice.text and "¥398.00" in notice.text


def test_pay_link_page_needs_no_login_and_says_what_for_whom_and_how_much(order, station):
    page = Client().get(link_of(order))
    assert page.status_code == 200
    text = page.content.decode()
    assert "李大爷" in text and station.name in text and "¥398.00" in text and order.number in text
    assert "美的电饭煲" in text and 'type="submit"' in text
    assert PayLink.objects.get(order=order).opened_at is not None


def test_unknown_token_is_404(db):
    assert Client().get("/p/not-a-token/").status_code == 404
    assert Client().post("/p/not-a-token/pay/").status_code == 404


def test_pay_link_used_twice_never_makes_a_second_payment(order):
    relative = Client()
    response = relative.post(link_of(order) + "pay/")
    assert response.status_code == 302 and response["Location"].startswith("/pay/sandbox/sbx_")
    relative.post(response["Location"], {"action": "pay"})
    sandbox_deliver_webhooks()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID

    again = relative.get(link_of(order))
    assert again.status_code == 200 and "Already paid" in again.content.decode()
    assert 'type="submit"' not in again.content.decode().split("<main>")[1]
    pressed = relative.post(link_of(order) + "pay/")
    assert pressed.status_code == 200 and "Already paid" in pressed.content.decode()
    assert Payment.objects.count() == 1
    assert Transaction.objects.filter(dedupe_key__startswith="payment:online:").count() == 1


def test_pay_link_after_expiry_is_410_and_starts_no_payment(order):
    past = timezone.now() - timedelta(seconds=1)  # the deadline has passed; the expiry job has not run yet
    PayLink.objects.filter(order=order).update(expires_at=past)
    Order.objects.filter(pk=order.pk).update(payment_due_at=past)
    Payment.objects.filter(reference=order.number).update(expires_at=past)
    relative = Client()
    page = relative.get(link_of(order))
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert relative.post(link_of(order) + "pay/").status_code == 410
    payment = Payment.objects.get()
    assert relative.get(payment.checkout_url).status_code == 410
    relative.post(payment.checkout_url, {"action": "pay"})
    assert Payment.objects.count() == 1 and sandbox_deliver_webhooks() == {"delivered": 0, "failed": 0}


def test_expiry_job_cancels_releases_stock_and_expires_the_payment(order, cooker):
    assert orders_expire_unpaid(now=order.payment_due_at - timedelta(seconds=1)) == 0
    assert orders_expire_unpaid(now=order.payment_due_at) == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.commission_state == "reversed"
    assert Product.objects.get(pk=cooker.pk).stock == 10
    assert Payment.objects.get().status == PaymentStatus.EXPIRED
    last = order.events.order_by("-pk").first()
    assert (last.from_status, last.to_status, last.actor) == ("awaiting_payment", "cancelled", None)
    assert orders_expire_unpaid(now=order.payment_due_at + timedelta(days=1)) == 0
    assert Client().get(link_of(order)).status_code == 410
    assert not Transaction.objects.filter(kind="refund").exists()  # nothing was paid, nothing to give back


def test_expiry_leaves_paid_and_cash_orders_alone(scope, station, villager, order, cooker):
    cash = place(scope, station, villager, cooker, quantity=1)
    sandbox_pay(provider_ref=Payment.objects.get().provider_ref, approve=True)
    sandbox_deliver_webhooks()
    assert orders_expire_unpaid(now=timezone.now() + timedelta(days=30)) == 0
    order.refresh_from_db()
    cash.refresh_from_db()
    assert order.status == OrderStatus.PAID and cash.status == OrderStatus.PAID


def test_expiry_command(order):
    Order.objects.filter(pk=order.pk).update(payment_due_at=timezone.now() - timedelta(minutes=1))
    out = StringIO()
    call_command("orders_expire_unpaid", stdout=out)
    assert out.getvalue().strip() == "expired 1 unpaid orders"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_payments_deliver_command(order):
    sandbox_pay(provider_ref=Payment.objects.get().provider_ref, approve=True)
    out = StringIO()
    call_command("payments_deliver", "--once", stdout=out)
    assert '"delivered": 1' in out.getvalue()
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_pay_link_hours_come_from_settings(scope, station, villager, son, cooker, settings):
    settings.ORDERS_PAY_LINK_HOURS = 2
    order = place(scope, station, villager, cooker, payment_method="relative_pays", relative_id=son.pk)
    assert order.payment_due_at - order.placed_at == timedelta(hours=2)


def test_partner_chooses_a_relative_on_the_order_form(partner_client, station, villager, son, cooker):
    url = f"/stations/{station.code}/orders/new/"
    page = partner_client.get(url)
    assert page.status_code == 200 and "李明" in page.content.decode() and 'value="relative_pays"' in page.content.decode()
    response = partner_client.post(url, {
        "villager": villager.pk, "payment_method": "relative_pays", "relative": son.pk, "action": "place",
        "line_product": cooker.pk, "line_quantity": 1, "line_price": cooker.price_fen, "idempotency_key": "form-1"})
    assert response.status_code == 302, response.content.decode()[:3000]
    order = Order.objects.get()
    assert order.status == OrderStatus.AWAITING_PAYMENT and PayLink.objects.get(order=order).relative == son
    detail = partner_client.get(response["Location"]).content.decode()
    assert "李明" in detail and "Awaiting payment" in detail


def test_order_form_without_a_relative_shows_the_field_error(partner_client, station, villager, cooker):
    response = partner_client.post(f"/stations/{station.code}/orders/new/", {
        "villager": villager.pk, "payment_method": "relative_pays", "action": "place",
        "line_product": cooker.pk, "line_quantity": 1, "line_price": cooker.price_fen, "idempotency_key": "form-2"})
    assert response.status_code == 200 and "relatives pays" in response.content.decode()
    assert not Order.objects.exists()


def test_api_relative_pays(partner_client, villager, son, cooker):
    response = partner_client.post("/api/v1/orders", {
        "villager_id": villager.pk, "payment_method": "relative_pays", "relative_id": son.pk,
        "lines": [{"product_id": cooker.pk, "quantity": 1, "expected_unit_price_fen": cooker.price_fen}]},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="rel-1")
    assert response.status_code == 201, response.content
    assert response.json()["payment"]["pay_link_url"].endswith(f"/p/{PayLink.objects.get().token}/")
    response = partner_client.post("/api/v1/orders", {
        "villager_id": villager.pk, "payment_method": "relative_pays",
        "lines": [{"product_id": cooker.pk, "quantity": 1, "expected_unit_price_fen": cooker.price_fen}]},
        content_type="application/json", HTTP_IDEMPOTENCY_KEY="rel-2")
    assert response.status_code == 422 and "relative" in response.json()["error"]["fields"]


def test_pay_pages_render_in_chinese(order):
    from django.utils import translation

    with translation.override("zh-hans"):
        link_page = Client(headers={"accept-language": "zh-hans"}).get(link_of(order))
        checkout = Client(headers={"accept-language": "zh-hans"}).get(Payment.objects.get().checkout_url)
    assert link_page.status_code == 200 and checkout.status_code == 200
    assert "¥398.00" in link_page.content.decode() and "<svg" in checkout.content.decode()
