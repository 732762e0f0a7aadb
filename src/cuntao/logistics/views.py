from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError, NotFound
from cuntao.core.forms import add_service_errors
from cuntao.logistics.api import track_data
from cuntao.logistics.conf import remind_after_days
from cuntao.logistics.forms import (
    HandoverCodeForm,
    HandoverIdentityForm,
    OutboundParcelForm,
    ReturnReasonForm,
    ShelfCapacityForm,
    StationScanForm,
    WarehouseScanForm,
)
from cuntao.logistics.labels import MAX_LABELS, parcel_labels_pdf
from cuntao.logistics.models import Direction
from cuntao.logistics.selectors import (
    discrepancy_list,
    parcel_event_proof_for_actor,
    parcel_events,
    parcel_get_for_actor,
    parcel_list,
    station_expected,
    station_open_receipt,
    station_parcel_counts,
    station_returns,
    station_shelf,
)
from cuntao.logistics.services import (
    handover_with_code,
    handover_with_identity,
    parcel_mark_for_return,
    parcel_register,
    parcel_return_send,
    station_receipt_close,
    station_receive_scan,
    station_shelf_set,
    warehouse_scan,
)
from cuntao.network.selectors import station_get_for_actor

# How the scanning pages colour an outcome: green goes on, red needs a hand.
GOOD_OUTCOMES = ("sorted", "received")


@login_required
def warehouse_page(request):
    """The county warehouse's scanning page: one input, a scanner types and presses Enter.

    With JavaScript every scan is posted to the API with its own Idempotency-Key and the
    page never reloads; without it, this form posts here.
    """
    if not request.scope.is_staff_scope:
        raise NotFound(detail="page")
    form = WarehouseScanForm(request.POST or None)
    result = error = None
    if request.method == "POST" and form.is_valid():
        try:
            result = warehouse_scan(scope=request.scope, code_or_tracking_number=form.cleaned_data["code"],
                                    damaged=form.cleaned_data["damaged"])
        except ValidationError as e:
            add_service_errors(form, e)
        except DomainError as e:
            error = {"outcome": "unknown" if e.code == "unknown_parcel" else "error", "message": e.message}
        form = WarehouseScanForm()  # an empty input for the next scan
    return render(request, "logistics/warehouse.html", {"form": form, "result": result, "error": error,
                                                        "good": GOOD_OUTCOMES})


@login_required
def station_receipt(request, code: str):
    """The partner scans the truck's parcels in; expected, arrived and missing below."""
    station = station_get_for_actor(scope=request.scope, code=code)
    shelf = request.POST.get("shelf_position", "") if request.method == "POST" else ""
    form = StationScanForm(request.POST or None)
    result = error = None
    if request.method == "POST" and form.is_valid():
        try:
            result = station_receive_scan(scope=request.scope, station=station,
                                          code_or_tracking_number=form.cleaned_data["code"],
                                          shelf_position=form.cleaned_data["shelf_position"])
        except ValidationError as e:
            add_service_errors(form, e)
        except DomainError as e:
            error = {"outcome": e.code, "message": e.message}
        else:
            form = StationScanForm(initial={"shelf_position": shelf})
    receipt = station_open_receipt(scope=request.scope, station_id=station.pk)
    today = timezone.localdate()
    arrived = parcel_list(scope=request.scope, station_id=station.pk).filter(
        arrived_at_station_at__date=today).order_by("-arrived_at_station_at")
    return render(request, "logistics/receipt.html", {
        "station": station, "form": form, "result": result, "error": error, "good": GOOD_OUTCOMES,
        "expected": station_expected(scope=request.scope, station_id=station.pk),
        "arrived": arrived, "receipt": receipt,
        "discrepancies": discrepancy_list(scope=request.scope, station_id=station.pk)[:30],
    })


@login_required
@require_POST
def station_receipt_close_view(request, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    receipt = station_receipt_close(scope=request.scope, station=station)
    missing = receipt.discrepancies.filter(kind="missing").count()
    messages.success(request, ngettext("Receipt closed; %(missing)s parcel missing reported to the county.",
                                       "Receipt closed; %(missing)s parcels missing reported to the county.",
                                       missing) % {"missing": missing})
    return redirect("logistics:receipt", code=station.code)


@login_required
def station_shelf_page(request, code: str):
    """What waits on the shelf, oldest first; the shelf's capacity, and a warning past it."""
    station = station_get_for_actor(scope=request.scope, code=code)
    form = ShelfCapacityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            station_shelf_set(scope=request.scope, station=station, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Shelf capacity saved."))
            return redirect("logistics:shelf", code=station.code)
    counts = station_parcel_counts(scope=request.scope, station_id=station.pk)
    if not form.is_bound:
        form = ShelfCapacityForm(initial={"capacity_parcels": counts["capacity"]})
    shelf = station_shelf(scope=request.scope, station_id=station.pk).select_related("villager")
    days = remind_after_days()
    return render(request, "logistics/shelf.html", {"station": station, "shelf": shelf, "counts": counts,
                                                    "form": form, "long_days": days,
                                                    "long_before": timezone.now() - timedelta(days=days)},
                  status=400 if form.errors else 200)


@login_required
def station_returns_page(request, code: str):
    """The return list: parcels uncollected too long or refused, to give the driver; labels to print.

    Below it the partner registers a parcel a villager sends out, and prints its label.
    """
    station = station_get_for_actor(scope=request.scope, code=code)
    form = OutboundParcelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            parcel = parcel_register(scope=request.scope, station=station, direction=Direction.OUTBOUND,
                                     **form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Parcel %(code)s registered: print its label.") % {"code": parcel.code})
            return redirect("logistics:parcel", code=parcel.code)
    return render(request, "logistics/returns.html", {
        "station": station, "returns": station_returns(scope=request.scope, station_id=station.pk), "form": form,
    }, status=400 if form.errors else 200)


@login_required
@require_POST
def parcel_return_send_view(request, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    try:
        parcel_return_send(scope=request.scope, parcel=parcel)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Parcel %(code)s given to the driver.") % {"code": parcel.code})
    return redirect("logistics:returns", code=parcel.station.code)


@login_required
@require_POST
def parcel_mark_for_return_view(request, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    form = ReturnReasonForm(request.POST)
    if form.is_valid():
        try:
            parcel_mark_for_return(scope=request.scope, parcel=parcel, reason=form.cleaned_data["reason"])
        except (ValidationError, DomainError) as e:
            messages.error(request, " ".join(e.messages) if isinstance(e, ValidationError) else e.message)
        else:
            messages.success(request, _("Parcel %(code)s is on the return list.") % {"code": parcel.code})
            return redirect("logistics:returns", code=parcel.station.code)
    else:
        messages.error(request, _("Write why the parcel goes back."))
    return redirect("logistics:parcel", code=parcel.code)


def _pdf(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@login_required
def parcel_label(request, code: str):
    """One 100 x 150 mm label for a thermal printer."""
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    return _pdf(parcel_labels_pdf(parcels=[parcel]), f"label-{parcel.code}.pdf")


@login_required
def station_labels(request, code: str):
    """A batch of labels: the parcels named by ?codes=A,B,... or, without it, the whole return list."""
    station = station_get_for_actor(scope=request.scope, code=code)
    codes = [c.strip().upper() for c in request.GET.get("codes", "").split(",") if c.strip()][:MAX_LABELS]
    if codes:
        found = {p.code: p for p in parcel_list(scope=request.scope, station_id=station.pk).filter(code__in=codes)
                 .select_related("station__village", "county")}
        parcels = [found[c] for c in codes if c in found]
    else:
        parcels = list(station_returns(scope=request.scope, station_id=station.pk)
                       .select_related("station__village", "county")[:MAX_LABELS])
    if not parcels:
        raise NotFound(detail="parcels")
    return _pdf(parcel_labels_pdf(parcels=parcels), f"labels-{station.code}.pdf")


@login_required
def proof_file(request, event_id: int):
    """A hand-over's signature or photo, to whoever may see the parcel."""
    event = parcel_event_proof_for_actor(scope=request.scope, event_id=event_id)
    try:
        handle = event.proof.open("rb")
    except FileNotFoundError:
        raise NotFound(detail="proof file") from None  # the media folder lost it; the event stands
    return FileResponse(handle, content_type="image/png" if event.proof.name.endswith(".png") else "image/jpeg")


@login_required
def parcel_detail(request, code: str):
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    return render(request, "logistics/parcel.html", {"parcel": parcel, "events": parcel_events(parcel=parcel),
                                                     "return_form": ReturnReasonForm()})


@login_required
def handover_page(request, code: str):
    """Hand over with the villager's pickup code, or after checking their identity."""
    parcel = parcel_get_for_actor(scope=request.scope, code=code)
    by_identity = request.POST.get("method") == "identity"
    code_form = HandoverCodeForm(request.POST if request.method == "POST" and not by_identity else None)
    identity_form = HandoverIdentityForm(request.POST if by_identity else None)
    form = identity_form if by_identity else code_form
    if request.method == "POST" and form.is_valid():
        try:
            if by_identity:
                parcel = handover_with_identity(scope=request.scope, parcel=parcel, **form.cleaned_data)
            else:
                outcome = handover_with_code(scope=request.scope, parcel=parcel, code=form.cleaned_data["code"])
                if not outcome.ok:
                    form.add_error("code", outcome.message)
                parcel = outcome.parcel
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        if not form.errors:
            messages.success(request, _("Parcel %(code)s handed over.") % {"code": parcel.code})
            return redirect("logistics:shelf", code=parcel.station.code)
    return render(request, "logistics/handover.html", {"parcel": parcel, "code_form": code_form,
                                                       "identity_form": identity_form})


def track_page(request, token: str):
    """The public tracking link: no login, no names, tiny HTML for a slow phone."""
    return render(request, "logistics/track.html", {"track": track_data(token)})
