from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema
from ninja.pagination import paginate

from cuntao.core.idempotency import idempotent_create
from cuntao.network.selectors import station_for_write, station_get_for_actor
from cuntao.villagers.models import Gender, Relation
from cuntao.villagers.selectors import (
    household_get_for_actor,
    household_list,
    relative_list,
    villager_get_for_actor,
    villager_list,
)
from cuntao.villagers.services import household_create, relative_add, villager_register, villager_update

router = Router(tags=["villagers"])

# Schemas bound only the size of what is read; the services own the rules and their messages.
NAME = Field(..., max_length=200)


class VillagerOut(Schema):
    id: int
    station: str = Field(..., alias="station.code")
    household_id: int | None
    name: str
    name_pinyin: str
    phone: str
    national_id_masked: str
    birth_year: int
    gender: Gender
    needs_large_print: bool
    needs_voice: bool
    language: str
    consent_at: datetime
    created_at: datetime


class VillagerIn(Schema):
    station: str | None = Field(None, description="Station code; a partner may leave it out for their own station.")
    name: str = NAME
    birth_year: int
    gender: Gender
    consent: bool = Field(..., description="The villager agreed to their data being kept.")
    phone: str = Field("", max_length=40)
    national_id: str = Field("", max_length=40)
    household_id: int | None = None
    new_household_name: str = Field("", max_length=200)
    needs_large_print: bool = False
    needs_voice: bool = False
    language: str = "zh-hans"


class VillagerPatch(Schema):
    name: str | None = Field(None, max_length=200)
    birth_year: int | None = None
    gender: Gender | None = None
    phone: str | None = Field(None, max_length=40)
    national_id: str | None = Field(None, max_length=40)
    household_id: int | None = None
    needs_large_print: bool | None = None
    needs_voice: bool | None = None
    language: str | None = None


class HouseholdIn(Schema):
    station: str | None = None
    name: str = NAME
    address: str = Field("", max_length=400)


class HouseholdOut(Schema):
    id: int
    station: str = Field(..., alias="station.code")
    name: str
    address: str
    member_count: int = 0


class RelativeIn(Schema):
    name: str = NAME
    phone: str = Field(..., max_length=40)
    relation: Relation
    city: str = Field("", max_length=100)
    receives_notices: bool = True


class RelativeOut(Schema):
    id: int
    villager_id: int
    name: str
    phone: str
    city: str
    relation: Relation
    receives_notices: bool


@router.get("/villagers", response=list[VillagerOut], summary="Find villagers by name, pinyin, initials or phone")
@paginate
def list_villagers(request: HttpRequest, station: str | None = None, q: str | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return villager_list(scope=request.scope, station_id=station_id, q=q)


@router.post("/villagers", response={201: VillagerOut}, summary="Register a villager")
def create_villager(request: HttpRequest, payload: VillagerIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        scope = request.scope
        station = station_for_write(scope=scope, code=payload.station)
        household = household_get_for_actor(scope=scope, household_id=payload.household_id) if payload.household_id else None
        data = payload.dict(exclude={"station", "household_id"})
        villager = villager_register(scope=scope, station=station, household=household, **data)
        return 201, VillagerOut.from_orm(villager).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/villagers/{villager_id}", response=VillagerOut, summary="One villager")
def get_villager(request: HttpRequest, villager_id: int):
    return villager_get_for_actor(scope=request.scope, villager_id=villager_id)


@router.patch("/villagers/{villager_id}", response=VillagerOut, summary="Change a villager's details")
def patch_villager(request: HttpRequest, villager_id: int, payload: VillagerPatch):
    scope = request.scope
    villager = villager_get_for_actor(scope=scope, villager_id=villager_id)
    changes = payload.dict(exclude_unset=True)
    if "household_id" in changes:
        household_id = changes.pop("household_id")
        changes["household"] = household_get_for_actor(scope=scope, household_id=household_id) if household_id else None
    return villager_update(scope=scope, villager=villager, **changes)


@router.get("/households", response=list[HouseholdOut], tags=["households"], summary="Households in my scope")
@paginate
def list_households(request: HttpRequest, station: str | None = None, q: str | None = None):
    station_id = station_get_for_actor(scope=request.scope, code=station).pk if station else None
    return household_list(scope=request.scope, station_id=station_id, q=q).select_related("station")


@router.post("/households", response={201: HouseholdOut}, tags=["households"], summary="Register a household")
def create_household(request: HttpRequest, payload: HouseholdIn,
                     idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        station = station_for_write(scope=request.scope, code=payload.station)
        household = household_create(scope=request.scope, station=station, name=payload.name, address=payload.address)
        return 201, HouseholdOut.from_orm(household).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)


@router.get("/villagers/{villager_id}/relatives", response=list[RelativeOut], tags=["relatives"],
            summary="A villager's relatives working away")
def list_relatives(request: HttpRequest, villager_id: int):
    villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
    return relative_list(scope=request.scope, villager_id=villager.pk)


@router.post("/villagers/{villager_id}/relatives", response={201: RelativeOut}, tags=["relatives"],
             summary="Add a relative working away")
def create_relative(request: HttpRequest, villager_id: int, payload: RelativeIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        villager = villager_get_for_actor(scope=request.scope, villager_id=villager_id)
        relative = relative_add(scope=request.scope, villager=villager, **payload.dict())
        return 201, RelativeOut.from_orm(relative).model_dump(mode="json")

    return idempotent_create(request, key=idempotency_key, create=create)
