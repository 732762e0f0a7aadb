"""The county route page: fleet settings, road matrix upload, planning, confirming, route sheets."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError, NotFound
from cuntao.core.forms import add_service_errors
from cuntao.logistics.models import CountyFleet
from cuntao.logistics.planning import (
    FLEET_FIELDS,
    county_fleet_set,
    county_for_routes,
    county_matrix_upload,
    county_sorted_summary,
    fleet_for_county,
    route_plan_confirm,
    route_plan_create,
    route_plan_get_for_actor,
    route_plan_latest,
    route_plan_trucks,
    travel_matrix_latest,
)
from cuntao.logistics.sheets import route_sheet_pdf, route_svg

# What the page's "plan today's routes" button gives the solver; tests lower it.
PAGE_TIME_LIMIT_S = 5.0
MAX_UPLOAD_BYTES = 8 * 1024 * 1024


class FleetForm(forms.ModelForm):
    class Meta:
        model = CountyFleet
        fields = FLEET_FIELDS
        widgets = {"leaves_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "returns_by": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}


class MatrixUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Distance/time matrix (CSV: from,to,metres,seconds)"))


def _page(request, county, *, fleet_form=None, matrix_form=None, plan_error=None, status=200):
    fleet = fleet_for_county(county=county)
    plan = route_plan_latest(scope=request.scope, county_id=county.pk)
    trucks = route_plan_trucks(plan=plan) if plan else []
    svg = route_svg(depot=(float(county.warehouse_lat), float(county.warehouse_lon)), trucks=trucks) if trucks else ""
    return render(request, "logistics/routes.html", {
        "county": county,
        "fleet_form": fleet_form or FleetForm(instance=fleet),
        "matrix_form": matrix_form or MatrixUploadForm(),
        "matrix": travel_matrix_latest(county=county),
        "waiting": county_sorted_summary(county=county),
        "plan": plan, "trucks": trucks, "svg": mark_safe(svg),  # built from escaped parts in sheets.route_svg
        "plan_error": plan_error, "today": timezone.localdate(),
    }, status=status)


@login_required
def routes_page(request, county_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    return _page(request, county)


@login_required
@require_POST
def fleet_save(request, county_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    form = FleetForm(request.POST, instance=fleet_for_county(county=county))
    if form.is_valid():
        try:
            county_fleet_set(scope=request.scope, county=county,
                             **{name: form.cleaned_data[name] for name in FLEET_FIELDS})
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Fleet settings saved."))
            return redirect("logistics:routes", county_id=county.pk)
    return _page(request, county, fleet_form=form, status=400)


@login_required
@require_POST
def matrix_upload(request, county_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    form = MatrixUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            form.add_error("file", _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
        else:
            try:
                matrix = county_matrix_upload(scope=request.scope, county=county, data=upload.read(),
                                              file_name=upload.name)
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(request, ngettext("Matrix saved: %(n)d place.", "Matrix saved: %(n)d places.",
                                                   matrix.places) % {"n": matrix.places})
                return redirect("logistics:routes", county_id=county.pk)
    return _page(request, county, matrix_form=form, status=400)


@login_required
@require_POST
def plan_today(request, county_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    try:
        route_plan_create(scope=request.scope, county=county, date=timezone.localdate(),
                          time_limit_s=PAGE_TIME_LIMIT_S)
    except ValidationError as e:
        return _page(request, county, plan_error=" ".join(e.messages), status=400)
    except DomainError as e:
        return _page(request, county, plan_error=str(e.message), status=e.status)
    messages.success(request, _("Today's routes are planned. Check them, then confirm to load the trucks."))
    return redirect("logistics:routes", county_id=county.pk)


@login_required
@require_POST
def plan_confirm(request, county_id: int, plan_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    plan = route_plan_get_for_actor(scope=request.scope, plan_id=plan_id)
    if plan.county_id != county.pk:
        raise NotFound(detail="route plan")  # another county's plan looks like a missing one
    try:
        _plan, dispatched = route_plan_confirm(scope=request.scope, plan=plan)
    except DomainError as e:
        return _page(request, county, plan_error=str(e.message), status=e.status)
    messages.success(request, ngettext("Plan confirmed: %(n)d parcel is on the trucks.",
                                       "Plan confirmed: %(n)d parcels are on the trucks.", dispatched)
                     % {"n": dispatched})
    return redirect("logistics:routes", county_id=county.pk)


@login_required
def plan_pdf(request, county_id: int, plan_id: int):
    county = county_for_routes(scope=request.scope, county_id=county_id)
    plan = route_plan_get_for_actor(scope=request.scope, plan_id=plan_id)
    if plan.county_id != county.pk:
        raise NotFound(detail="route plan")
    pdf = route_sheet_pdf(plan=plan, trucks=route_plan_trucks(plan=plan))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="routes-{county.code}-{plan.date.isoformat()}-{plan.pk}.pdf"'
    return response
