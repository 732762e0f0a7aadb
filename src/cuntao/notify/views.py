from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError
from cuntao.network.selectors import county_get_for_actor, station_get_for_actor
from cuntao.notify.kinds import notice_kinds
from cuntao.notify.models import NoticeStatus
from cuntao.notify.selectors import notice_list, station_tell_list
from cuntao.notify.services import notice_mark_told, notice_retry

PAGE_SIZE = 50


def require_staff_scope(request):
    if not request.scope.is_staff_scope:
        raise Http404


def _back(request, fallback):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return redirect(target)
    return fallback


@login_required
def tell_list(request, code: str):
    """The partner's list of villagers to tell in person: no phone, no relative who gets notices."""
    station = station_get_for_actor(scope=request.scope, code=code)
    notices = station_tell_list(scope=request.scope, station_id=station.pk)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notify/tell_list.html", {"station": station, "page": page})


@login_required
@require_POST
def notice_told(request, notice_id: int):
    try:
        notice = notice_mark_told(scope=request.scope, notice_id=notice_id)
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
        return _back(request, redirect("network:station_home"))
    messages.success(request, _("Marked as told: %(name)s.") % {"name": notice.villager.name})
    return _back(request, redirect("notify:tell_list", code=notice.station.code))


@login_required
def county_notices(request, county_id: int):
    """County staff: the county's notices, failed ones first in mind, with a retry button."""
    require_staff_scope(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    status = request.GET.get("status", NoticeStatus.FAILED)
    if status not in NoticeStatus.values:
        status = NoticeStatus.FAILED
    kinds = {kind.key: kind.label for kind in notice_kinds()}
    kind = request.GET.get("kind") or None
    if kind not in kinds:
        kind = None
    notices = notice_list(scope=request.scope, county_id=county.pk, status=status, kind=kind)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notify/county_notices.html", {
        "county": county, "page": page, "status": status, "statuses": NoticeStatus.choices,
        "kind": kind, "kinds": sorted(kinds.items()),
    })


@login_required
@require_POST
def notice_retry_view(request, notice_id: int):
    require_staff_scope(request)
    try:
        notice = notice_retry(scope=request.scope, notice_id=notice_id)
    except DomainError as e:
        if e.status == 404:
            raise
        messages.error(request, e.message)
        return _back(request, redirect("network:county_console"))
    messages.success(request, _("The notice will be sent again shortly."))
    return _back(request, redirect("notify:county_notices", county_id=notice.county_id))
