"""Printable box labels: A4 sheets of 3 x 7 labels (70 x 42 mm, the common sticker sheet).

Each label carries the box's QR (drawn from segno's module matrix, so the PDF holds
the same code the trace page shows), the brand, grade, net weight, lot and the code
spelled out for typing. Chinese uses reportlab's built-in CID font STSong-Light.
"""

import io

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from cuntao.produce import codes

FONT = "STSong-Light"
COLUMNS, ROWS = 3, 7
LABEL_W, LABEL_H = 70 * mm, A4[1] / ROWS
QR_SIZE = 34 * mm
MAX_LABELS = 2100  # 100 sheets: a bigger run is split by the packing page


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _draw_qr(pdf: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    """Draw the QR's dark modules, one rectangle per horizontal run (fewer PDF operators)."""
    matrix = [list(row) for row in codes.qr_for(url).matrix_iter(scale=1, border=2)]
    module = size / len(matrix)
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                pdf.rect(x + start * module, top, (c - start) * module, module, stroke=0, fill=1)
            else:
                c += 1


def _draw_label(pdf: canvas.Canvas, box, x: float, y: float, font: str) -> None:
    _draw_qr(pdf, codes.box_url(box), x + 2 * mm, y + (LABEL_H - QR_SIZE) / 2, QR_SIZE)
    lot = box.graded_lot
    standard = lot.standard
    brand = standard.brand.name if standard.brand else box.cooperative.name
    text_x = x + QR_SIZE + 4 * mm
    lines = [
        (11, brand),
        (8, f"{lot.grade.name} ({lot.grade.code}) · {box.pack_size.name}"),
        (8, _("Net %(kg)s kg") % {"kg": f"{box.net_weight_g / 1000:g}"}),
        (7, _("Lot %(lot)s") % {"lot": lot.code}),
        (7, _("Packed %(day)s") % {"day": box.packed_on.isoformat()}),
        (10, box.code),
    ]
    line_y = y + LABEL_H - 8 * mm
    for size, text in lines:
        pdf.setFont(font, size)
        pdf.drawString(text_x, line_y, text[:40])
        line_y -= size * 0.45 * mm + 2 * mm


def label_sheet_pdf(boxes) -> bytes:
    """Render the boxes' labels, 21 to an A4 page, in the order given."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(_("Box labels"))
    per_page = COLUMNS * ROWS
    margin_x = (A4[0] - COLUMNS * LABEL_W) / 2
    for i, box in enumerate(boxes[:MAX_LABELS]):
        if i and i % per_page == 0:
            pdf.showPage()
        slot = i % per_page
        col, row = slot % COLUMNS, slot // COLUMNS
        _draw_label(pdf, box, margin_x + col * LABEL_W, A4[1] - (row + 1) * LABEL_H, font)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
