"""Parcel labels for a 100 x 150 mm thermal printer (reportlab): Code 128 barcode, where it goes in large print.

One page per parcel. The barcode carries our CT code, so the warehouse and station
scanners read it like any carrier's label; under it the code in plain letters for a
phone without a scanner. The destination fills the top third: the station code and
village for a parcel going to a villager, the county warehouse for a return or an
outbound parcel. Chinese text is set in the built-in CID font STSong-Light (no font
file to ship); codes in Helvetica so they can be read back from the file.
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from cuntao.logistics.models import Direction, Parcel, ParcelStatus
from cuntao.logistics.sheets import CODE_FONT, _font

LABEL_SIZE = (100 * mm, 150 * mm)
MARGIN = 5 * mm
MAX_LABELS = 200  # one print batch


def _returning(parcel: Parcel) -> bool:
    return parcel.status in (ParcelStatus.RETURN_DUE, ParcelStatus.RETURNED)


def _goes_to_warehouse(parcel: Parcel) -> bool:
    """A return, or a parcel sent out from the village: the county warehouse takes it first."""
    return parcel.direction == Direction.OUTBOUND or _returning(parcel)


def _fit(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    """The largest size up to `size` at which `text` fits in `width`."""
    measured = c.stringWidth(text, font, size)
    return size if measured <= width else max(size * width / measured, 6)


def _label(c: canvas.Canvas, parcel: Parcel) -> None:
    width, height = LABEL_SIZE
    inner = width - 2 * MARGIN
    cjk = _font()
    station, village = parcel.station, parcel.station.village
    y = height - MARGIN

    # Where it goes, biggest first.
    if _goes_to_warehouse(parcel):
        heading = _("RETURN TO") if _returning(parcel) else _("TO")
        big, under = "WH", _("%(county)s county warehouse") % {"county": parcel.county.name}
        sender = _("From %(station)s %(village)s") % {"station": station.code, "village": village.name}
    else:
        heading, big, under = _("TO STATION"), station.code, village.name
        sender = parcel.carrier or _("County warehouse")
    c.setFont(cjk, 10)
    y -= 10
    c.drawString(MARGIN, y, heading)
    size = _fit(c, big, CODE_FONT + "-Bold", 44, inner)
    y -= size
    c.setFont(CODE_FONT + "-Bold", size)
    c.drawString(MARGIN, y, big)
    size = _fit(c, under, cjk, 28, inner)
    y -= size + 2
    c.setFont(cjk, size)
    c.drawString(MARGIN, y, under)
    y -= 6 * mm
    c.setLineWidth(1.2)
    c.line(MARGIN, y, width - MARGIN, y)

    # The barcode, as wide as the label allows: a thermal printer's 0.25 mm dots need bars of 2 dots or more.
    barcode = Code128(parcel.code, barHeight=22 * mm, barWidth=0.5 * mm, humanReadable=False, quiet=True)
    if barcode.width > inner:
        barcode = Code128(parcel.code, barHeight=22 * mm, barWidth=0.5 * mm * inner / barcode.width,
                          humanReadable=False, quiet=True)
    y -= 4 * mm + barcode.height
    barcode.drawOn(c, (width - barcode.width) / 2, y)
    y -= 8 * mm
    c.setFont(CODE_FONT + "-Bold", 18)
    c.drawCentredString(width / 2, y, parcel.code)
    y -= 4 * mm
    c.line(MARGIN, y, width - MARGIN, y)

    # Who and what, small.
    c.setFont(cjk, 11)
    lines = []
    if not _returning(parcel):
        lines.append(_("For: %(name)s") % {"name": parcel.addressee_name or "-"})
    lines.append(sender)
    if parcel.carrier_tracking_no:
        lines.append(f"{parcel.carrier} {parcel.carrier_tracking_no}")
    if parcel.weight_g:
        lines.append(_("Weight: %(kg)s kg") % {"kg": f"{parcel.weight_g / 1000:.1f}"})
    if parcel.is_large_item:
        lines.append(_("LARGE ITEM"))
    if parcel.order_ref:
        lines.append(_("Order %(ref)s") % {"ref": parcel.order_ref})
    for line in lines:
        y -= 15
        c.setFont(cjk, _fit(c, line, cjk, 11, inner))
        c.drawString(MARGIN, y, line)
    c.setFont(cjk, 7)
    c.drawString(MARGIN, MARGIN, _("Printed %(at)s") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")})


def parcel_labels_pdf(*, parcels: list[Parcel]) -> bytes:
    """One 100 x 150 mm page per parcel, in the order given."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=LABEL_SIZE, pageCompression=1)
    c.setTitle(str(_("Parcel labels")))
    c.setAuthor("cuntao")
    for parcel in parcels:
        _label(c, parcel)
        c.showPage()
    c.save()
    return buffer.getvalue()
