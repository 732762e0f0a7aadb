"""Checkout holds boxes from stock, never more than exist; payment sells them; holds expire."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.utils import timezone

from cuntao.core.errors import Conflict, Forbidden
from cuntao.ledger.models import Transaction
from cuntao.orders.models import Payment
from cuntao.produce.models import BoxEvent, PackedBox
from cuntao.shop import services
from cuntao.shop.models import ShopOrder
from cuntao.shop.selectors import public_listing
from tests.shop.factories import buyer, checkout, delivery, pay, scope_of_buyer


def statuses(shop):
    return sorted(PackedBox.objects.filter(pk__in=[b.pk for b in shop.boxes]).values_list("status", flat=True))


def test_checkout_holds_the_oldest_boxes_and_stock_drops(shop, chen):
    order = checkout(chen, shop.listing, quantity=3)
    assert order.status == "awaiting_payment" and order.goods_total_fen == 3 * 12800
    held = list(PackedBox.objects.filter(order_ref=order.number).order_by("pk").values_list("pk", flat=True))
    assert held == [b.pk for b in shop.boxes[:3]]
    assert set(PackedBox.objects.filter(pk__in=held).values_list("status", flat=True)) == {"reserved"}
    assert public_listing(listing_id=shop.listing.pk).stock == 7
    assert BoxEvent.objects.filter(order_ref=order.number, to_status="reserved").count() == 3
    assert order.reserved_until - order.placed_at == timedelta(minutes=services.RESERVATION_MINUTES)


def test_more_boxes_than_in_stock_is_409_and_changes_nothing(shop, chen):
    with pytest.raises(Conflict) as e:
        checkout(chen, shop.listing, quantity=11)
    assert e.value.code == "out_of_stock" and "lines.0.quantity" in e.value.fields
    assert "Only 10 left" in e.value.fields["lines.0.quantity"][0]
    assert not ShopOrder.objects.exists()
    assert statuses(shop) == ["in_stock"] * 10


def test_a_second_line_short_of_stock_releases_the_first_lines_boxes(shop, chen):
    from tests.produce.factories import pack

    b_lot = shop.lot_a.grading.graded_lots.get(grade__code="B")
    pack(shop, b_lot, boxes=2, pack_size=shop.pack_b)
    family = services.listing_publish(scope=shop.scope, pack_size=shop.pack_b)
    with pytest.raises(Conflict):
        services.shop_checkout(scope=scope_of_buyer(chen), lines=[(shop.listing.pk, 4), (family.pk, 3)],
                               delivery=delivery())
    assert statuses(shop) == ["in_stock"] * 10 and not ShopOrder.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**12, "3", 2.5, None])
def test_bad_quantity_is_a_field_error_and_changes_nothing(shop, chen, quantity):
    with pytest.raises(ValidationError) as e:
        checkout(chen, shop.listing, quantity=quantity)
    assert "lines.0.quantity" in e.value.message_dict
    assert not ShopOrder.objects.exists() and statuses(shop) == ["in_stock"] * 10


def test_a_product_not_on_sale_is_a_field_error(shop, chen):
    with pytest.raises(ValidationError) as e:
        services.shop_checkout(scope=scope_of_buyer(chen), lines=[(999999, 1)],
                               delivery=services.clean_delivery(recipient_name="陈", recipient_phone="13900001111",
                                                                address="上海市浦东新区世纪大道100号"))
    assert "lines.0.product_id" in e.value.message_dict


@pytest.mark.parametrize("field, value", [("recipient_phone", "12345"), ("recipient_name", " "), ("address", "上海")])
def test_bad_delivery_details_are_field_errors(field, value):
    values = {"recipient_name": "陈小姐", "recipient_phone": "13900001111", "address": "上海市浦东新区世纪大道100号", field: value}
    with pytest.raises(ValidationError) as e:
        services.clean_delivery(**values)
    assert field in e.value.message_dict


def test_boxes_of_two_cooperatives_are_two_orders(shop, chen, other_station):
    from tests.shop.factories import kiwi_shop

    other = kiwi_shop(station=other_station, boxes=2, slug="kiwi2")
    with pytest.raises(ValidationError) as e:
        services.shop_checkout(scope=scope_of_buyer(chen), lines=[(shop.listing.pk, 1), (other.listing.pk, 1)],
                               delivery=delivery())
    assert "lines" in e.value.message_dict


def test_the_same_idempotency_key_returns_the_first_order(shop, chen):
    first = checkout(chen, shop.listing, quantity=2, idempotency_key="k-1")
    again = checkout(chen, shop.listing, quantity=2, idempotency_key="k-1")
    assert again.pk == first.pk and ShopOrder.objects.count() == 1
    assert PackedBox.objects.filter(status="reserved").count() == 2


def test_a_partner_is_not_a_buyer(shop, partner, scope_of):
    with pytest.raises(Forbidden):
        services.shop_checkout(scope=scope_of(partner.user), lines=[(shop.listing.pk, 1)], delivery=delivery())


def test_paying_sells_the_boxes_and_posts_the_payment(shop, chen):
    order = pay(checkout(chen, shop.listing, quantity=2))
    assert order.status == "paid" and order.paid_at is not None
    assert sorted(PackedBox.objects.filter(order_ref=order.number).values_list("status", flat=True)) == ["sold"] * 2
    payment = Payment.objects.get(purpose="shop_order", reference=order.number)
    assert payment.status == "succeeded"
    posting = Transaction.objects.get(kind="payment", reference_id=str(order.pk))
    amounts = sorted(posting.entries.values_list("account__kind", "amount_fen"))
    assert amounts == [("online_clearing", 25600), ("sales", -25600)]
    assert [e.to_status for e in order.events.order_by("at", "pk")] == ["awaiting_payment", "paid"]


def test_a_declined_payment_keeps_the_hold_and_a_second_try_pays(shop, chen):
    order = pay(checkout(chen, shop.listing), approve=False)
    assert order.status == "awaiting_payment"
    assert PackedBox.objects.filter(order_ref=order.number, status="reserved").count() == 1
    order = pay(order)
    assert order.status == "paid"


def test_an_unpaid_hold_expires_and_the_boxes_go_back_to_stock(shop, chen):
    order = checkout(chen, shop.listing, quantity=4)
    services.shop_order_pay(scope=scope_of_buyer(chen), order=order, return_url="/x")
    assert services.shop_reservations_expire(now=order.reserved_until - timedelta(seconds=1)) == 0
    assert services.shop_reservations_expire(now=order.reserved_until) == 1
    order.refresh_from_db()
    assert order.status == "expired" and order.closed_at is not None
    assert statuses(shop) == ["in_stock"] * 10
    assert Payment.objects.get(reference=order.number).status == "expired"
    assert services.shop_reservations_expire(now=order.reserved_until + timedelta(hours=1)) == 0


def test_paying_an_expired_hold_is_refused_before_the_provider(shop, chen):
    order = checkout(chen, shop.listing)
    ShopOrder.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - timedelta(minutes=1))
    with pytest.raises(Conflict) as e:
        services.shop_order_pay(scope=scope_of_buyer(chen), order=order, return_url="/x")
    assert e.value.code == "reservation_expired" and not Payment.objects.exists()


def test_money_arriving_after_expiry_takes_the_boxes_back_if_still_there(shop, chen):
    from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay

    order = checkout(chen, shop.listing, quantity=2)
    checkout_ = services.shop_order_pay(scope=scope_of_buyer(chen), order=order, return_url="/x")
    sandbox_pay(provider_ref=checkout_.pay_url.rstrip("/").rsplit("/", 1)[-1], approve=True)
    services.shop_reservations_expire(now=order.reserved_until)  # the hold ran out before the webhook came
    sandbox_deliver_webhooks()
    order.refresh_from_db()
    assert order.status == "paid"
    assert PackedBox.objects.filter(order_ref=order.number, status="sold").count() == 2


def test_money_arriving_after_the_boxes_are_gone_is_refunded(shop, chen):
    from cuntao.orders.payments import sandbox_deliver_webhooks, sandbox_pay

    order = checkout(chen, shop.listing, quantity=10)
    checkout_ = services.shop_order_pay(scope=scope_of_buyer(chen), order=order, return_url="/x")
    sandbox_pay(provider_ref=checkout_.pay_url.rstrip("/").rsplit("/", 1)[-1], approve=True)
    services.shop_reservations_expire(now=order.reserved_until)
    rival = checkout(buyer(name="李先生"), shop.listing, quantity=10)
    with TestCase.captureOnCommitCallbacks(execute=True):
        sandbox_deliver_webhooks()
    order.refresh_from_db()
    assert order.status == "expired"
    payment = Payment.objects.get(reference=order.number)
    assert payment.status == "refunded" and payment.refunded_fen == order.goods_total_fen
    assert PackedBox.objects.filter(order_ref=rival.number).count() == 10
    assert Transaction.objects.filter(kind="refund", reference_id=str(order.pk)).count() == 1


def test_the_buyer_may_cancel_an_unpaid_order_and_its_checkout_closes(shop, chen):
    order = checkout(chen, shop.listing, quantity=3)
    services.shop_order_pay(scope=scope_of_buyer(chen), order=order, return_url="/x")
    services.shop_order_cancel(scope=scope_of_buyer(chen), order=order, reason="changed my mind")
    order.refresh_from_db()
    assert order.status == "cancelled" and statuses(shop) == ["in_stock"] * 10
    assert Payment.objects.get(reference=order.number).status == "expired"


def test_another_buyer_cannot_touch_the_order(shop, chen):
    from cuntao.core.errors import NotFound
    from cuntao.shop.selectors import buyer_order_get

    order = checkout(chen, shop.listing)
    other = buyer(name="李先生")
    with pytest.raises(NotFound):
        buyer_order_get(scope=scope_of_buyer(other), number=order.number)
    with pytest.raises(NotFound):
        services.shop_order_cancel(scope=scope_of_buyer(other), order=order, reason="x")


def test_the_expiry_command_releases_overdue_holds(shop, chen):
    from django.core.management import call_command

    order = checkout(chen, shop.listing, quantity=2)
    ShopOrder.objects.filter(pk=order.pk).update(reserved_until=timezone.now() - timedelta(seconds=1))
    out = io.StringIO()
    call_command("shop_expire_reservations", stdout=out)
    assert "expired 1" in out.getvalue()
    assert statuses(shop) == ["in_stock"] * 10
