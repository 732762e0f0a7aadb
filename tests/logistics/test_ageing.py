"""Reminders and ageing of uncollected parcels, the return list, and the shelf's capacity."""

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cuntao.core.errors import Conflict
from cuntao.logistics.models import ParcelStatus, ScanKind
from cuntao.logistics.services import (
    handover_with_code,
    parcel_mark_for_return,
    parcel_return_send,
    parcels_age,
    pickup_code_digest,
    station_shelf_set,
)
from cuntao.notify.models import Notice
from tests.logistics.factories import ParcelFactory

pytestmark = pytest.mark.django_db


def waiting(station, days, now=None, **kwargs):
    """A parcel on the station's shelf since `days` days before `now`."""
    return ParcelFactory(station=station, status=ParcelStatus.AT_STATION, shelf_position="B1",
                         arrived_at_station_at=(now or timezone.now()) - timedelta(days=days), **kwargs)


def local_noon():
    """Noon in the network's time zone: minutes later is still the same local day, whatever the clock says."""
    return timezone.make_aware(datetime(2026, 3, 10, 12, 0))


def reminders():
    return Notice.objects.filter(kind="pickup_reminder")


def test_a_parcel_waiting_past_the_reminder_age_gets_one_reminder_with_a_new_code(station, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: "424242")
    old = waiting(station, 4, villager__phone="+8613900002222")
    waiting(station, 1)
    report = parcels_age()
    assert (report.reminded, report.marked_for_return) == (1, 0)
    notice = reminders().get()
    assert notice.villager_id == old.villager_id and "424242" in notice.text and "4 天" in notice.text
    old.refresh_from_db()
    assert old.pickup_code_digest == pickup_code_digest(old.pk, "424242")
    assert old.events.filter(kind=ScanKind.REMINDED).count() == 1


def test_a_second_run_the_same_day_reminds_nobody_again(station):
    now = local_noon()
    waiting(station, 5, now=now)
    assert parcels_age(now=now).reminded == 1
    assert parcels_age(now=now + timedelta(minutes=5)).reminded == 0
    assert reminders().count() == 1


def test_the_next_day_brings_the_next_reminder(station):
    now = local_noon()
    parcel = waiting(station, 5, now=now)
    parcels_age(now=now)
    assert parcels_age(now=now + timedelta(days=1)).reminded == 1
    assert reminders().count() == 2
    assert parcel.events.filter(kind=ScanKind.REMINDED).count() == 2


def test_the_reminder_code_hands_the_parcel_over(station, partner, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: "135790")
    parcel = waiting(station, 4)
    parcels_age()
    assert handover_with_code(scope=scope_of(partner.user), parcel=parcel, code="135790").ok


def test_a_parcel_past_the_return_age_goes_on_the_return_list_without_a_reminder(station, partner, scope_of):
    parcel = waiting(station, 15)
    report = parcels_age()
    assert (report.reminded, report.marked_for_return) == (0, 1)
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.RETURN_DUE and parcel.return_due_at is not None
    event = parcel.events.get(kind=ScanKind.RETURN_DUE)
    assert (event.from_status, event.to_status, event.actor) == ("at_station", "return_due", None)
    assert not reminders().exists()
    assert parcels_age().marked_for_return == 0


def test_the_ages_come_from_settings(station, settings):
    settings.LOGISTICS_REMIND_AFTER_DAYS = 1
    settings.LOGISTICS_RETURN_AFTER_DAYS = 2
    waiting(station, 1.5)
    waiting(station, 3)
    report = parcels_age()
    assert (report.reminded, report.marked_for_return) == (1, 1)


def test_the_command_prints_what_it_did(station):
    waiting(station, 4)
    waiting(station, 20)
    out = StringIO()
    call_command("parcels_age", stdout=out)
    assert json.loads(out.getvalue()) == {"reminded": 1, "marked_for_return": 1, "remind_after_days": 3,
                                          "return_after_days": 14}


def test_a_parcel_on_the_return_list_can_still_be_collected(station, partner, scope_of, monkeypatch):
    monkeypatch.setattr("cuntao.logistics.services.new_pickup_code", lambda: "112233")
    parcel = waiting(station, 15)
    parcel.pickup_code_digest = pickup_code_digest(parcel.pk, "112233")
    parcel.save(update_fields=["pickup_code_digest"])
    parcels_age()
    assert handover_with_code(scope=scope_of(partner.user), parcel=parcel, code="112233").ok


def test_the_partner_puts_a_refused_parcel_on_the_return_list_and_gives_it_to_the_driver(station, partner, scope_of):
    scope = scope_of(partner.user)
    parcel = waiting(station, 0)
    parcel_mark_for_return(scope=scope, parcel=parcel, reason="refused")
    assert parcel_return_send(scope=scope, parcel=parcel).status == ParcelStatus.RETURNED
    assert parcel_return_send(scope=scope, parcel=parcel).status == ParcelStatus.RETURNED  # a repeat is harmless
    assert list(parcel.events.values_list("kind", flat=True)) == ["return_due", "returned"]


def test_a_parcel_not_on_the_return_list_cannot_be_sent_back(station, partner, scope_of):
    with pytest.raises(Conflict):
        parcel_return_send(scope=scope_of(partner.user), parcel=waiting(station, 0))


def test_returns_page_lists_the_parcel_and_the_driver_takes_it(station, partner, partner_client):
    parcel = waiting(station, 20)
    parcels_age()
    page = partner_client.get(f"/logistics/stations/{station.code}/returns/").content.decode()
    assert parcel.code in page and "Print all return labels" in page
    response = partner_client.post(f"/logistics/parcels/{parcel.code}/return/sent/", follow=True)
    assert "given to the driver" in response.content.decode()
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.RETURNED


def test_mark_for_return_from_the_parcel_page(station, partner_client):
    parcel = waiting(station, 1)
    partner_client.post(f"/logistics/parcels/{parcel.code}/return/", {"reason": "moved to Hefei"})
    parcel.refresh_from_db()
    assert parcel.status == ParcelStatus.RETURN_DUE
    assert parcel.events.get(kind=ScanKind.RETURN_DUE).note == "moved to Hefei"


def test_station_panel_warns_when_the_shelf_is_over_capacity(station, partner, partner_client, scope_of):
    station_shelf_set(scope=scope_of(partner.user), station=station, capacity_parcels=2)
    for _ in range(2):
        waiting(station, 0)
    assert 'id="shelf-full"' not in partner_client.get("/station/").content.decode()
    waiting(station, 20)
    parcels_age()  # a parcel to return still takes a place on the shelf
    home = partner_client.get("/station/").content.decode()
    assert 'id="shelf-full"' in home and "3 parcels for 2 places (1 too many)" in home


def test_shelf_capacity_is_set_on_the_shelf_page(station, partner_client):
    assert partner_client.post(f"/logistics/stations/{station.code}/shelf/", {"capacity_parcels": "0"}).status_code == 400
    partner_client.post(f"/logistics/stations/{station.code}/shelf/", {"capacity_parcels": "120"})
    assert "of 120 places" in partner_client.get(f"/logistics/stations/{station.code}/shelf/").content.decode()


def test_shelf_capacity_of_another_station_is_not_found(other_station, partner, scope_of):
    from cuntao.core.errors import NotFound

    with pytest.raises(NotFound):
        station_shelf_set(scope=scope_of(partner.user), station=other_station, capacity_parcels=5)


def test_shelf_api_reports_and_sets_capacity(station, partner_client):
    waiting(station, 0)
    body = partner_client.put(f"/api/v1/stations/{station.code}/shelf", {"capacity_parcels": 1},
                              content_type="application/json").json()
    assert (body["shelved"], body["capacity"], body["over_capacity"]) == (1, 1, 0)
    response = partner_client.put(f"/api/v1/stations/{station.code}/shelf", {"capacity_parcels": 0},
                                  content_type="application/json")
    assert response.status_code in (400, 422) and "error" in response.json()


def test_return_api_marks_lists_and_sends(station, partner_client):
    parcel = waiting(station, 1)
    marked = partner_client.post(f"/api/v1/parcels/{parcel.code}/return", {"reason": "refused"},
                                 content_type="application/json")
    assert marked.status_code == 200 and marked.json()["status"] == "return_due"
    listed = partner_client.get(f"/api/v1/stations/{station.code}/returns").json()
    assert [p["code"] for p in listed] == [parcel.code]
    sent = partner_client.post(f"/api/v1/parcels/{parcel.code}/return/sent")
    assert sent.status_code == 200 and sent.json()["status"] == "returned"
    again = partner_client.post(f"/api/v1/parcels/{parcel.code}/return", {"reason": "refused"},
                                content_type="application/json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_at_station"
    blank = partner_client.post(f"/api/v1/parcels/{waiting(station, 0).code}/return", {"reason": " "},
                                content_type="application/json")
    assert blank.status_code == 422 and "reason" in blank.json()["error"]["fields"]
