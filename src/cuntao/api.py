"""The HTTP API at /api/v1/: one NinjaAPI, the routers of every app, one error shape.

Every error answers {"error": {"code", "message", "fields"}}, in the caller's language.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from cuntao.core.auth import api_auth
from cuntao.core.errors import DomainError

api = NinjaAPI(
    title="cuntao API",
    version="1",
    description="The station network's API. Authenticate with `Authorization: Bearer <token>` "
    "(make one at POST /api/v1/tokens while signed in) or a browser session. Creating requests "
    "accept an `Idempotency-Key` header: a retry with the same key and body gets the first response.",
    auth=api_auth,
    urls_namespace="api-v1",
)


def error_response(request, status: int, code: str, message: str, fields: dict | None = None):
    return api.create_response(request, {"error": {"code": code, "message": str(message), "fields": fields or {}}},
                               status=status)


# Pydantic's messages are English only; the common ones are said again in the user's language.
def pydantic_message(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("Use at most %(max)s characters.") % {"max": ctx.get("max_length")}
    if kind == "string_too_short":
        return _("Use at least %(min)s characters.") % {"min": ctx.get("min_length")}
    if kind.startswith("int_"):
        return _("Enter a whole number.")
    if kind.startswith("bool"):
        return _("Enter true or false.")
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return _("The number is out of range.")
    if kind in ("enum", "literal_error"):
        return _("Choose one of: %(choices)s.") % {"choices": ctx.get("expected", "")}
    if kind.startswith("time") or kind.startswith("date"):
        return _("Enter a valid date or time.")
    return error.get("msg", _("This value is not valid."))


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc):
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", []) if part not in ("body", "payload", "query", "path", "header")]
        fields.setdefault(".".join(loc) or "request", []).append(pydantic_message(error))
    return error_response(request, 422, "invalid", _("Some fields are not valid; see the fields for what to fix."), fields)


@api.exception_handler(DjangoValidationError)
def on_validation_error(request, exc):
    if hasattr(exc, "error_dict"):
        fields = {("request" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
    else:
        fields = {"request": exc.messages}
    return error_response(request, 422, "invalid", _("Some fields are not valid; see the fields for what to fix."), fields)


@api.exception_handler(DomainError)
def on_domain_error(request, exc):
    return error_response(request, exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return error_response(request, 404, "not_found", _("Not found."))


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error_response(request, 401, "unauthenticated",
                          _("Sign in, or send a valid token as 'Authorization: Bearer <token>'."))


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error_response(request, exc.status_code, "http_error", str(exc))


def add_routers() -> None:
    """Mount every app's router at /api/v1/; each app owns the paths under its nouns."""
    from cuntao.catalog.api import router as catalog_router
    from cuntao.community.api import router as community_router
    from cuntao.core.api import router as core_router
    from cuntao.impact.api import router as impact_router
    from cuntao.ledger.api import router as ledger_router
    from cuntao.logistics.api import router as logistics_router
    from cuntao.network.api import router as network_router
    from cuntao.notify.api import router as notify_router
    from cuntao.orders.api import router as orders_router
    from cuntao.produce.api import router as produce_router
    from cuntao.shop.api import router as shop_router
    from cuntao.villagers.api import router as villagers_router

    for router in (core_router, network_router, villagers_router, notify_router, catalog_router, ledger_router,
                   logistics_router, orders_router, produce_router,
                   shop_router, community_router, impact_router):
        api.add_router("/", router)


add_routers()
