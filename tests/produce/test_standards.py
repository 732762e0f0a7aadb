"""Standards: drafts take sections; a published version never changes; a new version supersedes it."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cuntao.core.errors import Conflict, DomainError, Forbidden
from cuntao.produce.models import Cooperative, Standard, StandardStatus
from cuntao.produce.services import (
    cooperative_create,
    grade_add,
    member_add,
    pack_size_add,
    standard_create,
    standard_publish,
    standard_section_add,
)

pytestmark = pytest.mark.django_db


def test_a_published_standard_refuses_every_section_change(kiwi):
    with pytest.raises(Conflict) as err:
        standard_section_add(scope=kiwi.scope, standard=kiwi.standard, section="allowed_input", name="草甘膦",
                             kind="herbicide", dose_unit="L", max_dose_per_mu=1, pre_harvest_interval_days=7)
    assert err.value.code == "standard_published"
    with pytest.raises(Conflict):
        grade_add(scope=kiwi.scope, standard=kiwi.standard, code="S", name="超特级", rank=0, min_weight_g=150, min_brix=18)
    with pytest.raises(Conflict):
        pack_size_add(scope=kiwi.scope, standard=kiwi.standard, grade=kiwi.grade_a, name="2.5 kg", net_weight_g=2500,
                      price_guidance_fen=6800)
    with pytest.raises(Conflict):
        standard_publish(scope=kiwi.scope, standard=kiwi.standard)


def test_a_new_version_of_the_season_retires_the_old_one_when_published(kiwi):
    draft = standard_create(scope=kiwi.scope, product=kiwi.product, title="金寨猕猴桃 2026 修订", season=2026)
    assert draft.version == 2 and draft.status == StandardStatus.DRAFT
    standard_section_add(scope=kiwi.scope, standard=draft, section="allowed_input", name="有机肥", kind="organic_fertiliser",
                         dose_unit="kg", max_dose_per_mu=150, pre_harvest_interval_days=0)
    standard_section_add(scope=kiwi.scope, standard=draft, section="sop_task", name="疏果",
                         window_starts_on=datetime.date(2026, 5, 15), window_ends_on=datetime.date(2026, 6, 15))
    grade_add(scope=kiwi.scope, standard=draft, code="A", name="特级", rank=1, min_weight_g=110, min_brix=16)
    standard_publish(scope=kiwi.scope, standard=draft)
    assert Standard.objects.get(pk=kiwi.standard.pk).status == StandardStatus.RETIRED
    assert Standard.objects.get(pk=draft.pk).status == StandardStatus.PUBLISHED


def test_an_incomplete_draft_cannot_be_published(kiwi):
    draft = standard_create(scope=kiwi.scope, product=kiwi.product, title="2027", season=2027)
    with pytest.raises(DomainError) as err:
        standard_publish(scope=kiwi.scope, standard=draft)
    assert err.value.code == "standard_incomplete"


def test_the_database_allows_one_published_version_per_season(kiwi):
    with pytest.raises(IntegrityError), transaction.atomic():
        Standard.objects.create(cooperative=kiwi.coop, county=kiwi.coop.county, product=kiwi.product, title="x",
                                season=2026, version=9, status="published", published_at=kiwi.standard.published_at)


def test_a_wrong_gtin_check_digit_is_refused(kiwi):
    draft = standard_create(scope=kiwi.scope, product=kiwi.product, title="2027", season=2027)
    grade = grade_add(scope=kiwi.scope, standard=draft, code="A", name="特级", rank=1, min_weight_g=100, min_brix=15)
    with pytest.raises(ValidationError) as err:
        pack_size_add(scope=kiwi.scope, standard=draft, grade=grade, name="5 kg", net_weight_g=5000,
                      price_guidance_fen=12800, gtin="06901234000017")
    assert "gtin" in err.value.message_dict


def test_bad_section_values_are_field_errors(kiwi):
    draft = standard_create(scope=kiwi.scope, product=kiwi.product, title="2027", season=2027)
    with pytest.raises(ValidationError):
        standard_section_add(scope=kiwi.scope, standard=draft, section="allowed_input", name="x", kind="pesticide",
                             max_dose_per_mu=0)
    with pytest.raises(ValidationError):
        standard_section_add(scope=kiwi.scope, standard=draft, section="sop_task", name="x",
                             window_starts_on=datetime.date(2027, 6, 1), window_ends_on=datetime.date(2027, 5, 1))
    with pytest.raises(ValidationError):
        grade_add(scope=kiwi.scope, standard=draft, code="A", name="x", rank=1, min_weight_g=100, min_brix=55)


def test_cooperative_rules(station, clerk, partner, scope_of):
    with pytest.raises(Forbidden):
        cooperative_create(scope=scope_of(partner.user), county_id=station.county_id, name="x", slug="x",
                           registration_no="1")
    with pytest.raises(ValidationError) as err:
        cooperative_create(scope=scope_of(clerk), county_id=station.county_id, name="x", slug="x", registration_no="1",
                           fee_rate_bp=10001, gs1_company_prefix="12ab")
    assert {"fee_rate_bp", "gs1_company_prefix"} <= set(err.value.message_dict)
    coop = cooperative_create(scope=scope_of(clerk), county_id=station.county_id, name="x", slug="x", registration_no="1",
                              village_ids=[station.village_id])
    assert list(coop.villages.all()) == [station.village]
    assert Cooperative.objects.count() == 1


def test_a_member_from_another_county_is_refused(kiwi, far_station):
    with pytest.raises(ValidationError) as err:
        member_add(scope=kiwi.scope, cooperative=kiwi.coop, village=far_station.village, name="外县人")
    assert "village" in err.value.message_dict


def test_a_member_gets_the_station_of_their_village(kiwi, station):
    assert kiwi.member.station == station and kiwi.plot.station == station


def test_central_purchases_of_allowed_inputs(kiwi, clerk, partner, scope_of):
    from cuntao.produce.services import central_purchase_record

    purchase = central_purchase_record(scope=scope_of(clerk), allowed_input=kiwi.manure, supplier="丰收农资合作社",
                                       quantity="2000", purchased_on=datetime.date(2026, 2, 20), total_fen=90000)
    assert purchase.cooperative == kiwi.coop and purchase.recorded_by == clerk
    with pytest.raises(ValidationError):
        central_purchase_record(scope=scope_of(clerk), allowed_input=kiwi.manure, supplier="x", quantity="0",
                                purchased_on=datetime.date(2026, 2, 20))
    with pytest.raises(Forbidden):
        central_purchase_record(scope=scope_of(partner.user), allowed_input=kiwi.manure, supplier="x", quantity="1",
                                purchased_on=datetime.date(2026, 2, 20))
