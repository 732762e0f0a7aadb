"""The public traceability page a buyer reaches by scanning a box, and the box QR image.

No login. Both the short URI (/b/{code}) and the GS1 Digital Link
(/01/{GTIN}/10/{lot}/21/{serial}) resolve here; a Digital Link whose GTIN or lot does
not match the box is treated as unknown (a copied serial on a wrong label). Each GET
counts a scan with a coarse place: ?city= if the scanning app passes one, and the
client's network (/24 or /48), never its full address.
"""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cuntao.core.errors import NotFound
from cuntao.produce import codes
from cuntao.produce.selectors import STORY_TTL, box_for_trace, trace_story
from cuntao.produce.services import scan_record


def _not_found(request, code: str = ""):
    return render(request, "produce/trace_not_found.html", {"code": code[:40]}, status=404)


def _client_ip(request) -> str:
    # REMOTE_ADDR only: a forwarded header is the client's to forge. Behind a proxy the
    # deployment sets REMOTE_ADDR from the proxy's header (see docs/deploy).
    return request.META.get("REMOTE_ADDR", "")


def _show(request, box, *, via_digital_link: bool):
    if request.method == "GET":
        scan_record(box=box, city=request.GET.get("city", ""), ip=_client_ip(request), via_digital_link=via_digital_link)
    lot = box.graded_lot
    # The lot's story is read only where trace.html's fragment for this lot and language
    # is not cached yet: a warm page renders the box's own lines and two cached strings.
    story = SimpleLazyObject(lambda: trace_story(box=box))
    return render(request, "produce/trace.html", {"box": box, "lot": lot, "standard": lot.standard,
                                                  "cooperative": box.cooperative, "story": story, "story_ttl": STORY_TTL})


@never_cache
@require_GET
def trace_short(request, code: str):
    normal = codes.normalise_box_code(code)
    if normal is None:
        return _not_found(request, code)
    if normal != code:
        return redirect("produce:trace_short", code=normal)
    try:
        box = box_for_trace(code=normal)
    except NotFound:
        return _not_found(request, code)
    return _show(request, box, via_digital_link=False)


@never_cache
@require_GET
def trace_digital_link(request, gtin: str, lot: str, serial: str):
    try:
        box = box_for_trace(code=serial)
    except NotFound:
        return _not_found(request, serial)
    printed = box.pack_size.gtin
    if not printed or printed.zfill(14) != gtin or box.graded_lot.code != lot:
        return _not_found(request, serial)
    return _show(request, box, via_digital_link=True)


@require_GET
def trace_lookup(request):
    """The form on the not-found page: a buyer types the code under the QR."""
    raw = request.GET.get("code", "")
    normal = codes.normalise_box_code(raw)
    if normal is None:
        return _not_found(request, raw)
    return redirect("produce:trace_short", code=normal)


@require_GET
def box_qr(request, code: str):
    """The box's QR as SVG, for the trace page and for printing."""
    try:
        box = box_for_trace(code=code)
    except NotFound:
        return _not_found(request, code)
    response = HttpResponse(codes.qr_svg(codes.box_url(box), scale=6), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
