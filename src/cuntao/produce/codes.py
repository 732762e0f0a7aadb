"""Codes on boxes: GTIN check digits, GS1 Digital Link and short URIs, and their QR.

A box's QR carries an https URL that any phone camera opens. Where the cooperative has
a GS1 company prefix and the pack a GTIN, the URL is a GS1 Digital Link
(/01/{GTIN-14}/10/{lot}/21/{serial}) that GS1-aware scanners also understand; otherwise
it is the short /b/{code}. Both resolve to the same public trace page.
"""

import re
import secrets

import segno
from django.conf import settings
from django.urls import reverse

# Crockford's base32 without I, L, O, U: nothing to misread on a printed label.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BOX_CODE_LENGTH = 10
LOT_TOKEN_LENGTH = 5
# GS1 AI 10 and AI 21 allow up to 20 characters of the "CSET 82" set.
GS1_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$")
BOX_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{BOX_CODE_LENGTH}}}$")


def random_token(length: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_box_code() -> str:
    return random_token(BOX_CODE_LENGTH)


def normalise_box_code(raw: str) -> str | None:
    """The code as stored, from what a person typed (case, O for 0, I/L for 1), or None."""
    text = (raw or "").strip().upper().replace("O", "0").replace("I", "1").replace("L", "1")
    return text if BOX_CODE_RE.match(text) else None


def gtin_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit for the digits before it (GTIN-8/12/13/14, SSCC...).

    From the right, digits are weighted 3, 1, 3, 1...; the check digit brings the sum
    up to a multiple of 10.
    """
    if not body.isdigit():
        raise ValueError("a GTIN is digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_valid_gtin(gtin: str) -> bool:
    return gtin.isdigit() and len(gtin) in (8, 12, 13, 14) and gtin_check_digit(gtin[:-1]) == int(gtin[-1])


def gtin14(gtin: str) -> str:
    """Any valid GTIN padded to the 14 digits of a Digital Link; ValueError if invalid."""
    if not is_valid_gtin(gtin):
        raise ValueError(f"not a valid GTIN: {gtin!r}")
    return gtin.zfill(14)


def make_gtin14(*, company_prefix: str, item_reference: str, indicator: str = "0") -> str:
    """The GTIN-14 of an item: indicator, company prefix, item reference, check digit."""
    body = f"{indicator}{company_prefix}{item_reference}"
    if len(body) != 13 or not body.isdigit():
        raise ValueError("indicator + company prefix + item reference must be 13 digits")
    return body + str(gtin_check_digit(body))


def digital_link_path(*, gtin: str, lot: str, serial: str) -> str:
    if not (GS1_CSET82.match(lot) and GS1_CSET82.match(serial)):
        raise ValueError("lot and serial are 1 to 20 GS1 CSET 82 characters")
    return reverse("produce:trace_digital_link", kwargs={"gtin": gtin14(gtin), "lot": lot, "serial": serial})


def short_path(code: str) -> str:
    return reverse("produce:trace_short", args=[code])


def box_path(box) -> str:
    """The path printed on a box: Digital Link when the cooperative and pack allow it."""
    gtin = box.pack_size.gtin
    if box.cooperative.gs1_company_prefix and gtin and is_valid_gtin(gtin):
        return digital_link_path(gtin=gtin, lot=box.graded_lot.code, serial=box.code)
    return short_path(box.code)


def public_url(path: str) -> str:
    """An absolute URL on the public site (settings.PUBLIC_BASE_URL, else a local default)."""
    base = getattr(settings, "PUBLIC_BASE_URL", "") or "http://127.0.0.1:8000"
    return base.rstrip("/") + path


def box_url(box) -> str:
    return public_url(box_path(box))


def qr_for(url: str):
    """A segno QR of the URL; error level M survives a scuffed box corner."""
    return segno.make(url, error="m", micro=False)


def qr_svg(url: str, *, scale: int = 4) -> str:
    return qr_for(url).svg_inline(scale=scale, border=2)
