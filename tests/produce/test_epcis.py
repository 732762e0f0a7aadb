"""Every exported EPCIS document validates against GS1's EPCIS 2.0 JSON schema."""

import datetime
import json
import re
from pathlib import Path

import jsonschema
import pytest

from cuntao.produce import epcis
from cuntao.produce.services import box_reserve, box_set_status, inspection_record
from tests.produce.factories import another_plot, grade, harvest, kiwi_cooperative, pack

pytestmark = pytest.mark.django_db

# The shared data folder sits beside the checkout, in CI as on the development machine
# (see ../shared/data/epcis/README.md); tests read it, the app never does.
EPCIS_SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared" / "data" / "epcis" / "EPCIS-JSON-Schema.json"
URI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(EPCIS_SCHEMA_PATH.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def assert_valid(validator, document):
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    # The schema's "uri" format is only checked with an optional package; check the shape here.
    for event in document["epcisBody"]["eventList"]:
        uris = [event["eventID"], *event.get("epcList", []), *event.get("childEPCs", []),
                *[q["epcClass"] for key in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList")
                  for q in event.get(key, [])]]
        assert all(URI.match(u) for u in uris), uris


def full_season(kiwi, other_station, inspector, scope_of):
    inspection_record(scope=scope_of(inspector), plot=kiwi.plot, checkpoint_id=kiwi.checkpoint.pk, result="passed",
                      inspected_on=datetime.date(2026, 8, 30))
    lots = [harvest(kiwi, kg="500"), harvest(kiwi, plot=another_plot(kiwi, village=other_station.village), kg="500")]
    lot_a = grade(kiwi, lots).graded_lots.get(grade__code="A")
    boxes = list(pack(kiwi, lot_a, boxes=4).boxes.order_by("pk"))
    box_reserve(box_ids=[boxes[0].pk], order_ref="SHOP-1")
    box_set_status(box=box_set_status(box=boxes[0], to_status="sold"), to_status="shipped")
    return lot_a


def test_a_graded_lot_history_validates_and_tells_the_whole_story(kiwi, other_station, inspector, scope_of, validator):
    lot_a = full_season(kiwi, other_station, inspector, scope_of)
    document = epcis.graded_lot_history(lot_a)
    assert_valid(validator, document)
    events = document["epcisBody"]["eventList"]
    steps = [(e["type"], e.get("action"), e["bizStep"]) for e in events]
    assert steps.count(("ObjectEvent", "ADD", "commissioning")) == 2
    assert ("ObjectEvent", "OBSERVE", "inspecting") in steps
    assert any(t == "TransformationEvent" for t, _a, _s in steps)
    assert ("AggregationEvent", "ADD", "packing") in steps
    assert ("ObjectEvent", "OBSERVE", "retail_selling") in steps and ("ObjectEvent", "OBSERVE", "shipping") in steps
    assert [e["eventTime"] for e in events] == sorted(e["eventTime"] for e in events)
    packing = next(e for e in events if e["type"] == "AggregationEvent")
    assert len(packing["childEPCs"]) == 4


def test_exporting_twice_gives_the_same_event_ids(kiwi, other_station, inspector, scope_of):
    lot_a = full_season(kiwi, other_station, inspector, scope_of)
    ids = [[e["eventID"] for e in epcis.graded_lot_history(lot_a)["epcisBody"]["eventList"]] for _i in range(2)]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])


def test_gs1_cooperatives_name_boxes_by_digital_link(station, validator):
    kiwi = kiwi_cooperative(station=station, gs1=True, slug="gs1kiwi")
    lot_a = grade(kiwi, [harvest(kiwi)]).graded_lots.get(grade__code="A")
    pack(kiwi, lot_a, boxes=2)
    document = epcis.graded_lot_history(lot_a)
    assert_valid(validator, document)
    packing = next(e for e in document["epcisBody"]["eventList"] if e["type"] == "AggregationEvent")
    assert all("/01/06901234000016/10/" in uri for uri in packing["childEPCs"])


def test_a_season_export_validates(kiwi, other_station, inspector, scope_of, validator):
    full_season(kiwi, other_station, inspector, scope_of)
    document = epcis.season_history(cooperative_id=kiwi.coop.pk, season=2026)
    assert_valid(validator, document)
    assert len(document["epcisBody"]["eventList"]) >= 6


def test_an_empty_season_is_a_valid_empty_document(kiwi, validator):
    document = epcis.season_history(cooperative_id=kiwi.coop.pk, season=2025)
    assert_valid(validator, document)
    assert document["epcisBody"]["eventList"] == []


def test_the_schema_check_can_fail(validator):
    """A document without its body is caught: the validation above is not vacuous."""
    broken = {"@context": [epcis.EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
              "creationDate": "2026-09-01T00:00:00Z"}
    assert list(validator.iter_errors(broken))
    bad_event = {**broken, "epcisBody": {"eventList": [{"type": "ObjectEvent", "action": "ADD",
                                                        "eventTime": "2026-09-01T00:00:00Z"}]}}
    assert list(validator.iter_errors(bad_event))
