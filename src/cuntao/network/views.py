from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.core.panels import station_panels
from cuntao.network import services
from cuntao.network.forms import StationApplicationForm, StationNoteForm, StationOpenForm, VerifyForm
from cuntao.network.models import StationStatus
from cuntao.network.selectors import (
    county_get_for_actor,
    county_summaries,
    station_current_partner,
    station_get_for_actor,
    station_history,
    station_of_partner,
    station_rows_with_partner,
    station_verify,
    villages_without_live_station,
)


def require_staff_scope(request):
    if not request.scope.is_staff_scope:
        raise Http404


def verify(request):
    """Public: is this code an official station? Fake centres once charged joining fees."""
    form = VerifyForm(request.GET or None)
    result = None
    if form.is_valid():
        result = {"code": form.cleaned_data["code"].strip().upper(), "found": station_verify(code=form.cleaned_data["code"])}
    return render(request, "network/verify.html", {"form": form, "result": result})


@login_required
def station_home(request):
    scope = request.scope
    if scope.station_id is None:
        return redirect("home")
    station = station_of_partner(scope=scope)
    panels = [(panel.template, panel.context(request, station)) for panel in station_panels()]
    return render(request, "network/station_home.html", {"station": station, "panels": panels,
                                                         "partner": station_current_partner(station=station)})


@login_required
def county_console(request):
    require_staff_scope(request)
    counties = list(county_summaries(scope=request.scope))
    if len(counties) == 1:
        return redirect("network:county_detail", county_id=counties[0].pk)
    return render(request, "network/county_console.html", {"counties": counties})


@login_required
def county_detail(request, county_id: int):
    require_staff_scope(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    status = request.GET.get("status") or None
    if status not in StationStatus.values:
        status = None
    q = request.GET.get("q", "").strip()[:50]
    rows = station_rows_with_partner(scope=request.scope, county_id=county.pk, status=status, q=q)
    return render(request, "network/county_detail.html", {
        "county": county, "rows": rows, "status": status, "q": q, "statuses": StationStatus.choices,
    })


@login_required
def station_application(request, county_id: int):
    require_staff_scope(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    villages = villages_without_live_station(scope=request.scope, county_id=county.pk)
    form = StationApplicationForm(request.POST or None, villages=villages)
    if request.method == "POST" and form.is_valid():
        try:
            station, partner, password = services.station_apply(scope=request.scope, **form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            return render(request, "network/application_done.html",
                          {"station": station, "partner": partner, "password": password})
    return render(request, "network/station_application.html", {"county": county, "form": form})


@login_required
def station_detail(request, code: str):
    require_staff_scope(request)
    station = station_get_for_actor(scope=request.scope, code=code)
    return render(request, "network/station_detail.html", {
        "station": station, "partner": station_current_partner(station=station),
        "history": station_history(station=station), "open_form": StationOpenForm(), "note_form": StationNoteForm(),
    })


@login_required
@require_POST
def station_action(request, code: str, action: str):
    """One button of the station's life cycle: verify, train, open, suspend, reopen, close."""
    require_staff_scope(request)
    station = station_get_for_actor(scope=request.scope, code=code)
    scope = request.scope
    note = request.POST.get("note", "")[:500]
    try:
        if action == "verify":
            services.partner_verify_identity(scope=scope, station=station)
        elif action == "train":
            services.station_start_training(scope=scope, station=station, note=note)
        elif action == "open":
            form = StationOpenForm(request.POST)
            if not form.is_valid():
                raise ValidationError([message for errors in form.errors.values() for message in errors])
            services.station_open(scope=scope, station=station, contract_start=form.cleaned_data["contract_start"],
                                  contract_end=form.cleaned_data["contract_end"], note=note)
        elif action == "suspend":
            services.station_suspend(scope=scope, station=station, note=note)
        elif action == "reopen":
            services.station_reopen(scope=scope, station=station, note=note)
        elif action == "close":
            services.station_close(scope=scope, station=station, note=note)
        else:
            raise Http404
    except ValidationError as e:
        for message in e.messages:
            messages.error(request, message)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Done."))
    return redirect("network:station_detail", code=station.code)
