"""API authentication: per-user tokens for devices, sessions for the pages."""

import functools

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import ForeignObjectRel, Model
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from cuntao.core.db import Columns
from cuntao.core.models import ApiToken, hash_token
from cuntao.core.scope import resolve_scope, scope_user_relations

# Refresh last_used_at at most this often, so a busy device does not write every call.
LAST_USED_RESOLUTION_SECONDS = 300


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ct_…`: a live token of an active user."""

    openapi_description = "A personal API token made at POST /api/v1/tokens."

    def authenticate(self, request, token):
        found = _live_token(hash_token(token))
        if found is None:
            return None
        token, user = found
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        request.user = user
        # Resolved now rather than lazily: an API call nearly always needs it, and a write
        # would otherwise resolve it inside its transaction (on SQLite, holding the write lock).
        request.scope = resolve_scope(user)
        return user


@functools.cache
def _token_query() -> tuple[str, Columns, Columns, list[tuple[ForeignObjectRel, Columns]]]:
    """The statement reading a live token's user, with the relations its scope is resolved from.

    Hand-written because every API call runs it: the ORM's compiling of the joined
    select cost more than the query. The relations (scope_user_relations) are the
    user's reverse one-to-ones, such as the partner row; a missing one reads as None.
    """
    user_model = get_user_model()
    token, user = Columns(ApiToken, "t", only=("id", "last_used_at")), Columns(user_model, "u")
    relations = []
    joins = []
    for i, name in enumerate(scope_user_relations()):
        relation = user_model._meta.get_field(name)
        if not relation.one_to_one or not relation.auto_created:
            raise ImproperlyConfigured(f"{name} is not a reverse one-to-one relation of the user")
        columns = Columns(relation.related_model, f"r{i}")
        relations.append((relation, columns))
        joins.append(f"LEFT JOIN {relation.related_model._meta.db_table} r{i} "
                     f"ON r{i}.{relation.field.column} = u.{user_model._meta.pk.column}")
    select = ", ".join([token.sql, user.sql, *(columns.sql for _relation, columns in relations)])
    sql = (f"SELECT {select} FROM core_apitoken t JOIN {user_model._meta.db_table} u ON u.id = t.user_id "
           f"{' '.join(joins)} WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active")
    return sql, token, user, relations


def _live_token(key_hash: str) -> tuple[ApiToken, Model] | None:
    """(token, user with its scope relations) of a live token of an active user, or None."""
    sql, token_columns, user_columns, relations = _token_query()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    token = token_columns.build(row[:len(token_columns)])
    start = len(token_columns) + len(user_columns)
    user = user_columns.build(row[len(token_columns):start])
    for relation, columns in relations:
        values = row[start:start + len(columns)]
        start += len(columns)
        related = columns.build(values) if values[0] is not None else None
        relation.set_cached_value(user, related)
        if related is not None:
            relation.field.set_cached_value(related, user)
    return token, user


# The browser's session works too, CSRF-checked on writes, as the pages use it.
api_auth = [TokenAuth(), SessionAuth()]
