"""Road distances and travel times between the county warehouse and its stations.

Two sources, one result (a `TravelMatrix` of whole metres and whole seconds keyed by
place codes):

- coordinates: the great-circle (haversine) distance times the county's road-winding
  factor (village roads wind round hills and fields; 1.3 to 1.6 is usual), driven at a
  given average speed;
- an uploaded CSV for counties that have real road data, in long format::

      from,to,metres,seconds
      WH,S001,12400,1260
      S001,WH,12650,1300
      ...

  One header row exactly ``from,to,metres,seconds`` (any case, spaces ignored), then one
  row per ordered pair of different places. Every place named anywhere must have a row to
  and from every other place (roads may differ by direction, so A->B and B->A are both
  given). Rows from a place to itself may be left out; if given they must be 0. Values
  are non-negative numbers (decimals are rounded to whole metres and seconds). The file
  is UTF-8; a UTF-8 byte-order mark, as spreadsheet programs write, is accepted. Blank
  lines are ignored.

`parse_matrix_csv` rejects a malformed file with a django ValidationError whose messages
each name the line and the reason, and changes nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cuntao.core.errors import DomainError

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG), metres
MAX_MATRIX_PLACES = 600  # 600 x 599 rows: a county warehouse and every station, with room
MAX_REPORTED_ERRORS = 20
CSV_HEADER = ("from", "to", "metres", "seconds")


@dataclass(frozen=True)
class Place:
    """A named point: the county warehouse or a station (latitude/longitude in degrees)."""

    code: str
    lat: float
    lng: float


@dataclass(frozen=True)
class TravelMatrix:
    """Road metres and driving seconds between places, both as whole numbers.

    `metres[i][j]` and `seconds[i][j]` go from `codes[i]` to `codes[j]`.
    """

    codes: tuple[str, ...]
    metres: tuple[tuple[int, ...], ...]
    seconds: tuple[tuple[int, ...], ...]

    def index(self, code: str) -> int:
        try:
            return self._positions()[code]
        except KeyError:
            raise DomainError(
                _("The distance matrix has no place with the code %(code)s.") % {"code": code},
                code="matrix_missing_place",
            ) from None

    def _positions(self) -> dict[str, int]:
        # Frozen dataclass: cache by hand in the instance dict.
        cached = self.__dict__.get("_pos")
        if cached is None:
            cached = {code: i for i, code in enumerate(self.codes)}
            object.__setattr__(self, "_pos", cached)
        return cached

    def restricted_to(self, codes: Sequence[str]) -> TravelMatrix:
        """Return the matrix between `codes` only, in that order.

        A county uploads one matrix for all its stations; a day's plan needs the
        warehouse and the stations that have parcels. A missing code is a DomainError.
        """
        missing = [code for code in codes if code not in self._positions()]
        if missing:
            raise DomainError(
                _("The distance matrix has no row for %(codes)s.") % {"codes": ", ".join(missing)},
                code="matrix_missing_place",
            )
        pos = [self.index(code) for code in codes]
        return TravelMatrix(
            codes=tuple(codes),
            metres=tuple(tuple(self.metres[i][j] for j in pos) for i in pos),
            seconds=tuple(tuple(self.seconds[i][j] for j in pos) for i in pos),
        )


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance in metres between two points given in degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def road_metres(a: Place, b: Place, *, winding: float) -> int:
    """Return the estimated road distance in whole metres: great circle times winding."""
    _check_winding(winding)
    return round(haversine_m(a.lat, a.lng, b.lat, b.lng) * winding)


def travel_seconds(metres: float, *, speed_kmh: float) -> int:
    """Return the whole seconds needed to drive `metres` at an average `speed_kmh`."""
    if not (speed_kmh > 0 and math.isfinite(speed_kmh)):
        raise ValidationError({"speed_kmh": [_("The average speed must be more than 0 km/h.")]})
    return round(metres / (speed_kmh * 1000 / 3600))


def matrix_from_places(
    depot: Place, stops: Iterable[Place], *, winding: float, speed_kmh: float
) -> TravelMatrix:
    """Build the matrix for the depot (first) and `stops`, from their coordinates."""
    _check_winding(winding)
    places = [depot, *stops]
    codes = [p.code for p in places]
    if len(set(codes)) != len(codes):
        raise DomainError(_("Two places share one code."), code="duplicate_place")
    for p in places:
        if not (-90 <= p.lat <= 90 and -180 <= p.lng <= 180):
            raise DomainError(
                _("The place %(code)s has no valid coordinates.") % {"code": p.code},
                code="bad_coordinates",
            )
    metres = [[0 if i == j else road_metres(a, b, winding=winding) for j, b in enumerate(places)]
              for i, a in enumerate(places)]
    seconds = [[travel_seconds(m, speed_kmh=speed_kmh) for m in row] for row in metres]
    return TravelMatrix(
        codes=tuple(codes),
        metres=tuple(map(tuple, metres)),
        seconds=tuple(map(tuple, seconds)),
    )


def _check_winding(winding: float) -> None:
    if not (1.0 <= winding <= 5.0):
        raise ValidationError(
            {"winding": [_("The road-winding factor must be between 1.0 and 5.0.")]}
        )


# --- CSV ---------------------------------------------------------------------------------


def parse_matrix_csv(data: bytes | str, *, field: str = "file") -> TravelMatrix:
    """Parse a long-format distance/time CSV (see the module docstring).

    Raises ValidationError({field: [messages]}), every message naming the line and why,
    at most MAX_REPORTED_ERRORS of them.
    """
    errors: list[str] = []

    def fail(line: int, message: str) -> None:
        errors.append(_("Line %(line)d: %(why)s") % {"line": line, "why": message})

    text = _decode(data, field)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            rows.append((reader.line_num, row))
    except csv.Error as e:
        raise ValidationError({field: [
            _("Line %(line)d: %(why)s") % {"line": reader.line_num + 1,
                                           "why": _("the CSV quoting is broken (%(detail)s).")
                                           % {"detail": str(e)}}
        ]}) from None

    rows = [(n, r) for n, r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ValidationError({field: [_("The file is empty.")]})
    header_line, header = rows[0]
    if tuple(cell.strip().lower() for cell in header) != CSV_HEADER:
        raise ValidationError({field: [_("Line %(line)d: %(why)s") % {
            "line": header_line,
            "why": _("the header must be exactly from,to,metres,seconds, found %(found)s.")
            % {"found": ",".join(header)},
        }]})

    pairs: dict[tuple[str, str], tuple[int, int, int]] = {}  # (from, to) -> (m, s, line)
    codes: dict[str, int] = {}  # code -> first line that names it
    if len(rows) - 1 > MAX_MATRIX_PLACES * MAX_MATRIX_PLACES:
        raise ValidationError({field: [
            _("The file has %(n)d rows; a matrix of at most %(max)d places has fewer.")
            % {"n": len(rows) - 1, "max": MAX_MATRIX_PLACES}]})
    for line, row in rows[1:]:
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
        if len(row) != 4:
            fail(line, _("expected 4 columns (from,to,metres,seconds), found %(n)d.")
                 % {"n": len(row)})
            continue
        src, dst = row[0].strip(), row[1].strip()
        if not src or not dst:
            fail(line, _("the from and to codes must not be empty."))
            continue
        values = []
        for name, cell in (("metres", row[2]), ("seconds", row[3])):
            value = _number(cell)
            if value is None:
                fail(line, _("the %(column)s value %(value)s is not a number.")
                     % {"column": name, "value": repr(cell)})
            elif value < 0:
                fail(line, _("the %(column)s value %(value)s is negative.")
                     % {"column": name, "value": cell.strip()})
            else:
                values.append(round(value))
        if len(values) != 2:
            continue
        if src == dst:
            if values != [0, 0]:
                fail(line, _("a place's distance to itself (%(code)s) must be 0.")
                     % {"code": src})
            codes.setdefault(src, line)
            continue
        if (src, dst) in pairs:
            fail(line, _("the pair %(src)s -> %(dst)s already appeared on line %(first)d.")
                 % {"src": src, "dst": dst, "first": pairs[(src, dst)][2]})
            continue
        pairs[(src, dst)] = (values[0], values[1], line)
        codes.setdefault(src, line)
        codes.setdefault(dst, line)

    if not errors and len(codes) > MAX_MATRIX_PLACES:
        errors.append(_("The file names %(n)d places; at most %(max)d are allowed.")
                      % {"n": len(codes), "max": MAX_MATRIX_PLACES})
    if not errors and len(codes) < 2:
        errors.append(_("The file must name at least two places."))
    if not errors:
        # Shape: every ordered pair of distinct places must be present.
        for src, first_line in codes.items():
            for dst in codes:
                if src != dst and (src, dst) not in pairs:
                    back = pairs.get((dst, src))
                    where = back[2] if back else first_line
                    fail(where, _("there is no row from %(src)s to %(dst)s "
                                  "(every place needs a row to and from every other place).")
                         % {"src": src, "dst": dst})
                    if len(errors) >= MAX_REPORTED_ERRORS:
                        break
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    if errors:
        raise ValidationError({field: errors[:MAX_REPORTED_ERRORS]})

    order = list(codes)
    metres = tuple(tuple(0 if a == b else pairs[(a, b)][0] for b in order) for a in order)
    seconds = tuple(tuple(0 if a == b else pairs[(a, b)][1] for b in order) for a in order)
    return TravelMatrix(codes=tuple(order), metres=metres, seconds=seconds)


def _decode(data: bytes | str, field: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for bom, name in ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
                      (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16")):
        if data.startswith(bom):
            raise ValidationError({field: [
                _("Line 1: the file is saved as %(encoding)s; save it as CSV UTF-8.")
                % {"encoding": name}
            ]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ValidationError({field: [
            _("Line %(line)d: %(why)s") % {
                "line": line,
                "why": _("the file is not UTF-8 text (byte %(byte)s); save it as CSV UTF-8.")
                % {"byte": f"0x{data[e.start]:02x}"},
            }
        ]}) from None


def _number(cell: str) -> float | None:
    try:
        value = float(cell.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None
