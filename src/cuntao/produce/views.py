"""Pages for partners (farm records on a phone), inspectors and county staff (lots, packing)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError, NotFound
from cuntao.core.forms import add_service_errors
from cuntao.network.selectors import county_get_for_actor, village_list
from cuntao.produce import forms, labels, services
from cuntao.produce.models import InspectionCheckpoint, LotStatus, PackSize, ViolationStatus
from cuntao.produce.selectors import (
    assignments_in_scope,
    box_list,
    contributions_of,
    cooperative_get_for_actor,
    cooperative_list,
    graded_lot_get_for_actor,
    graded_lot_list,
    harvest_lot_list,
    harvest_lots_for_grading,
    inspector_cooperative_ids,
    inspector_plot_get,
    inspector_plots,
    inspector_violation_get,
    member_list,
    plot_calendar,
    plot_get_for_actor,
    plot_list,
    prefetch_for_labels,
    record_list,
    standard_for,
    standard_list,
    suspect_boxes,
    violation_list,
)


def _require_staff(request) -> None:
    if not request.scope.is_staff_scope:
        raise NotFound(detail="staff page")


def _run(request, form, action) -> bool:
    """Call the service; put its refusal on the form. True when it went through."""
    try:
        action()
    except NotFound:
        raise
    except (ValidationError, DomainError) as error:
        add_service_errors(form, error)
    else:
        return True
    return False


# --- home ---------------------------------------------------------------------------------

@login_required
def produce_home(request):
    """Cooperatives in scope; a partner's plots; an inspector's assigned plots."""
    scope = request.scope
    context = {
        "cooperatives": list(cooperative_list(scope=scope)) if scope.is_staff_scope else [],
        "plots": list(plot_list(scope=scope)[:200]) if scope.is_partner else [],
        "inspecting": bool(inspector_cooperative_ids(scope=scope)),
    }
    if not (context["cooperatives"] or context["plots"] or context["inspecting"]):
        context["nothing"] = True
    return render(request, "produce/home.html", context)


# --- partner: plot and its records ---------------------------------------------------------

RECORD_FORMS = {"input": forms.InputAppliedForm, "task": forms.TaskDoneForm, "observation": forms.ObservationForm,
                "harvest": forms.HarvestForm}


def _plot_forms(plot, data=None, files=None, kind=None):
    today = timezone.localdate()
    standard = standard_for(cooperative_id=plot.cooperative_id, crop=plot.crop, on=today)
    tasks = list(standard.sop_tasks.all()) if standard else []
    made = {}
    for name, form_class in RECORD_FORMS.items():
        bound = (data, files) if name == kind else (None, None)
        kwargs = {"tasks": tasks} if name == "task" else {}
        made[name] = form_class(*bound, prefix=name, **kwargs) if bound[0] is not None else form_class(prefix=name, **kwargs)
    return standard, made


def _save_record(request, plot, kind: str, form) -> bool:
    data, scope = form.cleaned_data, request.scope
    actions = {
        "input": lambda: services.record_input_applied(scope=scope, plot=plot, input_name=data["input_name"],
                                                       dose_total=data["dose_total"], dose_unit=data["dose_unit"],
                                                       applied_on=data["applied_on"], note=data["note"], photos=data["photos"]),
        "task": lambda: services.record_task_done(scope=scope, plot=plot, sop_task_id=data["sop_task_id"],
                                                  done_on=data["done_on"], note=data["note"], photos=data["photos"]),
        "observation": lambda: services.record_observation(scope=scope, plot=plot, observed_on=data["observed_on"],
                                                           note=data["note"], photos=data["photos"]),
        "harvest": lambda: services.record_harvest(scope=scope, plot=plot, kg=data["kg"],
                                                   harvested_on=data["harvested_on"], note=data["note"]),
    }
    return _run(request, form, actions[kind])


@login_required
def plot_detail(request, plot_id: int):
    plot = plot_get_for_actor(scope=request.scope, plot_id=plot_id)
    kind = request.POST.get("kind") if request.method == "POST" else None
    if kind is not None and kind not in RECORD_FORMS:
        kind = None
    standard, record_forms = _plot_forms(plot, request.POST if kind else None, request.FILES if kind else None, kind)
    status = 200
    if kind:
        form = record_forms[kind]
        if form.is_valid() and _save_record(request, plot, kind, form):
            messages.success(request, _("Recorded."))
            return redirect("produce:plot_detail", plot_id=plot.pk)
        status = 400
    records = list(record_list(scope=request.scope, plot_id=plot.pk)[:50])
    return render(request, "produce/plot.html", {
        "plot": plot, "standard": standard, "forms": record_forms, "open_kind": kind, "records": records,
        "calendar": plot_calendar(plot=plot, on=timezone.localdate()),
        "violations": list(plot.violations.filter(status=ViolationStatus.OPEN)),
    }, status=status)


# --- inspectors -------------------------------------------------------------------------------

@login_required
def inspect_index(request):
    plots = list(inspector_plots(scope=request.scope)[:300])
    if not inspector_cooperative_ids(scope=request.scope):
        raise NotFound(detail="not an inspector")
    return render(request, "produce/inspect_index.html", {"plots": plots})


@login_required
def inspect_plot(request, plot_id: int):
    plot = inspector_plot_get(scope=request.scope, plot_id=plot_id)
    checkpoints = list(InspectionCheckpoint.objects.filter(standard__cooperative_id=plot.cooperative_id,
                                                           standard__status="published").order_by("order", "pk"))
    form = forms.InspectionForm(request.POST or None, request.FILES or None, checkpoints=checkpoints, prefix="i")
    status = 200
    if request.method == "POST":
        if form.is_valid() and _run(request, form, lambda: services.inspection_record(
                scope=request.scope, plot=plot, checkpoint_id=form.cleaned_data["checkpoint_id"],
                result=form.cleaned_data["result"], inspected_on=form.cleaned_data["inspected_on"],
                note=form.cleaned_data["note"], photos=form.cleaned_data["photos"])):
            messages.success(request, _("Inspection recorded."))
            return redirect("produce:inspect_plot", plot_id=plot.pk)
        status = 400
    return render(request, "produce/inspect_plot.html", {
        "plot": plot, "form": form, "clear_form": forms.ClearViolationForm(),
        "violations": list(plot.violations.order_by("status", "-found_at")),
        "inspections": list(plot.inspections.select_related("checkpoint").order_by("-inspected_on", "-pk")[:20]),
        "records": list(plot.records.order_by("-occurred_on", "-pk")[:20]),
    }, status=status)


@login_required
@require_POST
def violation_clear_view(request, violation_id: int):
    violation = inspector_violation_get(scope=request.scope, violation_id=violation_id)
    form = forms.ClearViolationForm(request.POST)
    if form.is_valid():
        try:
            services.violation_clear(scope=request.scope, violation=violation, note=form.cleaned_data["note"])
            messages.success(request, _("Violation cleared."))
        except (ValidationError, DomainError) as error:
            messages.error(request, getattr(error, "message", None) or "; ".join(error.messages))
    else:
        messages.error(request, _("Say why the violation is cleared."))
    return redirect("produce:inspect_plot", plot_id=violation.plot_id)


# --- county staff: cooperative, grading, packing, labels, suspects -----------------------------

@login_required
def cooperative_detail(request, slug: str):
    _require_staff(request)
    coop = cooperative_get_for_actor(scope=request.scope, slug=slug)
    scope = request.scope
    assign_form = forms.AssignInspectorForm(request.POST or None)
    if request.method == "POST" and assign_form.is_valid():
        user = get_user_model().objects.filter(username=assign_form.cleaned_data["username"], is_active=True).first()
        if user is None:
            assign_form.add_error("username", _("No active user has this name."))
        elif _run(request, assign_form, lambda: services.inspector_assign(scope=scope, user=user, cooperative=coop)):
            messages.success(request, _("Inspector assigned."))
            return redirect("produce:cooperative_detail", slug=coop.slug)
    return render(request, "produce/cooperative.html", {
        "coop": coop,
        "standards": list(standard_list(scope=scope, cooperative_id=coop.pk)),
        "plots": list(plot_list(scope=scope, cooperative_id=coop.pk)[:300]),
        "violations": list(violation_list(scope=scope, cooperative_id=coop.pk, status=ViolationStatus.OPEN)[:50]),
        "harvest_lots": list(harvest_lot_list(scope=scope, cooperative_id=coop.pk, status=LotStatus.OPEN)[:100]),
        "graded_lots": list(graded_lot_list(scope=scope, cooperative_id=coop.pk)[:50]),
        "assignments": list(assignments_in_scope(scope=scope).filter(cooperative=coop)),
        "assign_form": assign_form,
    }, status=400 if assign_form.errors else 200)


@login_required
def enrol(request, slug: str):
    """Enrol a farmer or register a plot (county staff)."""
    _require_staff(request)
    scope = request.scope
    coop = cooperative_get_for_actor(scope=scope, slug=slug)
    villages = list(village_list(scope=scope, county_id=coop.county_id))
    members = list(member_list(scope=scope, cooperative_id=coop.pk))
    which = request.POST.get("which") if request.method == "POST" else None
    member_form = forms.MemberForm(request.POST if which == "member" else None, villages=villages, prefix="m")
    plot_form = forms.PlotForm(request.POST if which == "plot" else None, members=members, prefix="p")
    if which == "member" and member_form.is_valid():
        data = member_form.cleaned_data
        village = next(v for v in villages if v.pk == data["village_id"])
        if _run(request, member_form, lambda: services.member_add(
                scope=scope, cooperative=coop, village=village, name=data["name"], phone=data["phone"],
                show_name_publicly=data["show_name_publicly"], show_photo_publicly=data["show_photo_publicly"])):
            messages.success(request, _("Farmer enrolled."))
            return redirect("produce:enrol", slug=coop.slug)
    if which == "plot" and plot_form.is_valid():
        data = plot_form.cleaned_data
        member = next(m for m in members if m.pk == data["member_id"])
        if _run(request, plot_form, lambda: services.plot_add(
                scope=scope, member=member, name=data["name"], lat=data["lat"], lon=data["lon"], area_mu=data["area_mu"],
                crop=data["crop"])):
            messages.success(request, _("Plot registered."))
            return redirect("produce:enrol", slug=coop.slug)
    failed = member_form.errors or plot_form.errors
    return render(request, "produce/enrol.html", {"coop": coop, "member_form": member_form, "plot_form": plot_form},
                  status=400 if failed else 200)


@login_required
def grading_new(request, slug: str):
    _require_staff(request)
    coop = cooperative_get_for_actor(scope=request.scope, slug=slug)
    open_lots = list(harvest_lot_list(scope=request.scope, cooperative_id=coop.pk, status=LotStatus.OPEN)[:300])
    standard = open_lots[0].standard if open_lots else None
    grades = list(standard.grades.all()) if standard else []
    form = forms.GradingForm(request.POST or None, lots=open_lots, grades=grades)
    if request.method == "POST" and form.is_valid():
        def grade():
            lots = harvest_lots_for_grading(scope=request.scope, codes=form.cleaned_data["harvest_lots"])
            return services.grading_record(scope=request.scope, harvest_lots=lots, grade_kg=form.grade_kg(),
                                           samples=forms.parse_samples(form.cleaned_data["samples"]),
                                           graded_on=form.cleaned_data["graded_on"])
        if _run(request, form, grade):
            messages.success(request, _("Graded."))
            return redirect("produce:cooperative_detail", slug=coop.slug)
    return render(request, "produce/grading.html", {"coop": coop, "form": form, "grades": grades},
                  status=400 if form.errors else 200)


@login_required
def graded_lot_detail(request, code: str):
    _require_staff(request)
    lot = graded_lot_get_for_actor(scope=request.scope, code=code)
    packs = list(PackSize.objects.filter(standard_id=lot.standard_id, grade_id=lot.grade_id))
    form = forms.PackingForm(request.POST or None, packs=packs)
    if request.method == "POST" and form.is_valid():
        pack = next(p for p in packs if p.pk == form.cleaned_data["pack_size_id"])
        if _run(request, form, lambda: services.packing_record(scope=request.scope, graded_lot=lot, pack_size=pack,
                                                               box_count=form.cleaned_data["box_count"],
                                                               packed_on=form.cleaned_data["packed_on"])):
            messages.success(request, _("Packed."))
            return redirect("produce:graded_lot_detail", code=lot.code)
    return render(request, "produce/graded_lot.html", {
        "lot": lot, "form": form, "packings": list(lot.packings.select_related("pack_size").order_by("-pk")),
        "contributions": list(contributions_of(graded_lot=lot)),
        "blocked": bool(services.blocked_plots(graded_lot=lot)),
    }, status=400 if form.errors else 200)


@login_required
def packing_labels(request, code: str):
    """The packing's box labels as a printable PDF."""
    _require_staff(request)
    boxes = list(prefetch_for_labels(box_list(scope=request.scope).filter(packing__code=code)))
    if not boxes:
        raise NotFound(detail="packing")
    response = HttpResponse(labels.label_sheet_pdf(boxes), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-{code}.pdf"'
    return response


@login_required
def county_suspect_boxes(request, county_id: int):
    """Boxes whose codes may have been copied, for the county's staff."""
    _require_staff(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    boxes = list(suspect_boxes(scope=request.scope).filter(county=county)[:200])
    return render(request, "produce/suspect_boxes.html", {"county": county, "boxes": boxes})

