from datetime import datetime

from django.http import HttpRequest
from ninja import Header, Router, Schema

from cuntao.core.idempotency import idempotent_create
from cuntao.core.models import ApiToken
from cuntao.core.services import token_create, token_revoke

router = Router(tags=["me"])


class MeOut(Schema):
    username: str
    role: str
    county_ids: list[int] | None
    station_ids: list[int] | None


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str


@router.get("/me", response=MeOut, summary="Who am I, and what may I reach")
def me(request: HttpRequest):
    scope = request.scope
    return {
        "username": request.user.get_username(),
        "role": scope.role.value,
        "county_ids": sorted(scope.county_ids) if scope.county_ids is not None else None,
        "station_ids": sorted(scope.station_ids) if scope.station_ids is not None else None,
    }


@router.get("/tokens", response=list[TokenOut], tags=["tokens"], summary="My API tokens")
def list_tokens(request: HttpRequest):
    return ApiToken.objects.filter(user=request.user)


@router.post("/tokens", response={201: TokenCreatedOut}, tags=["tokens"],
             summary="Make an API token (its secret is shown once)")
def create_token(request: HttpRequest, payload: TokenIn,
                 idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    def create():
        token, secret = token_create(scope=request.scope, name=payload.name)
        body = TokenOut.from_orm(token).model_dump(mode="json") | {"token": secret}
        return 201, body

    return idempotent_create(request, key=idempotency_key, create=create, secret_fields=("token",))


@router.delete("/tokens/{token_id}", response=TokenOut, tags=["tokens"], summary="Revoke an API token")
def revoke_token(request: HttpRequest, token_id: int):
    return token_revoke(scope=request.scope, token_id=token_id)
