"""The partner's, inspector's and county staff's pages, and the printable labels."""

import datetime
import re

import pytest

from cuntao.produce.models import FarmRecord, GradedLot, Grading, HarvestLot, InspectorAssignment, PackedBox
from tests.conftest import login
from tests.factories import UserFactory
from tests.produce.factories import boxes_of, grade, harvest, png

pytestmark = pytest.mark.django_db


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


def test_partner_sees_their_farmers_plots_and_records_an_input(kiwi, partner_client):
    home = partner_client.get("/produce/")
    assert home.status_code == 200 and kiwi.plot.name in home.content.decode()
    response = partner_client.post(f"/produce/plots/{kiwi.plot.pk}/", {
        "kind": "input", "input-input_name": "阿维菌素", "input-dose_total": "200", "input-dose_unit": "ml",
        "input-applied_on": "2026-05-01", "input-photos": png()})
    assert response.status_code == 302
    record = FarmRecord.objects.get()
    assert not record.compliant and record.photos.count() == 1
    page = partner_client.get(f"/produce/plots/{kiwi.plot.pk}/").content.decode()
    assert "Dose above the maximum" in page and "flagged" in page


def test_partner_form_errors_are_shown_and_nothing_saved(kiwi, partner_client):
    response = partner_client.post(f"/produce/plots/{kiwi.plot.pk}/", {"kind": "harvest", "harvest-kg": "-1",
                                                                       "harvest-harvested_on": "2026-09-20"})
    assert response.status_code == 400 and 'class="error"' in response.content.decode()
    assert not HarvestLot.objects.exists()


def test_partner_of_another_station_gets_404(kiwi, other_station):
    client = login(other_station.partners.get().user)
    assert client.get(f"/produce/plots/{kiwi.plot.pk}/").status_code == 404


def test_inspector_fails_then_clears_on_the_phone_pages(kiwi, inspector):
    client = login(inspector)
    assert kiwi.plot.name in client.get("/produce/inspect/").content.decode()
    response = client.post(f"/produce/inspect/plots/{kiwi.plot.pk}/", {
        "i-checkpoint_id": kiwi.checkpoint.pk, "i-result": "failed", "i-inspected_on": "2026-08-30", "i-note": "虫害"})
    assert response.status_code == 302
    violation = kiwi.plot.violations.get()
    client.post(f"/produce/violations/{violation.pk}/clear/", {"note": "已防治"})
    violation.refresh_from_db()
    assert violation.status == "cleared"


def test_inspect_pages_are_404_for_others(kiwi, partner_client):
    assert partner_client.get("/produce/inspect/").status_code == 404
    assert partner_client.get(f"/produce/inspect/plots/{kiwi.plot.pk}/").status_code == 404


def test_staff_grade_and_pack_on_the_pages_and_print_labels(kiwi, clerk_client):
    lot = harvest(kiwi)
    page = clerk_client.get(f"/produce/c/{kiwi.coop.slug}/")
    assert page.status_code == 200 and lot.code in page.content.decode()
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/grade/", {
        "harvest_lots": [lot.code], "grade_A": "600", "grade_B": "300", "samples": "120 16\n90 14",
        "graded_on": "2026-09-22"})
    assert response.status_code == 302, response.content.decode()[:2000]
    lot_a = GradedLot.objects.get(grade__code="A")
    response = clerk_client.post(f"/produce/lots/{lot_a.code}/", {"pack_size_id": kiwi.pack_a.pk, "box_count": "25",
                                                                  "packed_on": "2026-09-23"})
    assert response.status_code == 302 and PackedBox.objects.count() == 25
    packing = lot_a.packings.get()
    pdf = clerk_client.get(f"/produce/packings/{packing.code}/labels.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pages(pdf.content) == 2  # 25 labels, 21 to a sheet


def test_grading_page_shows_a_sum_error_and_saves_nothing(kiwi, clerk_client):
    lot = harvest(kiwi, kg="100")
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/grade/", {
        "harvest_lots": [lot.code], "grade_A": "200", "samples": "120 16", "graded_on": "2026-09-22"})
    assert response.status_code == 400 and "more than the 100 kg harvested" in response.content.decode()
    assert not Grading.objects.exists()


def test_packing_page_refuses_more_than_graded(kiwi, clerk_client):
    lot_a = grade(kiwi, [harvest(kiwi)], grades={"A": "10"}).graded_lots.get()
    response = clerk_client.post(f"/produce/lots/{lot_a.code}/", {"pack_size_id": kiwi.pack_a.pk, "box_count": "3",
                                                                  "packed_on": "2026-09-23"})
    assert response.status_code == 400 and "the lot has 10 kg left" in response.content.decode()


def test_labels_of_an_unknown_packing_are_404(kiwi, clerk_client):
    assert clerk_client.get("/produce/packings/K000000-NOPE0/labels.pdf").status_code == 404


def test_staff_assign_an_inspector_on_the_cooperative_page(kiwi, clerk_client):
    UserFactory(username="zhang-inspector")
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/", {"username": "zhang-inspector"})
    assert response.status_code == 302
    assert InspectorAssignment.objects.filter(user__username="zhang-inspector").exists()
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/", {"username": "nobody-here"})
    assert response.status_code == 400


def test_partner_cannot_open_staff_pages(kiwi, partner_client):
    assert partner_client.get(f"/produce/c/{kiwi.coop.slug}/").status_code == 404


def test_label_sheet_of_many_boxes_has_several_pages(kiwi):
    from cuntao.produce.labels import label_sheet_pdf

    _lot, boxes = boxes_of(kiwi, count=45)
    pdf = label_sheet_pdf(boxes)
    assert pdf.startswith(b"%PDF") and pages(pdf) == 3


def test_station_home_shows_the_cooperative_panel_with_open_violations(kiwi, partner_client):
    from django.urls import reverse

    from cuntao.produce.services import record_input_applied

    record_input_applied(scope=kiwi.scope, plot=kiwi.plot, input_name="百草枯", dose_total=1, dose_unit="L",
                         applied_on=datetime.date(2026, 5, 1))
    page = partner_client.get(reverse("network:station_home")).content.decode()
    assert "Cooperative farmers" in page and "open violations" in page


@pytest.mark.parametrize("model", ["cooperative", "member", "plot", "standard", "farmrecord", "violation", "inspection",
                                   "harvestlot", "gradedlot", "packedbox", "transformation", "inspectorassignment"])
def test_admin_lists_open_for_the_programme_admin(kiwi, programme_admin, model):
    from django.contrib.auth import get_user_model

    get_user_model().objects.filter(pk=programme_admin.pk).update(is_staff=True, is_superuser=True)
    boxes_of(kiwi, count=1)
    client = login(programme_admin)
    assert client.get(f"/admin/produce/{model}/").status_code == 200
    assert client.get(f"/admin/produce/standard/{kiwi.standard.pk}/change/").status_code == 200


def test_staff_enrol_a_farmer_and_a_plot(kiwi, clerk_client, station):
    from cuntao.produce.models import Member, Plot

    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/enrol/", {
        "which": "member", "m-name": "赵春花", "m-village_id": station.village_id, "m-show_name_publicly": "on"})
    assert response.status_code == 302
    member = Member.objects.get(name="赵春花")
    assert member.show_name_publicly and member.station == station and member.consent_recorded_at
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/enrol/", {
        "which": "plot", "p-member_id": member.pk, "p-name": "南坡", "p-lat": "31.7", "p-lon": "115.9",
        "p-area_mu": "0", "p-crop": "kiwi"})
    assert response.status_code == 400 and not Plot.objects.filter(member=member).exists()
    response = clerk_client.post(f"/produce/c/{kiwi.coop.slug}/enrol/", {
        "which": "plot", "p-member_id": member.pk, "p-name": "南坡", "p-lat": "31.7", "p-lon": "115.9",
        "p-area_mu": "1.5", "p-crop": "kiwi"})
    assert response.status_code == 302 and Plot.objects.get(member=member).station == station
