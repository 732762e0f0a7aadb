"""The demo cooperative: seeded once through the services, with working codes and a valid EPCIS export."""

import json

import pytest
from django.test import Client

from cuntao.produce import codes, epcis
from cuntao.produce.demo import VIOLATOR, demo_box_codes, produce_seed_demo
from cuntao.produce.models import Cooperative, GradedLot, Inspection, PackedBox, Violation
from tests.factories import CountyFactory, PartnerFactory, StationFactory, UserFactory, VillageFactory, VillagerFactory
from tests.produce.test_epcis import EPCIS_SCHEMA_PATH

pytestmark = pytest.mark.django_db


@pytest.fixture
def jinzhai(db):
    county = CountyFactory(code="JZ", name="金寨县")
    stations = [StationFactory(village=VillageFactory(county=county, name=f"{n}村")) for n in ("桃岭", "双河", "梅山")]
    for i, station in enumerate(stations):
        PartnerFactory(station=station, user=UserFactory(username=f"xiaoer-{i}"))
        VillagerFactory(station=station, name="王德明")
    return county


def test_the_demo_seeds_a_season_once(jinzhai):
    assert produce_seed_demo() is True
    assert produce_seed_demo() is False
    coop = Cooperative.objects.get(slug="jinzhai-kiwi")
    assert coop.members.count() == 6 and coop.plots.count() == 7
    violations = Violation.objects.filter(cooperative=coop, plot__member__name=VIOLATOR)
    assert violations.count() == 2 and not violations.filter(status="open").exists()
    assert Inspection.objects.filter(cooperative=coop, result="failed").count() == 1
    assert PackedBox.objects.filter(cooperative=coop).count() == 100
    assert PackedBox.objects.filter(cooperative=coop, suspect_since__isnull=False).count() == 1


def test_demo_boxes_open_their_trace_pages_in_both_url_forms(jinzhai):
    produce_seed_demo()
    gift = PackedBox.objects.filter(pack_size__gtin__gt="").first()
    family = PackedBox.objects.filter(pack_size__gtin="").first()
    assert "/01/" in codes.box_path(gift) and codes.box_path(family).startswith("/b/")
    for box in (gift, family):
        page = Client().get(codes.box_path(box))
        assert page.status_code == 200 and box.code in page.content.decode()
    assert len(demo_box_codes()) == 3


def test_demo_lots_export_valid_epcis(jinzhai):
    import jsonschema

    produce_seed_demo()
    validator = jsonschema.Draft7Validator(json.loads(EPCIS_SCHEMA_PATH.read_text()))
    for lot in GradedLot.objects.filter(cooperative__slug="jinzhai-kiwi"):
        assert not list(validator.iter_errors(epcis.graded_lot_history(lot)))
