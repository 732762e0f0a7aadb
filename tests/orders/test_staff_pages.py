"""County staff move orders along: shipped, at the county warehouse, at the station; every move is an event."""

import pytest

from cuntao.network.models import StaffMembership
from cuntao.orders.models import Order, OrderEvent
from tests.conftest import login
from tests.orders.factories import place, rice_cooker, villager_at


@pytest.fixture
def villager(station):
    return villager_at(station)


@pytest.fixture
def orders(partner, station, villager, scope_of):
    """A cash-on-delivery order (ships unpaid), a paid one, and a cancelled one that must not show."""
    from cuntao.orders.services import order_cancel

    scope = scope_of(partner.user)
    cooker = rice_cooker()
    cod = place(scope, station, villager, cooker, payment_method="cash_on_delivery")
    paid = place(scope, station, villager, cooker)
    gone = place(scope, station, villager, cooker)
    order_cancel(scope=scope, order=gone, reason="不要了")
    return cod, paid, gone


def board(client, county_id, stage="to_ship"):
    return client.get(f"/county/{county_id}/orders/", {"stage": stage})


def test_board_lists_orders_to_ship_oldest_first_with_counts(clerk_client, station, orders):
    cod, paid, gone = orders
    text = board(clerk_client, station.county_id).content.decode()
    assert cod.number in text and paid.number in text and gone.number not in text
    assert text.index(cod.number) < text.index(paid.number)
    assert "Move ticked orders to: Shipped" in text


def test_staff_move_ticked_orders_stage_by_stage_and_each_move_is_an_event(clerk, clerk_client, station, orders):
    cod, paid, _gone = orders
    url = f"/county/{station.county_id}/orders/advance/"
    for stage, to_status in (("to_ship", "shipped"), ("shipped", "at_county_warehouse"),
                             ("at_county_warehouse", "at_station")):
        response = clerk_client.post(url, {"stage": stage, "to_status": to_status, "number": [cod.number, paid.number]})
        assert response.status_code == 302 and response["Location"].endswith(f"?stage={stage}")
        assert set(Order.objects.filter(pk__in=[cod.pk, paid.pk]).values_list("status", flat=True)) == {to_status}
    events = OrderEvent.objects.filter(order=cod).order_by("at", "pk")
    assert [e.to_status for e in events] == ["placed", "shipped", "at_county_warehouse", "at_station"]
    assert all(e.actor == clerk for e in events[1:])
    assert cod.number in board(clerk_client, station.county_id, "at_station").content.decode()


def test_a_wrong_move_is_refused_with_a_message_and_the_others_still_move(clerk_client, station, orders):
    cod, paid, _gone = orders
    clerk_client.post(f"/county/{station.county_id}/orders/advance/",
                      {"stage": "to_ship", "to_status": "shipped", "number": [cod.number]})
    response = clerk_client.post(f"/county/{station.county_id}/orders/advance/",
                                 {"stage": "shipped", "to_status": "at_county_warehouse",
                                  "number": [paid.number, cod.number]}, follow=True)
    text = response.content.decode()
    assert "cannot move to" in text and "1 order moved." in text
    assert Order.objects.get(pk=paid.pk).status == "paid"
    assert Order.objects.get(pk=cod.pk).status == "at_county_warehouse"


def test_order_page_offers_staff_the_next_step_and_shows_the_history(clerk_client, station, orders):
    cod, _paid, _gone = orders
    text = clerk_client.get(f"/orders/{cod.number}/").content.decode()
    # Shipping asks for the carrier's tracking number, which registers the parcel.
    assert "Shipped: announce the parcel" in text and 'name="tracking_number"' in text and "History" in text
    response = clerk_client.post(f"/orders/{cod.number}/ship/", {"carrier": "ZTO", "tracking_number": "ZT7"},
                                 follow=True)
    text = response.content.decode()
    assert "Placed → Shipped" in text and "clerk" in text and "Move to: At the county warehouse" in text


def test_partners_get_no_board_and_no_move_button(partner_client, station, orders):
    cod, _paid, _gone = orders
    assert board(partner_client, station.county_id).status_code == 403
    assert partner_client.post(f"/county/{station.county_id}/orders/advance/",
                               {"to_status": "shipped", "number": [cod.number]}).status_code == 403
    assert "Move to:" not in partner_client.get(f"/orders/{cod.number}/").content.decode()
    partner_client.post(f"/orders/{cod.number}/advance/", {"to_status": "shipped"})
    assert Order.objects.get(pk=cod.pk).status == "placed"


def test_staff_of_another_county_see_nothing_of_this_one(far_station, station, orders):
    far_clerk = login(StaffMembership.objects.get(county=far_station.county).user)
    cod, _paid, _gone = orders
    assert board(far_clerk, station.county_id).status_code == 404
    response = far_clerk.post(f"/county/{far_station.county_id}/orders/advance/",
                              {"stage": "to_ship", "to_status": "shipped", "number": [cod.number]})
    assert response.status_code == 302 and Order.objects.get(pk=cod.pk).status == "placed"


def test_board_reads_a_fixed_number_of_queries_however_many_orders(partner, clerk_client, station, scope_of,
                                                                  django_assert_max_num_queries):
    scope, cooker = scope_of(partner.user), rice_cooker(stock=100)
    for i in range(8):
        place(scope, station, villager_at(station, name=f"村民{i}"), cooker, payment_method="cash_on_delivery")
    with django_assert_max_num_queries(8):
        assert board(clerk_client, station.county_id).status_code == 200
