"""The daily cash sheet as a printable A4 PDF (reportlab).

Chinese text uses reportlab's built-in CID font STSong-Light, which every PDF reader
supplies, so no font file ships with the app.
"""

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from cuntao.core.money import format_fen
from cuntao.ledger.selectors import CashSheet

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def cash_sheet_pdf(sheet: CashSheet) -> bytes:
    """Render one station-day's cash sheet: movements, totals, what to hand over, signatures."""
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=colors.grey)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, spaceAfter=4)
    strong = ParagraphStyle("strong", parent=body, fontSize=12, leading=16)

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    station = sheet.station
    story = [
        p(_("Daily cash sheet"), title),
        p(_("Station %(name)s (%(code)s), %(village)s, %(county)s")
          % {"name": station.name, "code": station.code, "village": station.village.name,
             "county": station.county.name}),
        p(_("Day: %(day)s") % {"day": sheet.day.isoformat()}),
        Spacer(1, 4 * mm),
    ]
    rows = [[p(_("Time")), p(_("Reason")), p(_("Cause")), p(_("Amount")), p(_("Cash after"))],
            [p(""), p(_("Opening cash")), p(""), p(""), p(format_fen(sheet.opening_fen))]]
    for row in sheet.rows:
        txn = row.entry.transaction
        rows.append([
            p(timezone.localtime(row.entry.created_at).strftime("%H:%M")),
            p(txn.get_kind_display() + (f" / {txn.memo}" if txn.memo else "")),
            p(txn.reference_display),
            p(format_fen(row.amount_fen, signed=True)),
            p(format_fen(row.running_fen)),
        ])
    rows.append([p(""), p(_("Closing cash")), p(""), p(format_fen(sheet.movements_fen, signed=True)),
                 p(format_fen(sheet.closing_fen))])
    table = Table(rows, colWidths=[16 * mm, 62 * mm, 42 * mm, 28 * mm, 28 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("BACKGROUND", (0, -1), (-1, -1), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story += [table, Spacer(1, 5 * mm)]
    for _kind, label, total in sheet.totals:
        story.append(p(f"{label}: {format_fen(total, signed=True)}"))
    if sheet.open_settlement:
        story.append(p(_("Already handed over, waiting to be counted: %(amount)s")
                       % {"amount": format_fen(sheet.open_settlement.declared_fen)}))
    story += [
        Spacer(1, 3 * mm),
        p(_("To hand over to the county: %(amount)s") % {"amount": format_fen(sheet.to_hand_over_fen)}, strong),
        p(_("Opening cash %(opening)s plus the day's movements %(moves)s makes closing cash %(closing)s.")
          % {"opening": format_fen(sheet.opening_fen), "moves": format_fen(sheet.movements_fen, signed=True),
             "closing": format_fen(sheet.closing_fen)}, small),
        Spacer(1, 12 * mm),
        p(_("Partner's signature: ____________    County staff's signature: ____________")),
        Spacer(1, 4 * mm),
        p(_("Printed %(at)s") % {"at": timezone.localtime().strftime("%Y-%m-%d %H:%M")}, small),
    ]
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=_("Daily cash sheet") + f" {station.code} {sheet.day}",
                            author="cuntao")
    doc.build(story)
    return buffer.getvalue()
