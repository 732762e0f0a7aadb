"""The public trace page: no login, both URL forms, scans counted, copies flagged, a friendly 404."""

import datetime

import pytest
from django.test import Client
from django.utils import translation

from cuntao.produce import codes
from cuntao.produce.models import Member, PackedBox, ScanRecord
from cuntao.produce.services import inspection_record, record_input_applied
from tests.produce.factories import boxes_of, kiwi_cooperative

pytestmark = pytest.mark.django_db


def test_the_short_uri_shows_the_box_story_without_login(kiwi, inspector, scope_of):
    record_input_applied(scope=kiwi.scope, plot=kiwi.plot, input_name="有机肥", dose_total="300", dose_unit="kg",
                         applied_on=datetime.date(2026, 4, 1))
    inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result="passed",
                      inspected_on=datetime.date(2026, 8, 30))
    _lot, boxes = boxes_of(kiwi, count=2)
    response = Client().get(codes.short_path(boxes[0].code))
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("金寨红心", boxes[0].code, kiwi.plot.village.name, kiwi.coop.name, "金寨猕猴桃 2026", "version 1",
                 "王大山", "2026-09-20", "2026-09-23", "有机肥", "1 inspection passed", "Pre-harvest residue test",
                 "All inputs were on the standard"):
        assert text in page, text
    assert ScanRecord.objects.filter(box=boxes[0]).count() == 1


def test_the_page_is_in_chinese_by_default_for_a_chinese_phone(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    with translation.override("zh-hans"):
        page = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(codes.short_path(boxes[0].code)).content.decode()
    assert '<html lang="zh-hans">' in page


def test_a_farmer_who_did_not_consent_is_shown_by_family_name_only(kiwi):
    Member.objects.filter(pk=kiwi.member.pk).update(show_name_publicly=False)
    _lot, boxes = boxes_of(kiwi, count=1)
    page = Client().get(codes.short_path(boxes[0].code)).content.decode()
    assert "王大山" not in page and "王某" in page


def test_the_digital_link_resolves_to_the_same_page(station):
    kiwi = kiwi_cooperative(station=station, gs1=True, slug="gs1kiwi")
    lot, boxes = boxes_of(kiwi, count=1)
    url = codes.box_url(boxes[0])
    assert f"/01/06901234000016/10/{lot.code}/21/{boxes[0].code}" in url
    response = Client().get(codes.box_path(boxes[0]))
    assert response.status_code == 200 and boxes[0].code in response.content.decode()
    assert ScanRecord.objects.get().via_digital_link


def test_a_digital_link_with_a_wrong_gtin_or_lot_is_not_found(station):
    kiwi = kiwi_cooperative(station=station, gs1=True, slug="gs1kiwi")
    lot, boxes = boxes_of(kiwi, count=1)
    assert Client().get(f"/01/04006381333931/10/{lot.code}/21/{boxes[0].code}").status_code == 404
    assert Client().get(f"/01/06901234000016/10/G000000A-XXXXX/21/{boxes[0].code}").status_code == 404
    assert not ScanRecord.objects.exists()


@pytest.mark.parametrize("path", ["/b/ZZZZZZZZZZ", "/b/forged", "/b/%3Cscript%3E", "/01/06901234000016/10/L1/21/NOPE"])
def test_an_unknown_or_forged_code_gets_a_friendly_not_found_page(db, path):
    response = Client().get(path)
    assert response.status_code == 404
    assert "Code not found" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_a_code_typed_in_lower_case_redirects_to_its_page(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    response = Client().get(f"/b/?code={boxes[0].code.lower()}")
    assert response.status_code == 302 and response["Location"] == codes.short_path(boxes[0].code)


def test_scans_keep_only_a_coarse_place(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    Client().get(codes.short_path(boxes[0].code), {"city": "上海"}, REMOTE_ADDR="203.0.113.77")
    scan = ScanRecord.objects.get()
    assert scan.city == "上海" and scan.network == "203.0.113.0/24"
    assert PackedBox.objects.get(pk=boxes[0].pk).scan_count == 1


def test_a_code_scanned_in_many_distant_cities_is_flagged(kiwi, clerk_client):
    _lot, boxes = boxes_of(kiwi, count=1)
    for city in ("上海", "广州", "成都", "哈尔滨"):
        Client().get(codes.short_path(boxes[0].code), {"city": city})
    box = PackedBox.objects.get(pk=boxes[0].pk)
    assert box.suspect_since is not None and "cities" in box.suspect_reason
    assert "may be a copy" in Client().get(codes.short_path(box.code)).content.decode()
    page = clerk_client.get(f"/produce/county/{box.county_id}/suspect-boxes/")
    assert page.status_code == 200 and box.code in page.content.decode()


def test_a_code_scanned_far_more_than_its_siblings_is_flagged(kiwi):
    _lot, boxes = boxes_of(kiwi, count=3)
    PackedBox.objects.filter(pk=boxes[1].pk).update(scan_count=1)
    for _i in range(20):
        Client().get(codes.short_path(boxes[0].code), {"city": "上海"})
    box = PackedBox.objects.get(pk=boxes[0].pk)
    assert box.suspect_since is not None and "20 times" in box.suspect_reason
    assert PackedBox.objects.get(pk=boxes[1].pk).suspect_since is None


def test_a_box_scanned_a_few_times_at_home_is_not_flagged(kiwi):
    _lot, boxes = boxes_of(kiwi, count=2)
    for _i in range(5):
        Client().get(codes.short_path(boxes[0].code), {"city": "上海"})
    assert PackedBox.objects.get(pk=boxes[0].pk).suspect_since is None


def test_the_suspect_page_is_for_county_staff_only(kiwi, partner_client):
    assert partner_client.get(f"/produce/county/{kiwi.coop.county_id}/suspect-boxes/").status_code == 404


def test_the_trace_page_reads_a_handful_of_queries(kiwi, django_assert_max_num_queries):
    _lot, boxes = boxes_of(kiwi, count=1)
    client = Client()
    with django_assert_max_num_queries(14):
        assert client.get(codes.short_path(boxes[0].code)).status_code == 200


def test_the_box_qr_is_an_svg_of_the_printed_url(kiwi):
    _lot, boxes = boxes_of(kiwi, count=1)
    response = Client().get(f"/b/{boxes[0].code}/qr.svg")
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    assert response.content.startswith(b"<svg")
