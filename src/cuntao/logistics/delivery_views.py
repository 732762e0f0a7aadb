"""Home delivery pages for the partner's phone: choose parcels, ride the stops in order, record each stop."""

import base64
import binascii

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.logistics.delivery import (
    delivery_candidates,
    delivery_run_close,
    delivery_run_create,
    delivery_run_get_for_actor,
    delivery_run_list,
    delivery_stop_deliver,
    delivery_stop_fail,
    delivery_stop_get_for_actor,
    delivery_stops,
    home_location_of,
    run_picture,
)
from cuntao.logistics.forms import DeliveryFailForm, DeliveryProofForm, HandoverCodeForm, HomeLocationForm
from cuntao.logistics.services import home_location_set
from cuntao.network.selectors import station_get_for_actor
from cuntao.villagers.selectors import villager_get_for_actor

MAX_SIGNATURE_BYTES = 2 * 1024 * 1024


def signature_upload(data_url: str):
    """The canvas's PNG data URL as an uploaded file, or None when nothing was drawn."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > MAX_SIGNATURE_BYTES * 4 // 3 + len(prefix):
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
    except (binascii.Error, ValueError):
        return None
    return SimpleUploadedFile("signature.png", raw, content_type="image/png")


@login_required
def delivery_page(request, code: str):
    """Choose today's parcels to ride home; the station's runs below."""
    station = station_get_for_actor(scope=request.scope, code=code)
    error = None
    if request.method == "POST":
        try:
            run = delivery_run_create(scope=request.scope, station=station,
                                      parcel_codes=request.POST.getlist("parcels"))
        except ValidationError as e:
            error = " ".join(e.messages)
        except DomainError as e:
            error = str(e.message)
        else:
            messages.success(request, _("Run planned: %(n)d stops in the best order.") % {"n": run.stops.count()})
            return redirect("logistics:run", run_id=run.pk)
    return render(request, "logistics/delivery.html", {
        "station": station, "error": error,
        "candidates": delivery_candidates(scope=request.scope, station_id=station.pk),
        "runs": delivery_run_list(scope=request.scope, station_id=station.pk)[:10],
    }, status=400 if error else 200)


@login_required
def run_page(request, run_id: int):
    run = delivery_run_get_for_actor(scope=request.scope, run_id=run_id)
    stops = list(delivery_stops(run=run))
    return render(request, "logistics/run.html", {
        "run": run, "stops": stops, "km": f"{run.distance_m / 1000:.1f}",
        "svg": mark_safe(run_picture(run=run, stops=stops)),  # built from escaped parts in sheets.map_svg
    })


@login_required
@require_POST
def run_close(request, run_id: int):
    run = delivery_run_get_for_actor(scope=request.scope, run_id=run_id)
    delivery_run_close(scope=request.scope, run=run)
    messages.success(request, _("Run closed; parcels not delivered are back on the shelf."))
    return redirect("logistics:run", run_id=run.pk)


@login_required
def stop_page(request, run_id: int, sequence: int):
    """One stop on the phone: deliver with the code, a signature or a photo, or say why not."""
    stop = delivery_stop_get_for_actor(scope=request.scope, run_id=run_id, sequence=sequence)
    action = request.POST.get("action") if request.method == "POST" else None
    code_form = HandoverCodeForm(request.POST if action == "code" else None)
    proof_form = DeliveryProofForm(request.POST if action == "proof" else None,
                                   request.FILES if action == "proof" else None)
    fail_form = DeliveryFailForm(request.POST if action == "fail" else None)
    form = {"code": code_form, "proof": proof_form, "fail": fail_form}.get(action)
    if form is not None and form.is_valid():
        try:
            done = _act(request, stop, action, form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            if done:
                return redirect("logistics:run", run_id=stop.run_id)
    return render(request, "logistics/stop.html", {
        "stop": stop, "run": stop.run, "code_form": code_form, "proof_form": proof_form, "fail_form": fail_form,
    }, status=400 if form is not None and form.errors else 200)


def _act(request, stop, action: str, data: dict) -> bool:
    """Do the stop's action; True when the stop is done (a wrong code leaves it open with the message)."""
    scope = request.scope
    if action == "fail":
        delivery_stop_fail(scope=scope, stop=stop, reason=data["reason"], note=data["note"])
        messages.success(request, _("Stop %(n)d: not delivered, noted.") % {"n": stop.sequence})
        return True
    if action == "code":
        outcome = delivery_stop_deliver(scope=scope, stop=stop, method="code", code=data["code"])
        if not outcome.ok:
            raise ValidationError({"code": [outcome.message]})
    else:
        upload = data["photo"] if data["method"] == "photo" else signature_upload(data["signature"])
        delivery_stop_deliver(scope=scope, stop=stop, method=data["method"], proof=upload,
                              receiver_name=data["receiver_name"])
    messages.success(request, _("Stop %(n)d: delivered.") % {"n": stop.sequence})
    return True


@login_required
def home_location_page(request, villager_id: int):
    """Save where a villager lives (typed, or the phone's position at their door)."""
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    home = home_location_of(villager=villager)
    initial = {"lat": home.lat, "lon": home.lon, "note": home.note} if home else None
    form = HomeLocationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            home_location_set(scope=request.scope, villager=villager, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Home location saved for %(name)s.") % {"name": villager.name})
            back = request.POST.get("next", "")
            if back.startswith("/logistics/") and "//" not in back:
                return redirect(back)
            return redirect("logistics:home_location", villager_id=villager.pk)
    return render(request, "logistics/home_location.html", {"villager": villager, "form": form, "home": home,
                                                            "next": request.GET.get("next", "")},
                  status=400 if form.errors else 200)
