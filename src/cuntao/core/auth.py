"""API authentication: per-user tokens for devices, sessions for the pages."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from cuntao.core.db import only_row
from cuntao.core.models import ApiToken, hash_token
from cuntao.core.scope import resolve_scope, scope_user_relations

# Refresh last_used_at at most this often, so a busy device does not write every call.
LAST_USED_RESOLUTION_SECONDS = 300


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ct_…`: a live token of an active user."""

    openapi_description = "A personal API token made at POST /api/v1/tokens."

    def authenticate(self, request, token):
        # With the user, the relations its scope is resolved from: one query fewer.
        relations = [f"user__{relation}" for relation in scope_user_relations()]
        row = only_row(ApiToken.objects.select_related("user", *relations)
                       .filter(key_hash=hash_token(token), revoked_at__isnull=True, user__is_active=True))
        if row is None:
            return None
        now = timezone.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.user = row.user
        # Resolved now rather than lazily: an API call nearly always needs it, and a write
        # would otherwise resolve it inside its transaction (on SQLite, holding the write lock).
        request.scope = resolve_scope(row.user)
        return row.user


# The browser's session works too, CSRF-checked on writes, as the pages use it.
api_auth = [TokenAuth(), SessionAuth()]
