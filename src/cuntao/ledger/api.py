"""The ledger's API: balances, statements, cash sheets, settlements, commission payouts."""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate
from pydantic import StrictInt

from cuntao.core.errors import DomainError
from cuntao.core.idempotency import idempotent_create
from cuntao.core.scope import Scope
from cuntao.ledger.models import AccountKind, Owner, SettlementStatus, kinds_of
from cuntao.ledger.selectors import (
    cash_sheet,
    settlement_get_for_actor,
    settlement_history,
    settlement_list,
    station_balances,
    station_statement,
)
from cuntao.ledger.services import commission_payout, settlement_cancel, settlement_confirm, settlement_submit
from cuntao.network.models import Station
from cuntao.network.selectors import station_get_for_actor, station_of_partner

router = Router(tags=["ledger"])

MAX_STATEMENT_DAYS = 366


def station_for_write(scope: Scope, code: str | None) -> Station:
    """The station a create is for: the one named, or the partner's own."""
    if code:
        return station_get_for_actor(scope=scope, code=code)
    if scope.station_id is not None:
        return station_of_partner(scope=scope)
    raise DomainError(_("Name the station by its code."), code="invalid", fields={"station": [_("This field is required.")]})


class BalanceOut(Schema):
    kind: str
    label: str
    meaning: str
    balance_fen: int = Field(..., description="Debits minus credits, in fen.")
    shown_fen: int = Field(..., description="The balance on the account's normal side: positive is the usual case.")


class StationBalancesOut(Schema):
    station: str
    accounts: list[BalanceOut]


class MovementOut(Schema):
    at: datetime.datetime
    transaction_id: int
    kind: str
    reason: str
    memo: str
    reference_type: str
    reference_id: str
    amount_fen: int
    balance_after_fen: int


class StatementOut(Schema):
    station: str
    account: str
    date_from: datetime.date
    date_to: datetime.date
    opening_fen: int
    closing_fen: int
    entries: list[MovementOut]


class CashSheetOut(Schema):
    station: str
    day: datetime.date
    opening_fen: int
    movements: list[MovementOut]
    totals: dict[str, int]
    closing_fen: int
    waiting_to_be_counted_fen: int
    to_hand_over_fen: int


class SettlementIn(Schema):
    station: str | None = Field(None, description="Station code; a partner may leave it out for their own station.")
    amount_fen: StrictInt = Field(..., description="Cash handed over, in fen (an integer).")
    note: str = Field("", max_length=500)


class ConfirmIn(Schema):
    counted_fen: StrictInt = Field(..., description="Cash counted at the county, in fen (an integer).")
    note: str = Field("", max_length=500)


class NoteIn(Schema):
    note: str = Field("", max_length=500)


class PayoutIn(Schema):
    amount_fen: StrictInt
    note: str = Field("", max_length=500)


class EventOut(Schema):
    at: datetime.datetime
    from_status: str
    to_status: str
    actor: str | None = Field(None, alias="actor.username")
    note: str


class SettlementOut(Schema):
    id: int
    station: str = Field(..., alias="station.code")
    status: SettlementStatus
    declared_fen: int
    counted_fen: int | None
    difference_fen: int | None
    note: str
    confirm_note: str
    submitted_at: datetime.datetime
    confirmed_at: datetime.datetime | None
    transaction_id: int | None


class SettlementDetailOut(SettlementOut):
    events: list[EventOut]

    @staticmethod
    def resolve_events(obj):
        return list(settlement_history(settlement=obj))


class PostingOut(Schema):
    transaction_id: int
    kind: str
    amount_fen: int
    station: str
    created_at: datetime.datetime


def _movement(row) -> dict:
    txn = row.entry.transaction
    return {"at": row.entry.created_at, "transaction_id": txn.pk, "kind": txn.kind, "reason": txn.get_kind_display(),
            "memo": txn.memo, "reference_type": txn.reference_type, "reference_id": txn.reference_id,
            "amount_fen": row.amount_fen, "balance_after_fen": row.running_fen}


@router.get("/ledger/stations/{code}/balances", response=StationBalancesOut, summary="A station's account balances")
def get_balances(request: HttpRequest, code: str):
    station = station_get_for_actor(scope=request.scope, code=code)
    return {"station": station.code, "accounts": [
        {"kind": b.kind, "label": str(b.label), "meaning": str(b.meaning), "balance_fen": b.balance_fen,
         "shown_fen": b.shown_fen} for b in station_balances(scope=request.scope, station=station)]}


@router.get("/ledger/stations/{code}/statement", response=StatementOut,
            summary="One station account's entries with the balance after each")
def get_statement(request: HttpRequest, code: str, account: str = AccountKind.CASH_IN_HAND,
                  date_from: datetime.date | None = None, date_to: datetime.date | None = None):
    station = station_get_for_actor(scope=request.scope, code=code)
    if account not in kinds_of(Owner.STATION):
        raise ValidationError({"account": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(kinds_of(Owner.STATION))}]})
    date_to = date_to or timezone.localdate()
    date_from = date_from or date_to - datetime.timedelta(days=30)
    if date_from > date_to or (date_to - date_from).days > MAX_STATEMENT_DAYS:
        raise ValidationError({"date_from": [_("Ask for a period of at most a year that starts before it ends.")]})
    statement = station_statement(scope=request.scope, station=station, kind=account, date_from=date_from,
                                  date_to=date_to)
    return {"station": station.code, "account": account, "date_from": date_from, "date_to": date_to,
            "opening_fen": statement.opening_fen, "closing_fen": statement.closing_fen,
            "entries": [_movement(row) for row in statement.rows]}


@router.get("/ledger/stations/{code}/cash-sheet", response=CashSheetOut,
            summary="A station's cash over one day: opening, movements with reasons, closing, to hand over")
def get_cash_sheet(request: HttpRequest, code: str, day: datetime.date | None = None):
    station = station_get_for_actor(scope=request.scope, code=code)
    sheet = cash_sheet(scope=request.scope, station=station, day=day or timezone.localdate())
    return {"station": station.code, "day": sheet.day, "opening_fen": sheet.opening_fen,
            "movements": [_movement(row) for row in sheet.rows], "totals": {k: v for k, _l, v in sheet.totals},
            "closing_fen": sheet.closing_fen,
            "waiting_to_be_counted_fen": sheet.open_settlement.declared_fen if sheet.open_settlement else 0,
            "to_hand_over_fen": sheet.to_hand_over_fen}


@router.get("/ledger/settlements", response=list[SettlementOut], summary="Cash hand-overs in my scope")
@paginate
def list_settlements(request: HttpRequest, station: str | None = None, status: SettlementStatus | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return settlement_list(scope=request.scope, station_id=station_id, status=status)


@router.get("/ledger/settlements/{settlement_id}", response=SettlementDetailOut, summary="One hand-over and its history")
def get_settlement(request: HttpRequest, settlement_id: int):
    return settlement_get_for_actor(scope=request.scope, settlement_id=settlement_id)


@router.post("/ledger/settlements", response={201: SettlementDetailOut},
             summary="Declare cash handed to the county (partner)")
def create_settlement(request: HttpRequest, payload: SettlementIn,
                      idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        station = station_for_write(request.scope, payload.station)
        settlement = settlement_submit(scope=request.scope, station=station, amount_fen=payload.amount_fen,
                                       note=payload.note)
        return 201, SettlementDetailOut.from_orm(settlement).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


@router.post("/ledger/settlements/{settlement_id}/confirm", response=SettlementDetailOut,
             summary="Confirm the cash counted (county staff); posts the cash movement")
def confirm_settlement(request: HttpRequest, settlement_id: int, payload: ConfirmIn):
    settlement = settlement_get_for_actor(scope=request.scope, settlement_id=settlement_id)
    settlement = settlement_confirm(scope=request.scope, settlement=settlement, counted_fen=payload.counted_fen,
                                    note=payload.note)
    return settlement


@router.post("/ledger/settlements/{settlement_id}/withdraw", response=SettlementDetailOut,
             summary="Withdraw a hand-over not yet counted")
def withdraw_settlement(request: HttpRequest, settlement_id: int, payload: NoteIn):
    settlement = settlement_get_for_actor(scope=request.scope, settlement_id=settlement_id)
    return settlement_cancel(scope=request.scope, settlement=settlement, note=payload.note)


@router.post("/ledger/stations/{code}/commission-payouts", response={201: PostingOut},
             summary="Pay the partner earned commission (county staff)")
def create_payout(request: HttpRequest, code: str, payload: PayoutIn,
                  idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        station = station_get_for_actor(scope=request.scope, code=code)
        # With a key, a retry that slipped past the key record still pays once.
        key = f"api:{request.user.pk}:{idempotency_key.strip()}" if idempotency_key else f"api:{uuid.uuid4()}"
        posting = commission_payout(scope=request.scope, station=station, amount_fen=payload.amount_fen,
                                    note=payload.note, dedupe_key=key)
        return 201, PostingOut(transaction_id=posting.pk, kind=posting.kind, amount_fen=payload.amount_fen,
                               station=station.code, created_at=posting.created_at).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)
