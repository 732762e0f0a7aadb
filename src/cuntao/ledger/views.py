import datetime
import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cuntao.core.errors import DomainError
from cuntao.core.forms import add_service_errors
from cuntao.ledger.forms import ConfirmForm, DayForm, PayoutForm, SettlementForm, StatementForm
from cuntao.ledger.models import AccountKind, SettlementStatus
from cuntao.ledger.pdf import cash_sheet_pdf
from cuntao.ledger.selectors import (
    account_list,
    cash_sheet,
    county_balances,
    settlement_get_for_actor,
    settlement_history,
    settlement_list,
    station_balances,
    station_statement,
)
from cuntao.ledger.services import commission_payout, settlement_cancel, settlement_confirm, settlement_submit
from cuntao.network.selectors import county_get_for_actor, station_get_for_actor, station_list


def require_staff_scope(request):
    if not request.scope.is_staff_scope:
        raise Http404


@login_required
def station_money(request, code: str):
    """A station's money: balances, hand-overs, and the way to the cash sheet and statements."""
    station = station_get_for_actor(scope=request.scope, code=code)
    form = SettlementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            settlement_submit(scope=request.scope, station=station, **form.cleaned_data)
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Hand-over recorded; the county will count it."))
            return redirect("ledger:station_money", code=station.code)
    return render(request, "ledger/station_money.html", {
        "station": station, "balances": station_balances(scope=request.scope, station=station),
        "settlements": settlement_list(scope=request.scope, station_id=station.pk)[:20], "form": form,
        "today": timezone.localdate(),
    })


def _day(request):
    form = DayForm(request.GET or None)
    day = form.cleaned_data.get("day") if form.is_valid() else None
    return day or timezone.localdate()


@login_required
def cash_sheet_page(request, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    day = _day(request)
    sheet = cash_sheet(scope=request.scope, station=station, day=day)
    return render(request, "ledger/cash_sheet.html", {"station": station, "sheet": sheet, "day": day,
                                                      "previous": day - datetime.timedelta(days=1),
                                                      "next": day + datetime.timedelta(days=1)})


@login_required
def cash_sheet_download(request, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    day = _day(request)
    sheet = cash_sheet(scope=request.scope, station=station, day=day)
    response = HttpResponse(cash_sheet_pdf(sheet), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="cash-{station.code}-{day.isoformat()}.pdf"'
    return response


@login_required
def statement_page(request, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    today = timezone.localdate()
    form = StatementForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    kind = data.get("account") or AccountKind.CASH_IN_HAND
    date_to = data.get("date_to") or today
    date_from = data.get("date_from") or date_to - datetime.timedelta(days=30)
    statement = station_statement(scope=request.scope, station=station, kind=kind, date_from=date_from,
                                  date_to=date_to)
    return render(request, "ledger/statement.html", {"station": station, "statement": statement, "form": form})


@login_required
def settlement_detail(request, settlement_id: int):
    settlement = settlement_get_for_actor(scope=request.scope, settlement_id=settlement_id)
    form = ConfirmForm(request.POST or None, initial={"counted_fen": None})
    if request.method == "POST":
        require_staff_scope(request)
        if form.is_valid():
            try:
                settlement_confirm(scope=request.scope, settlement=settlement, **form.cleaned_data)
            except (ValidationError, DomainError) as e:
                add_service_errors(form, e)
            else:
                messages.success(request, _("Counted and confirmed."))
                return redirect("ledger:settlement_detail", settlement_id=settlement.pk)
    return render(request, "ledger/settlement_detail.html", {
        "settlement": settlement, "station": settlement.station, "form": form,
        "history": settlement_history(settlement=settlement),
        "may_confirm": request.scope.is_staff_scope and settlement.status == SettlementStatus.SUBMITTED,
    })


@login_required
@require_POST
def settlement_withdraw(request, settlement_id: int):
    settlement = settlement_get_for_actor(scope=request.scope, settlement_id=settlement_id)
    try:
        settlement_cancel(scope=request.scope, settlement=settlement, note=request.POST.get("note", "")[:500])
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, _("Hand-over withdrawn."))
    return redirect("ledger:settlement_detail", settlement_id=settlement.pk)


@login_required
def county_money(request, county_id: int):
    """County staff: hand-overs to count, each station's cash and commission owed, the county's accounts."""
    require_staff_scope(request)
    county = county_get_for_actor(scope=request.scope, county_id=county_id)
    per_station: dict[int, dict[str, int]] = {}
    for station_id, kind, balance in (account_list(scope=request.scope, county_id=county.pk)
                                      .filter(station__isnull=False).values_list("station_id", "kind", "balance_fen")):
        per_station.setdefault(station_id, {})[kind] = balance
    stations = [(station, per_station.get(station.pk, {}).get(AccountKind.CASH_IN_HAND, 0),
                 -per_station.get(station.pk, {}).get(AccountKind.COMMISSION_OWED, 0))
                for station in station_list(scope=request.scope, county_id=county.pk)]
    return render(request, "ledger/county_money.html", {
        "county": county, "stations": stations,
        "waiting": settlement_list(scope=request.scope, county_id=county.pk, status=SettlementStatus.SUBMITTED),
        "recent": settlement_list(scope=request.scope, county_id=county.pk).exclude(
            status=SettlementStatus.SUBMITTED)[:20],
        "balances": county_balances(scope=request.scope, county_id=county.pk),
    })


@login_required
def payout_new(request, code: str):
    require_staff_scope(request)
    station = station_get_for_actor(scope=request.scope, code=code)
    form = PayoutForm(request.POST or None, initial={"token": secrets.token_urlsafe(16)})
    if request.method == "POST" and form.is_valid():
        try:
            commission_payout(scope=request.scope, station=station, amount_fen=form.cleaned_data["amount_fen"],
                              note=form.cleaned_data["note"], dedupe_key=f"{request.user.pk}:{form.cleaned_data['token']}")
        except (ValidationError, DomainError) as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("Commission paid out."))
            return redirect("ledger:station_money", code=station.code)
    return render(request, "ledger/payout_form.html", {
        "station": station, "form": form, "balances": station_balances(scope=request.scope, station=station)})
