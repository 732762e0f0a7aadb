"""Route sheets for the drivers: a printable A4 PDF (reportlab) and a small SVG route picture.

Chinese text uses reportlab's built-in CID font STSong-Light, which every PDF reader
supplies; codes (trucks, stations, parcels) are set in Helvetica so that they print
plainly and can be read back from the file. The SVG is drawn here, inline, with no
external assets: stations by latitude/longitude projected into the box.
"""

from __future__ import annotations

import io
import math
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.html import escape as html_escape
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import (
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from cuntao.logistics.models import RoutePlan
from cuntao.logistics.planning import TruckView

FONT = "STSong-Light"
CODE_FONT = "Helvetica"
# Colour per truck, repeated past eight trucks; dark enough on white paper and screens.
TRUCK_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _local(value) -> str:
    return timezone.localtime(value).strftime("%H:%M") if value else ""


def route_sheet_pdf(*, plan: RoutePlan, trucks: list[TruckView]) -> bytes:
    """Render one A4 page (or more, for a long list) per truck: stops in order, then the loading list."""
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=14)
    code = ParagraphStyle("code", fontName=CODE_FONT, fontSize=10, leading=14)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=colors.grey)
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=22, spaceAfter=4)
    heading = ParagraphStyle("heading", parent=body, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)

    def p(text, style=body):
        return Paragraph(escape(str(text)), style)

    def c(text):
        return Paragraph(escape(str(text)), code)

    grid = TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ])
    story = []
    if not trucks:
        story.append(p(_("This plan has no routes."), title))
    for n, truck in enumerate(trucks):
        if n:
            story.append(PageBreak())
        # The truck's label is set in Helvetica so it prints (and reads back) as plain T1, T2...
        story.append(Paragraph(escape(_("Truck")) + f' <font name="{CODE_FONT}">T{truck.truck_no}</font>', title))
        story.append(p(_("%(county)s, %(date)s") % {"county": plan.county.name, "date": plan.date.isoformat()}))
        story.append(p(_("Leaves the warehouse %(leaves)s, back %(back)s; %(km)s km; %(parcels)d parcels")
                       % {"leaves": _local(truck.departure_at), "back": _local(truck.return_at),
                          "km": truck.distance_km, "parcels": truck.load_parcels}))
        story.append(p(_("Stops in order"), heading))
        rows = [[p(_("Stop")), p(_("Station")), p(_("Name")), p(_("Arrives")), p(_("Parcels")), p(_("Signature"))]]
        for s in truck.stops:
            rows.append([c(s.sequence), c(s.station.code), p(s.station.name), c(_local(s.arrival_at)),
                         c(s.parcels_count), ""])
        story.append(Table(rows, colWidths=[12 * mm, 30 * mm, 55 * mm, 20 * mm, 18 * mm, 35 * mm],
                           style=grid, repeatRows=1))
        story.append(p(_("Loading list (load from the top: the last stop's parcels go in first)"), heading))
        rows = [[p(_("Load")), p(_("Station")), p(_("Parcel codes"))]]
        for k, s in enumerate(truck.loading_order, start=1):
            rows.append([c(k), c(s.station.code), c(" ".join(s.parcel_codes))])
        story.append(Table(rows, colWidths=[14 * mm, 30 * mm, 126 * mm], style=grid, repeatRows=1))
        story.append(Spacer(1, 6 * mm))
        story.append(p(_("Plan #%(id)s, printed %(at)s") % {"id": plan.pk,
                                                           "at": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
                       small))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
                            bottomMargin=15 * mm, title=str(_("Route sheet")), author="cuntao")
    doc.build(story)
    return buffer.getvalue()


def route_svg(*, depot: tuple[float, float], trucks: list[TruckView], width: int = 360, height: int = 260) -> str:
    """Draw the county warehouse, the stations and one polyline per truck; return the <svg> markup."""
    routes = [[(float(s.station.village.lat), float(s.station.village.lon), str(s.sequence),
                f"{s.station.code} {s.station.name}") for s in t.stops] for t in trucks]
    return map_svg(depot=depot, depot_label="WH", depot_title=_("County warehouse"), routes=routes,
                   route_ids=[t.truck_no for t in trucks], width=width, height=height)


def map_svg(*, depot: tuple[float, float], depot_label: str, depot_title: str,
            routes: list[list[tuple[float, float, str, str]]], route_ids: list | None = None,
            width: int = 360, height: int = 260) -> str:
    """Draw a depot and one closed polyline per route through its points; return the <svg> markup.

    A point is (lat, lon, label inside its circle, title on hover). Longitude is scaled
    by cos(latitude) so the picture keeps its shape at the place's latitude; the larger
    span fills the box. Every text is escaped here, so the result may be marked safe.
    """
    pad = 18
    route_ids = route_ids if route_ids is not None else list(range(1, len(routes) + 1))
    points = [depot] + [(p[0], p[1]) for route in routes for p in route]
    lat0 = sum(p[0] for p in points) / len(points)
    kx = math.cos(math.radians(lat0))
    xs = [p[1] * kx for p in points]
    ys = [p[0] for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-6
    scale = min(width - 2 * pad, height - 2 * pad) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def project(lat: float, lon: float) -> tuple[float, float]:
        return (round(width / 2 + (lon * kx - cx) * scale, 1), round(height / 2 - (lat - cy) * scale, 1))

    dx, dy = project(*depot)
    label = html_escape(_("Route picture"))
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
         f'aria-label="{label}" class="route-map">'),
        f'<rect width="{width}" height="{height}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for n, (route, route_id) in enumerate(zip(routes, route_ids)):
        colour = TRUCK_COLOURS[n % len(TRUCK_COLOURS)]
        stops = [project(p[0], p[1]) for p in route]
        path = " ".join(f"{x},{y}" for x, y in [(dx, dy), *stops, (dx, dy)])
        parts.append(f'<polyline data-truck="{html_escape(route_id)}" points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2" stroke-linejoin="round"/>')
        for p, (x, y) in zip(route, stops):
            parts.append(f'<g><title>{html_escape(p[3])}</title>'
                         f'<circle cx="{x}" cy="{y}" r="7" fill="#fff" stroke="{colour}" stroke-width="2"/>'
                         f'<text x="{x}" y="{y + 3.5}" font-size="9" text-anchor="middle" fill="{colour}">'
                         f'{html_escape(p[2])}</text></g>')
    parts.append(f'<g><title>{html_escape(depot_title)}</title>'
                 f'<rect x="{dx - 7}" y="{dy - 7}" width="14" height="14" fill="#333"/>'
                 f'<text x="{dx}" y="{dy + 3.5}" font-size="8" text-anchor="middle" fill="#fff">'
                 f'{html_escape(depot_label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
