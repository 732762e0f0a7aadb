"""Parcel labels: 100 x 150 mm pages, a Code 128 barcode of the parcel code, the destination in large print."""

import base64
import re
import zlib

import pytest
from reportlab.graphics.barcode.code128 import _patterns

from cuntao.logistics.labels import parcel_labels_pdf
from cuntao.logistics.models import ParcelStatus
from tests.ledger.pdftext import STREAM, pdf_text
from tests.logistics.factories import ParcelFactory

pytestmark = pytest.mark.django_db

POINTS_PER_MM = 72 / 25.4
# A filled rectangle in a content stream: "x y w h re" (reportlab fills each bar as one).
RECT = re.compile(rb"([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+) re")


def page_streams(pdf: bytes) -> list[bytes]:
    bodies = []
    for match in STREAM.finditer(pdf):
        body, info = match.group("body"), match.group("dict")
        if b"ASCII85Decode" in info:
            body = base64.a85decode(body.strip(), adobe=True)
        if b"FlateDecode" in info:
            body = zlib.decompress(body)
        if b" Tf" in body or b" re" in body:
            bodies.append(body)
    return bodies


def barcode_rects(stream: bytes) -> list[tuple[float, float]]:
    """(x, width) of the barcode's bars, the tall thin filled rectangles, left to right."""
    rects = [tuple(map(float, m.groups())) for m in RECT.finditer(stream)]
    return sorted((x, w) for x, y, w, h in rects if h > 15 * POINTS_PER_MM and w < 3 * POINTS_PER_MM)


def decode_code128(rects: list[tuple[float, float]]) -> str:
    """Read the drawn bars back as Code 128 (sets B and C), checking the check symbol.

    Only the width table comes from reportlab (the standard's table, as letters: A-D
    bars, a-d spaces of 1-4 modules); the reading is done here, from the drawing.
    """
    module = min(w for _, w in rects)
    elements = []
    for (x, w), following in zip(rects, [*rects[1:], None]):
        elements.append(round(w / module))
        if following is not None:
            elements.append(round((following[0] - x - w) / module))
    table = {sum(([ord(c.upper()) - 64] for c in pattern), []).__repr__(): value
             for value, pattern in _patterns.items()}
    values = [table[repr(elements[i:i + 6])] for i in range(0, len(elements) - 7, 6)]
    assert table[repr(elements[-7:])] == 106, "the stop symbol ends the barcode"
    *data, check = values
    assert check == (data[0] + sum(i * v for i, v in enumerate(data[1:], start=1))) % 103, "check symbol"
    text, mode = "", {104: "B", 105: "C"}[data[0]]
    for v in data[1:]:
        if mode == "B" and v == 99 or mode == "C" and v == 100:
            mode = "C" if v == 99 else "B"
        elif mode == "B":
            text += chr(v + 32)
        else:
            text += f"{v:02d}"
    return text


def test_a_return_label_has_the_barcode_the_code_and_the_warehouse_in_large_print(station):
    parcel = ParcelFactory(station=station, status=ParcelStatus.RETURN_DUE, weight_g=2500)
    pdf = parcel_labels_pdf(parcels=[parcel])
    assert pdf.startswith(b"%PDF")
    assert re.search(rb"/MediaBox \[\s*0 0 283\.46\d* 425\.19\d*\s*\]", pdf)  # 100 x 150 mm
    text = pdf_text(pdf)
    assert parcel.code in text and "RETURN TO" in text and "WH" in text
    assert f"{station.code} {station.village.name}" in text and "2.5 kg" in text
    (stream,) = page_streams(pdf)
    rects = barcode_rects(stream)
    assert len(rects) > 20 and min(w for _, w in rects) >= 0.25 * POINTS_PER_MM  # a thermal printer's dot
    assert decode_code128(rects) == parcel.code


def test_an_inbound_label_names_the_station_and_village(station):
    parcel = ParcelFactory(station=station, addressee_name="王秀英")
    text = pdf_text(parcel_labels_pdf(parcels=[parcel]))
    assert "TO STATION" in text and station.code in text and station.village.name in text and "王秀英" in text


def test_a_parcel_marked_for_return_gets_a_return_label(station):
    parcel = ParcelFactory(station=station, status=ParcelStatus.RETURN_DUE)
    assert "RETURN TO" in pdf_text(parcel_labels_pdf(parcels=[parcel]))


def test_a_batch_has_one_page_per_parcel(station):
    parcels = [ParcelFactory(station=station) for _ in range(3)]
    pdf = parcel_labels_pdf(parcels=parcels)
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 3
    text = pdf_text(pdf)
    assert all(p.code in text for p in parcels)


def test_label_pages_answer_pdf_in_scope_and_404_outside(station, other_station, partner_client):
    mine = ParcelFactory(station=station, status=ParcelStatus.RETURN_DUE)
    theirs = ParcelFactory(station=other_station)
    response = partner_client.get(f"/logistics/parcels/{mine.code}/label.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert mine.code in pdf_text(response.content)
    assert partner_client.get(f"/logistics/parcels/{theirs.code}/label.pdf").status_code == 404
    batch = partner_client.get(f"/logistics/stations/{station.code}/labels.pdf")
    assert mine.code in pdf_text(batch.content)
    chosen = partner_client.get(f"/logistics/stations/{station.code}/labels.pdf?codes={mine.code},{theirs.code}")
    assert mine.code in pdf_text(chosen.content) and theirs.code not in pdf_text(chosen.content)
    assert partner_client.get(f"/logistics/stations/{other_station.code}/labels.pdf").status_code == 404
    assert partner_client.get(f"/api/v1/parcels/{mine.code}/label.pdf").status_code == 200


def test_partner_registers_an_outbound_parcel_and_prints_its_label(station, partner_client):
    from cuntao.logistics.models import Parcel

    url = f"/logistics/stations/{station.code}/returns/"
    bad = partner_client.post(url, {"source": "carrier", "addressee_name": "淘宝卖家", "weight_g": "800"})
    assert bad.status_code == 400 and "carrier and its tracking number" in bad.content.decode()
    response = partner_client.post(url, {"source": "external_marketplace", "addressee_name": "淘宝卖家",
                                         "weight_g": "800"})
    parcel = Parcel.objects.get()
    assert (parcel.direction, parcel.station_id, parcel.status) == ("outbound", station.pk, "announced")
    assert response.status_code == 302 and response["Location"] == f"/logistics/parcels/{parcel.code}/"
    page = partner_client.get(response["Location"]).content.decode()
    assert f"/logistics/parcels/{parcel.code}/label.pdf" in page
    text = pdf_text(partner_client.get(f"/logistics/parcels/{parcel.code}/label.pdf").content)
    assert "TO" in text.split("\n") and "WH" in text and "For: 淘宝卖家" in text and parcel.code in text
