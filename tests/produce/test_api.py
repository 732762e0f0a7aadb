"""The produce API: records with flags, inspections, grading, packing, EPCIS; Idempotency-Key on creates."""

import json

import pytest
from django.contrib.auth import get_user_model

from cuntao.produce.models import FarmRecord, Grading, HarvestLot, PackedBox
from tests.conftest import login
from tests.produce.factories import grade, harvest

pytestmark = pytest.mark.django_db
API = "/api/v1/produce"


def post(client, url, data, key=None):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def test_partner_records_an_input_over_the_dose_and_gets_201_with_the_flag(kiwi, partner_client):
    response = post(partner_client, f"{API}/plots/{kiwi.plot.pk}/records",
                    {"kind": "input_applied", "occurred_on": "2026-05-01", "input_name": "有机肥", "dose_total": "500",
                     "dose_unit": "kg"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["compliant"] is False and body["violations"][0]["kind"] == "dose_over_max"


def test_a_retried_record_with_the_same_key_is_saved_once(kiwi, partner_client):
    data = {"kind": "harvest", "occurred_on": "2026-09-20", "kg": "850.5"}
    first = post(partner_client, f"{API}/plots/{kiwi.plot.pk}/records", data, key="k-1")
    again = post(partner_client, f"{API}/plots/{kiwi.plot.pk}/records", data, key="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["harvest_lot_code"].startswith("H260920-")
    assert HarvestLot.objects.count() == 1 and FarmRecord.objects.count() == 1


def test_a_bad_record_is_4xx_and_changes_nothing(kiwi, partner_client):
    response = post(partner_client, f"{API}/plots/{kiwi.plot.pk}/records",
                    {"kind": "harvest", "occurred_on": "2026-09-20", "kg": "-3"})
    assert response.status_code == 422 and "kg" in response.json()["error"]["fields"]
    response = post(partner_client, f"{API}/plots/{kiwi.plot.pk}/records", {"kind": "nonsense", "occurred_on": "x"})
    assert response.status_code == 422
    assert not FarmRecord.objects.exists()


def test_a_plot_of_another_station_is_404_for_a_partner(kiwi, other_station):
    client = login(other_station.partners.get().user)
    response = post(client, f"{API}/plots/{kiwi.plot.pk}/records", {"kind": "observation", "occurred_on": "2026-05-01",
                                                                   "note": "x"})
    assert response.status_code == 404


def test_inspection_and_clearing_through_the_api(kiwi, inspector):
    client = login(inspector)
    response = post(client, f"{API}/inspections", {"plot_id": kiwi.plot.pk, "checkpoint_id": kiwi.checkpoint.pk,
                                                   "result": "failed", "inspected_on": "2026-08-30", "note": "虫害"},
                    key="i-1")
    assert response.status_code == 201 and response.json()["violation_id"]
    cleared = post(client, f"{API}/violations/{response.json()['violation_id']}/clear", {"note": "已防治"})
    assert cleared.status_code == 200 and cleared.json()["status"] == "cleared"


def test_an_unassigned_user_cannot_inspect(kiwi, partner_client):
    response = post(partner_client, f"{API}/inspections", {"plot_id": kiwi.plot.pk, "checkpoint_id": kiwi.checkpoint.pk,
                                                           "result": "passed", "inspected_on": "2026-08-30"})
    assert response.status_code == 404


def test_staff_grade_and_pack_then_export_epcis(kiwi, clerk_client):
    lot = harvest(kiwi)
    response = post(clerk_client, f"{API}/gradings", {
        "harvest_lots": [lot.code], "grades": {"A": "600", "B": "300"}, "graded_on": "2026-09-22",
        "samples": [{"weight_g": 120, "brix": "16"}, {"weight_g": 90, "brix": "14"}]}, key="g-1")
    assert response.status_code == 201, response.content
    lot_a = next(g for g in response.json()["graded_lots"] if g["grade"] == "A")
    packed = post(clerk_client, f"{API}/graded-lots/{lot_a['code']}/packings",
                  {"pack_size_id": kiwi.pack_a.pk, "box_count": 3, "packed_on": "2026-09-23"}, key="p-1")
    assert packed.status_code == 201 and len(packed.json()["boxes"]) == 3
    assert packed.json()["boxes"][0]["url"].endswith("/b/" + packed.json()["boxes"][0]["code"])
    document = clerk_client.get(f"{API}/graded-lots/{lot_a['code']}/epcis")
    assert document.status_code == 200 and document.json()["type"] == "EPCISDocument"
    contributions = clerk_client.get(f"{API}/graded-lots/{lot_a['code']}/contributions").json()
    assert [c["kg"] for c in contributions] == ["600.000"]


def test_grading_more_than_harvested_is_400_with_the_field(kiwi, clerk_client):
    lot = harvest(kiwi, kg="100")
    response = post(clerk_client, f"{API}/gradings", {"harvest_lots": [lot.code], "grades": {"A": "101"},
                                                      "graded_on": "2026-09-22", "samples": [{"weight_g": 120, "brix": 16}]})
    assert response.status_code == 422 and "grades" in response.json()["error"]["fields"]
    assert not Grading.objects.exists()


def test_grading_an_unknown_lot_is_404(kiwi, clerk_client):
    response = post(clerk_client, f"{API}/gradings", {"harvest_lots": ["H000000-NOPE0"], "grades": {"A": "1"},
                                                      "graded_on": "2026-09-22", "samples": [{"weight_g": 120, "brix": 16}]})
    assert response.status_code == 404


def test_packing_more_than_graded_is_400(kiwi, clerk_client):
    lot_a = grade(kiwi, [harvest(kiwi)], grades={"A": "10"}).graded_lots.get()
    response = post(clerk_client, f"{API}/graded-lots/{lot_a.code}/packings",
                    {"pack_size_id": kiwi.pack_a.pk, "box_count": 3, "packed_on": "2026-09-23"})
    assert response.status_code == 422 and "box_count" in response.json()["error"]["fields"]
    assert not PackedBox.objects.exists()


def test_a_partner_cannot_grade(kiwi, partner_client):
    lot = harvest(kiwi)
    response = post(partner_client, f"{API}/gradings", {"harvest_lots": [lot.code], "grades": {"A": "1"},
                                                        "graded_on": "2026-09-22",
                                                        "samples": [{"weight_g": 120, "brix": 16}]})
    assert response.status_code in (403, 404)


def test_season_export_for_staff_only_in_their_county(kiwi, clerk_client, far_station):
    assert clerk_client.get(f"{API}/cooperatives/{kiwi.coop.slug}/epcis?season=2026").status_code == 200
    far = login(get_user_model().objects.get(username="far-clerk"))
    assert far.get(f"{API}/cooperatives/{kiwi.coop.slug}/epcis?season=2026").status_code == 404


def test_anonymous_callers_get_401(kiwi, client):
    assert client.get(f"{API}/plots").status_code == 401
