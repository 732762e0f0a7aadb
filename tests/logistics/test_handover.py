"""Hand-over at the station: pickup code with attempt limits, identity check, races."""

import pytest
from django.core.exceptions import ValidationError

from cuntao.core.errors import Conflict, NotFound
from cuntao.logistics.models import (
    MAX_PICKUP_ATTEMPTS,
    HandoverMethod,
    ParcelStatus,
    PickupAttempt,
    ScanKind,
)
from cuntao.logistics.services import (
    MAX_WRONG_CODES_PER_STATION_HOUR,
    TooManyAttempts,
    handover_with_code,
    handover_with_identity,
    station_receive_scan,
    warehouse_scan,
)
from tests.logistics.factories import PICKUP_CODE, ParcelFactory, run_in_threads

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_code(monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: PICKUP_CODE)
    return PICKUP_CODE


def parcel_on_shelf(station, clerk, partner, scope_of):
    parcel = ParcelFactory(station=station)
    warehouse_scan(scope=scope_of(clerk), code_or_tracking_number=parcel.code)
    station_receive_scan(scope=scope_of(partner.user), station=station, code_or_tracking_number=parcel.code,
                         shelf_position="A1")
    parcel.refresh_from_db()
    return parcel


@pytest.fixture
def on_shelf(station, clerk, partner, scope_of, known_code):
    return parcel_on_shelf(station, clerk, partner, scope_of)


def test_right_code_hands_the_parcel_over(on_shelf, partner, scope_of):
    outcome = handover_with_code(scope=scope_of(partner.user), parcel=on_shelf, code=PICKUP_CODE)
    on_shelf.refresh_from_db()
    assert outcome.ok
    assert on_shelf.status == ParcelStatus.HANDED_OVER and on_shelf.handover_method == HandoverMethod.CODE
    assert on_shelf.handed_over_by == partner.user and on_shelf.handed_over_at is not None
    event = on_shelf.events.get(kind=ScanKind.HANDED_OVER)
    assert (event.from_status, event.to_status, event.actor) == ("at_station", "handed_over", partner.user)


def test_wrong_code_is_counted_and_hands_nothing_over(on_shelf, partner, scope_of):
    outcome = handover_with_code(scope=scope_of(partner.user), parcel=on_shelf, code="000000")
    on_shelf.refresh_from_db()
    assert not outcome.ok and outcome.attempts_left == MAX_PICKUP_ATTEMPTS - 1
    assert on_shelf.status == ParcelStatus.AT_STATION and on_shelf.pickup_attempts == 1
    assert PickupAttempt.objects.filter(parcel=on_shelf, succeeded=False).count() == 1


def test_fifth_wrong_code_locks_the_parcel_even_against_the_right_code(on_shelf, partner, scope_of):
    scope = scope_of(partner.user)
    for _ in range(MAX_PICKUP_ATTEMPTS):
        last = handover_with_code(scope=scope, parcel=on_shelf, code="000000")
    assert last.attempts_left == 0
    with pytest.raises(TooManyAttempts) as caught:
        handover_with_code(scope=scope, parcel=on_shelf, code=PICKUP_CODE)
    assert caught.value.code == "parcel_locked"
    on_shelf.refresh_from_db()
    assert on_shelf.status == ParcelStatus.AT_STATION and on_shelf.pickup_locked_at is not None
    assert on_shelf.events.filter(kind=ScanKind.PICKUP_LOCKED).count() == 1


def test_identity_check_hands_over_a_locked_parcel_and_records_who_and_how(on_shelf, partner, scope_of):
    scope = scope_of(partner.user)
    for _ in range(MAX_PICKUP_ATTEMPTS):
        handover_with_code(scope=scope, parcel=on_shelf, code="999999")
    parcel = handover_with_identity(scope=scope, parcel=on_shelf, receiver_name="王秀英", how_checked="ID card")
    assert parcel.status == ParcelStatus.HANDED_OVER and parcel.handover_method == HandoverMethod.IDENTITY
    assert parcel.handover_note == "王秀英 / ID card"


def test_identity_hand_over_needs_who_and_how(on_shelf, partner, scope_of):
    with pytest.raises(ValidationError) as caught:
        handover_with_identity(scope=scope_of(partner.user), parcel=on_shelf, receiver_name="", how_checked=" ")
    assert set(caught.value.message_dict) == {"receiver_name", "how_checked"}


def test_wrong_codes_across_parcels_lock_the_whole_station_for_an_hour(station, clerk, partner, scope_of, known_code):
    scope = scope_of(partner.user)
    parcels = [parcel_on_shelf(station, clerk, partner, scope_of)
               for _ in range(MAX_WRONG_CODES_PER_STATION_HOUR // MAX_PICKUP_ATTEMPTS + 1)]
    for parcel in parcels[:-1]:
        for _ in range(MAX_PICKUP_ATTEMPTS):
            handover_with_code(scope=scope, parcel=parcel, code="000000")
    with pytest.raises(TooManyAttempts) as caught:
        handover_with_code(scope=scope, parcel=parcels[-1], code=PICKUP_CODE)
    assert caught.value.code == "station_locked"
    parcels[-1].refresh_from_db()
    assert parcels[-1].status == ParcelStatus.AT_STATION


def test_station_limit_counts_only_the_last_hour(station, clerk, partner, scope_of, known_code):
    from datetime import timedelta

    scope = scope_of(partner.user)
    parcels = [parcel_on_shelf(station, clerk, partner, scope_of)
               for _ in range(MAX_WRONG_CODES_PER_STATION_HOUR // MAX_PICKUP_ATTEMPTS + 1)]
    for parcel in parcels[:-1]:
        for _ in range(MAX_PICKUP_ATTEMPTS):
            handover_with_code(scope=scope, parcel=parcel, code="000000")
    attempts = PickupAttempt.objects.filter(station=station)
    for attempt in attempts:
        attempt.at -= timedelta(hours=2)
        attempt.save(update_fields=["at"])
    assert handover_with_code(scope=scope, parcel=parcels[-1], code=PICKUP_CODE).ok


def test_second_hand_over_is_a_conflict(on_shelf, partner, scope_of):
    scope = scope_of(partner.user)
    handover_with_code(scope=scope, parcel=on_shelf, code=PICKUP_CODE)
    with pytest.raises(Conflict) as caught:
        handover_with_identity(scope=scope, parcel=on_shelf, receiver_name="x", how_checked="y")
    assert caught.value.code == "already_handed_over"


def test_parcel_not_yet_at_the_station_cannot_be_handed_over(station, partner, scope_of):
    parcel = ParcelFactory(station=station)
    with pytest.raises(Conflict):
        handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE)


def test_partner_cannot_hand_over_another_stations_parcel(other_station, clerk, scope_of, known_code, partner):
    from cuntao.network.models import Partner

    other_partner = Partner.objects.get(station=other_station)
    parcel = parcel_on_shelf(other_station, clerk, other_partner, scope_of)
    with pytest.raises(NotFound):
        handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE)
    with pytest.raises(NotFound):
        handover_with_identity(scope=scope_of(partner.user), parcel=parcel, receiver_name="x", how_checked="y")
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.AT_STATION


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_hand_overs_exactly_one_succeeds(station, clerk, partner, scope_of, known_code):
    parcel = parcel_on_shelf(station, clerk, partner, scope_of)

    def hand_over():
        try:
            return handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE).ok
        except Conflict as e:
            return e.code

    results, errors = run_in_threads(hand_over, [(), ()])
    assert not errors
    assert sorted(map(str, results)) == ["True", "already_handed_over"]
    parcel.refresh_from_db()
    assert parcel.events.filter(kind=ScanKind.HANDED_OVER).count() == 1
