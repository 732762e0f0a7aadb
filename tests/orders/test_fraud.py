"""Fraud signals for county review: computed from the orders, shown with their evidence, reviewed, never punishing."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cuntao.core.errors import Conflict, Forbidden, NotFound
from cuntao.orders.fraud import county_flags
from cuntao.orders.models import FlagReview, Order
from cuntao.orders.services import flag_review, order_advance, order_cancel, order_hand_over, order_return
from tests.factories import HouseholdFactory
from tests.orders.factories import place, rice_cooker, villager_at


@pytest.fixture
def cooker(db):
    return rice_cooker(stock=100)


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


@pytest.fixture
def staff(clerk, scope_of):
    return scope_of(clerk)


def kinds(flags):
    return sorted(f.kind for f in flags)


def flags_of(staff, station):
    return county_flags(scope=staff, county_id=station.county_id)


def test_three_orders_for_one_villager_within_a_day_are_a_burst(scope, staff, station, cooker):
    villager = villager_at(station, name="钱多多")
    orders = [place(scope, station, villager, cooker) for _ in range(3)]
    (flag,) = flags_of(staff, station)
    assert flag.kind == "burst" and "3 orders for 钱多多" in flag.summary
    assert {o.pk for o in flag.orders} == {o.pk for o in orders}


def test_orders_spread_over_days_are_not_a_burst(scope, staff, station, cooker):
    villager = villager_at(station)
    for days in (0, 2, 4):
        order = place(scope, station, villager, cooker)
        Order.objects.filter(pk=order.pk).update(placed_at=timezone.now() - timedelta(days=days))
    assert flags_of(staff, station) == []


def test_many_cancellations_after_the_commission_are_flagged_per_station(scope, staff, station, cooker):
    for i in range(3):
        order = place(scope, station, villager_at(station, name=f"村民{i}"), cooker)
        order_cancel(scope=scope, order=order, reason="不要了")
    place(scope, station, villager_at(station, name="村民9"), cooker)
    (flag,) = flags_of(staff, station)
    assert flag.kind == "cancelled_after_commission" and "3 of 4" in flag.summary and "75%" in flag.summary
    assert all(o.status == "cancelled" for o in flag.orders)


def test_orders_that_expired_unpaid_are_not_cancellations_by_the_partner(scope, staff, station, cooker):
    from cuntao.orders.services import orders_expire_unpaid

    for i in range(3):
        place(scope, station, villager_at(station, name=f"村民{i}"), cooker, payment_method="online")
    orders_expire_unpaid(now=timezone.now() + timedelta(days=1))
    assert Order.objects.filter(status="cancelled").count() == 3
    assert flags_of(staff, station) == []


def test_orders_for_the_partners_own_household_are_flagged(partner, scope, staff, station, cooker):
    home = HouseholdFactory(station=station, name="李家")
    villager_at(station, name="李秀兰", phone=partner.phone, household=home)  # the partner's own villager record
    wife = villager_at(station, name="李大嫂", household=home)
    neighbour = villager_at(station, name="隔壁老王")
    mine = place(scope, station, wife, cooker)
    place(scope, station, neighbour, cooker)
    (flag,) = flags_of(staff, station)
    assert flag.kind == "own_household" and [o.pk for o in flag.orders] == [mine.pk]


def test_partner_matched_by_id_number_when_the_phone_differs(partner, scope, staff, station, cooker):
    partner.national_id = "11010519491231002X"
    partner.save(update_fields=["national_id"])
    me = villager_at(station, name="李秀兰", national_id="11010519491231002X")
    place(scope, station, me, cooker)
    assert kinds(flags_of(staff, station)) == ["own_household"]


def deliver(scope, staff, station, villager, cooker):
    order = place(scope, station, villager, cooker)
    for status in ("shipped", "at_county_warehouse", "at_station"):
        order = order_advance(scope=staff, order=order, to_status=status)
    return order_hand_over(scope=scope, order=order)


def test_a_station_returning_far_more_than_the_rest_of_the_county_is_flagged(scope, staff, station, other_station,
                                                                           cooker, scope_of):
    next_door = scope_of(other_station.partners.get().user)
    for i in range(4):
        order = deliver(scope, staff, station, villager_at(station, name=f"甲{i}"), cooker)
        if i < 3:
            order_return(scope=scope, order=order, reason="坏了")
    for i in range(10):
        order = deliver(next_door, staff, other_station, villager_at(other_station, name=f"乙{i}"), cooker)
        if i == 0:
            order_return(scope=next_door, order=order, reason="坏了")
    (flag,) = flags_of(staff, station)
    assert flag.kind == "returns_above_norm" and flag.station == station
    assert "3 of 4" in flag.summary and "10%" in flag.summary and len(flag.orders) == 3


def test_review_marks_the_flag_and_new_evidence_raises_it_again(clerk, scope, staff, station, cooker):
    villager = villager_at(station)
    for _ in range(3):
        place(scope, station, villager, cooker)
    (flag,) = flags_of(staff, station)
    review = flag_review(scope=staff, county_id=station.county_id, flag_key=flag.key, outcome="no_issue",
                         note="婚礼要用，已电话核实")
    assert review.reviewed_by == clerk and review.kind == "burst"
    (again,) = flags_of(staff, station)
    assert again.review == review
    with pytest.raises(Conflict):
        flag_review(scope=staff, county_id=station.county_id, flag_key=flag.key, outcome="follow_up", note="再看")
    assert Order.objects.count() == 3  # a review changes no order


def test_review_needs_staff_a_real_flag_an_outcome_and_a_note(scope, staff, station, cooker):
    villager = villager_at(station)
    for _ in range(3):
        place(scope, station, villager, cooker)
    (flag,) = flags_of(staff, station)
    with pytest.raises(Forbidden):
        flag_review(scope=scope, county_id=station.county_id, flag_key=flag.key, outcome="no_issue", note="ok")
    with pytest.raises(NotFound):
        flag_review(scope=staff, county_id=station.county_id, flag_key="burst:1:999999", outcome="no_issue", note="x")
    with pytest.raises(ValidationError) as refused:
        flag_review(scope=staff, county_id=station.county_id, flag_key=flag.key, outcome="punish", note="")
    assert set(refused.value.message_dict) == {"outcome", "note"}
    assert not FlagReview.objects.exists()


def test_partners_and_other_counties_see_no_flags(scope, station, far_station, scope_of, cooker):
    from cuntao.network.models import StaffMembership

    with pytest.raises(Forbidden):
        county_flags(scope=scope, county_id=station.county_id)
    far_staff = scope_of(StaffMembership.objects.get(county=far_station.county).user)
    with pytest.raises(NotFound):
        county_flags(scope=far_staff, county_id=station.county_id)


def test_review_page_shows_evidence_and_takes_a_review(clerk_client, partner_client, scope, staff, station, cooker):
    villager = villager_at(station, name="钱多多")
    orders = [place(scope, station, villager, cooker) for _ in range(3)]
    url = f"/county/{station.county_id}/fraud-flags/"
    text = clerk_client.get(url).content.decode()
    assert "Burst of orders for one villager" in text and all(o.number in text for o in orders)
    assert "1 flag to review." in text
    (flag,) = county_flags(scope=staff, county_id=station.county_id)
    empty = clerk_client.post(url + "review/", {"flag_key": flag.key, "outcome": "follow_up", "note": ""})
    assert empty.status_code == 400 and not FlagReview.objects.exists()
    done = clerk_client.post(url + "review/", {"flag_key": flag.key, "outcome": "follow_up", "note": "下周去站点看看"},
                             follow=True)
    text = done.content.decode()
    assert "Review saved." in text and "下周去站点看看" in text and "0 flags to review." in text
    assert partner_client.get(url).status_code == 403


def test_api_lists_flags_and_records_a_review(clerk_client, partner_client, scope, station, cooker):
    villager = villager_at(station)
    for _ in range(3):
        place(scope, station, villager, cooker)
    url = f"/api/v1/counties/{station.county_id}/fraud-flags"
    listed = clerk_client.get(url)
    assert listed.status_code == 200
    (flag,) = listed.json()
    assert flag["kind"] == "burst" and len(flag["orders"]) == 3 and flag["review"] is None
    reviewed = clerk_client.post(url + "/reviews", {"flag_key": flag["key"], "outcome": "no_issue", "note": "核实过"},
                                 content_type="application/json", HTTP_IDEMPOTENCY_KEY="rev-1")
    assert reviewed.status_code == 201 and reviewed.json()["review"]["outcome"] == "no_issue"
    assert partner_client.get(url).status_code == 403



def test_flags_page_reads_a_fixed_number_of_queries_however_many_flags(clerk_client, scope, station, cooker,
                                                                      django_assert_max_num_queries):
    for i in range(6):
        villager = villager_at(station, name=f"村民{i}")
        for _ in range(3):
            place(scope, station, villager, cooker)
    with django_assert_max_num_queries(14):
        assert clerk_client.get(f"/county/{station.county_id}/fraud-flags/").status_code == 200
