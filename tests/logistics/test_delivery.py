"""Home delivery runs: stops ordered by PyVRP from the station, proof of delivery or the reason it failed."""

import math
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cuntao.core.errors import Conflict, NotFound
from cuntao.logistics.delivery import (
    delivery_candidates,
    delivery_run_close,
    delivery_run_create,
    delivery_stop_deliver,
    delivery_stop_fail,
    delivery_stops,
    proof_event,
)
from cuntao.logistics.models import (
    HandoverMethod,
    ParcelStatus,
    ScanKind,
    StopOutcome,
)
from cuntao.logistics.services import home_location_set
from cuntao.logistics.signals import parcel_changed
from tests.catalog.factories import tiny_image
from tests.logistics.factories import PICKUP_CODE, ParcelFactory, run_in_threads

pytestmark = pytest.mark.django_db

KM_EAST = 1 / (111.32 * math.cos(math.radians(31.75)))  # degrees of longitude per km at the test village
KM_NORTH = 1 / 111.32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def on_shelf(station, **kwargs):
    """A parcel waiting at the station whose pickup code is PICKUP_CODE."""
    from cuntao.logistics.services import pickup_code_digest

    parcel = ParcelFactory(station=station, status=ParcelStatus.AT_STATION, arrived_at_station_at=timezone.now(),
                           **kwargs)
    parcel.pickup_code_digest = pickup_code_digest(parcel.pk, PICKUP_CODE)
    parcel.save(update_fields=["pickup_code_digest"])
    return parcel


def at_home(station, scope, east_km: float, north_km: float, **kwargs):
    """A waiting parcel whose villager lives this far east and north of the station's village."""
    parcel = on_shelf(station, **kwargs)
    village = station.village
    home_location_set(scope=scope, villager=parcel.villager,
                      lat=Decimal(str(village.lat)) + Decimal(str(round(north_km * KM_NORTH, 6))),
                      lon=Decimal(str(village.lon)) + Decimal(str(round(east_km * KM_EAST, 6))))
    return parcel


@pytest.fixture
def scope(partner, scope_of):
    return scope_of(partner.user)


def test_stops_are_ordered_round_the_homes_from_the_station(station, scope):
    # Homes at the corners of a 2 km square whose fourth corner is the station: the one
    # shortest tour goes round the square, one way or the other.
    corners = {"east": (2, 0), "north-east": (2, 2), "north": (0, 2), "centre": (1, 1.0)}
    parcels = {name: at_home(station, scope, *where) for name, where in corners.items()}
    shuffled = [parcels[name].code for name in ("north-east", "centre", "north", "east")]
    run = delivery_run_create(scope=scope, station=station, parcel_codes=shuffled)
    order = [s.parcel_id for s in delivery_stops(run=run)]
    around = [parcels[name].pk for name in ("east", "north-east", "north")]
    without_centre = [pk for pk in order if pk != parcels["centre"].pk]
    assert without_centre in (around, around[::-1])
    winding = float(station.county.road_winding_factor)
    assert run.distance_m <= (8000 + 2 * (math.hypot(1, 1) * 1000 - 1000)) * winding * 1.01
    assert all(s.at_home for s in delivery_stops(run=run))
    for stop in delivery_stops(run=run):
        event = stop.parcel.events.get(kind=ScanKind.OUT_FOR_DELIVERY)
        assert (event.from_status, event.to_status) == ("at_station", "at_station")


def test_a_villager_without_a_home_location_is_planned_at_the_village(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    stop = run.stops.get()
    assert not stop.at_home
    assert (float(stop.lat), float(stop.lon)) == (float(station.village.lat), float(station.village.lon))


def test_a_parcel_out_on_a_run_is_not_offered_for_another(station, scope):
    parcel = on_shelf(station)
    delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    assert parcel not in delivery_candidates(scope=scope, station_id=station.pk)
    with pytest.raises(ValidationError) as caught:
        delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    assert "already out on a run" in str(caught.value)


def test_bad_choices_are_refused_and_write_nothing(station, other_station, scope):
    from cuntao.logistics.models import DeliveryRun

    theirs = on_shelf(other_station)
    not_here_yet = ParcelFactory(station=station)
    for codes in ([], ["CTNOSUCH1"], [theirs.code], [not_here_yet.code]):
        with pytest.raises(ValidationError):
            delivery_run_create(scope=scope, station=station, parcel_codes=codes)
    with pytest.raises(NotFound):
        delivery_run_create(scope=scope, station=other_station, parcel_codes=[theirs.code])
    assert not DeliveryRun.objects.exists()


def test_delivery_with_the_code_hands_over_and_announces_once(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    heard = []
    receiver = lambda sender, **kw: heard.append(kw["kind"])  # noqa: E731
    parcel_changed.connect(receiver)
    try:
        outcome = delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="code", code=PICKUP_CODE)
    finally:
        parcel_changed.disconnect(receiver)
    assert outcome.ok and heard == ["handed_over"]
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.HANDED_OVER and parcel.handover_method == HandoverMethod.CODE
    assert run.stops.get().outcome == StopOutcome.DELIVERED


def test_a_wrong_code_at_the_door_is_counted_and_the_stop_stays_open(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    outcome = delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="code", code="000000")
    assert not outcome.ok and outcome.attempts_left == 4
    parcel.refresh_from_db()
    assert parcel.pickup_attempts == 1 and run.stops.get().outcome == StopOutcome.PENDING


def test_a_signature_is_stored_with_the_hand_over_event(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="signature",
                          proof=tiny_image("PNG", name="sig.png"), receiver_name="王秀英")
    parcel.refresh_from_db()
    assert parcel.handover_method == HandoverMethod.SIGNATURE and parcel.handover_note == "王秀英"
    event = proof_event(parcel=parcel)
    assert event.kind == ScanKind.HANDED_OVER and event.proof.name.endswith(".png")
    with event.proof.open("rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_photo_is_re_encoded_small(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="photo",
                          proof=tiny_image("JPEG", size=(3000, 2000), name="door.jpg"))
    from PIL import Image

    with proof_event(parcel=parcel).proof.open("rb") as f, Image.open(f) as image:
        assert max(image.size) == 1280 and image.format == "JPEG"


def test_a_file_that_is_not_a_picture_is_refused_and_nothing_changes(station, scope):
    from django.core.files.uploadedfile import SimpleUploadedFile

    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    with pytest.raises(ValidationError) as caught:
        delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="photo",
                              proof=SimpleUploadedFile("x.jpg", b"not a picture"))
    assert "proof" in caught.value.message_dict
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.AT_STATION and run.stops.get().outcome == StopOutcome.PENDING


def test_a_failed_stop_says_why_and_the_parcel_is_back_on_the_shelf(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    stop = delivery_stop_fail(scope=scope, stop=run.stops.get(), reason="not_home", note="neighbour says Hefei")
    assert (stop.outcome, stop.failure_reason) == (StopOutcome.FAILED, "not_home")
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.AT_STATION
    assert parcel.events.get(kind=ScanKind.DELIVERY_FAILED).note == "not_home: neighbour says Hefei"
    assert parcel in delivery_candidates(scope=scope, station_id=station.pk)
    with pytest.raises(Conflict):
        delivery_stop_deliver(scope=scope, stop=stop, method="code", code=PICKUP_CODE)


def test_a_refused_parcel_goes_on_the_return_list(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    delivery_stop_fail(scope=scope, stop=run.stops.get(), reason="refused")
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.RETURN_DUE


def test_a_failure_needs_a_known_reason(station, scope):
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    for reason in ("", "lost it", "not_attempted"):
        with pytest.raises(ValidationError):
            delivery_stop_fail(scope=scope, stop=run.stops.get(), reason=reason)


def test_closing_the_run_frees_the_stops_left(station, scope):
    first, second = on_shelf(station), on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[first.code, second.code])
    delivery_stop_deliver(scope=scope, stop=run.stops.get(parcel=first), method="code", code=PICKUP_CODE)
    run = delivery_run_close(scope=scope, run=run)
    assert run.status == "closed" and run.closed_at is not None
    left = run.stops.get(parcel=second)
    assert (left.outcome, left.failure_reason) == (StopOutcome.FAILED, "not_attempted")
    assert second in delivery_candidates(scope=scope, station_id=station.pk)
    assert delivery_run_close(scope=scope, run=run).status == "closed"


def test_a_parcel_collected_at_the_station_meanwhile_cannot_be_delivered(station, scope):
    from cuntao.logistics.services import handover_with_code

    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    assert handover_with_code(scope=scope, parcel=parcel, code=PICKUP_CODE).ok
    with pytest.raises(Conflict) as caught:
        delivery_stop_deliver(scope=scope, stop=run.stops.get(), method="signature", proof=tiny_image())
    assert caught.value.code == "already_handed_over"


def test_another_partner_cannot_touch_the_run(station, other_station, scope, scope_of):
    from cuntao.network.models import Partner

    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    other = scope_of(Partner.objects.get(station=other_station).user)
    with pytest.raises(NotFound):
        delivery_stop_fail(scope=other, stop=run.stops.get(), reason="not_home")
    with pytest.raises(NotFound):
        delivery_run_close(scope=other, run=run)


def test_home_location_is_checked(station, scope):
    parcel = on_shelf(station)
    with pytest.raises(ValidationError) as caught:
        home_location_set(scope=scope, villager=parcel.villager, lat="91", lon="east")
    assert set(caught.value.message_dict) == {"lat", "lon"}


@pytest.mark.django_db(transaction=True)
def test_delivery_at_the_door_and_pickup_at_the_station_at_once_hand_over_exactly_once(station, partner, scope_of):
    from cuntao.logistics.services import handover_with_code

    scope = scope_of(partner.user)
    parcel = on_shelf(station)
    run = delivery_run_create(scope=scope, station=station, parcel_codes=[parcel.code])
    stop = run.stops.get()

    def at_the_door():
        try:
            return "door", delivery_stop_deliver(scope=scope_of(partner.user), stop=stop, method="code",
                                                 code=PICKUP_CODE).ok
        except Conflict as e:
            return "door", e.code

    def at_the_station():
        try:
            return "station", handover_with_code(scope=scope_of(partner.user), parcel=parcel, code=PICKUP_CODE).ok
        except Conflict as e:
            return "station", e.code

    results, errors = run_in_threads(lambda f: f(), [(at_the_door,), (at_the_station,)])
    assert not errors, errors
    outcomes = dict(results)
    assert sorted(map(str, outcomes.values())) == ["True", "already_handed_over"]
    assert parcel.events.filter(kind=ScanKind.HANDED_OVER).count() == 1
    stop.refresh_from_db()
    assert stop.outcome == (StopOutcome.DELIVERED if outcomes["door"] is True else StopOutcome.PENDING)
