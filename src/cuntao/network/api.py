from datetime import datetime, time

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.pagination import paginate

from cuntao.network.selectors import station_get_for_actor, station_list, station_verify

router = Router(tags=["stations"])


class StationOut(Schema):
    code: str
    name: str
    status: str
    county: str
    county_id: int
    village: str
    village_id: int
    lat: float
    lon: float
    opens_at: time
    closes_at: time
    shelf_capacity: int
    opened_at: datetime | None

    @staticmethod
    def resolve_county(obj):
        return obj.county.name

    @staticmethod
    def resolve_village(obj):
        return obj.village.name

    @staticmethod
    def resolve_lat(obj):
        return float(obj.village.lat)

    @staticmethod
    def resolve_lon(obj):
        return float(obj.village.lon)


class StationVerificationOut(Schema):
    code: str
    official: bool
    status: str | None = None
    name: str | None = None
    village: str | None = None
    county: str | None = None
    partner: str | None = None


@router.get("/stations", response=list[StationOut], summary="Stations in my scope")
@paginate
def list_stations(request: HttpRequest, county_id: int | None = None, status: str | None = None, q: str | None = None):
    return station_list(scope=request.scope, county_id=county_id, status=status, q=q)


@router.get("/stations/{code}", response=StationOut, summary="One station")
def get_station(request: HttpRequest, code: str):
    return station_get_for_actor(scope=request.scope, code=code)


@router.get("/verify/{code}", response=StationVerificationOut, auth=None, tags=["public"],
            summary="Is this an official station? (public)")
def verify_station(request: HttpRequest, code: str):
    found = station_verify(code=code)
    if found is None:
        return {"code": code.strip().upper()[:20], "official": False}
    station, partner_name = found
    return {
        "code": station.code, "official": True, "status": station.status, "name": station.name,
        "village": station.village.name, "county": station.county.name, "partner": partner_name or None,
    }
