from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.network.selectors import station_get_for_actor
from cuntao.villagers.forms import RelativeForm, VillagerForm
from cuntao.villagers.selectors import household_list, relative_list, villager_get_for_actor, villager_list
from cuntao.villagers.services import relative_add, villager_register, villager_update

PAGE_SIZE = 30


@login_required
def villager_index(request, code: str):
    """The station's villagers, found by name, pinyin, initials or phone."""
    station = station_get_for_actor(scope=request.scope, code=code)
    q = request.GET.get("q", "").strip()[:50]
    villagers = villager_list(scope=request.scope, station_id=station.pk, q=q)
    page = Paginator(villagers, PAGE_SIZE).get_page(request.GET.get("page"))
    template = "villagers/_results.html" if request.headers.get("X-Partial") == "results" else "villagers/index.html"
    return render(request, template, {"station": station, "page": page, "q": q})


@login_required
def villager_new(request, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    households = household_list(scope=request.scope, station_id=station.pk)
    form = VillagerForm(request.POST or None, households=households)
    if request.method == "POST" and form.is_valid():
        try:
            villager = villager_register(scope=request.scope, station=station, **form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": villager.name})
            return redirect(villager)
    return render(request, "villagers/form.html", {"station": station, "form": form, "villager": None})


@login_required
def villager_detail(request, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    relatives = relative_list(scope=request.scope, villager_id=villager.pk)
    household_members = []
    if villager.household_id:
        household_members = villager_list(scope=request.scope, station_id=villager.station_id).filter(
            household_id=villager.household_id).exclude(pk=villager.pk)
    return render(request, "villagers/detail.html", {
        "villager": villager, "station": villager.station, "relatives": relatives,
        "household_members": household_members,
    })


@login_required
def villager_edit(request, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    households = household_list(scope=request.scope, station_id=villager.station_id)
    initial = {field: getattr(villager, field) for field in
               ("name", "gender", "birth_year", "phone", "national_id", "household", "needs_large_print",
                "needs_voice", "language")}
    form = VillagerForm(request.POST or None, households=households, editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            villager = villager_update(scope=request.scope, villager=villager, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect(villager)
    return render(request, "villagers/form.html", {"station": villager.station, "form": form, "villager": villager})


@login_required
def relative_new(request, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    form = RelativeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            relative_add(scope=request.scope, villager=villager, **form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Relative added."))
            return redirect(villager)
    return render(request, "villagers/relative_form.html", {"villager": villager, "station": villager.station, "form": form})
