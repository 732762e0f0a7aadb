"""Idempotency-Key for creating requests: a retry gets the first response again.

Station networks drop connections mid-request; a partner's phone then sends the same
request again. The record of the first response is written in the same transaction as
the business change, so the change and its record commit together or not at all. Two
concurrent requests with one key meet at the unique (user, key) index: the second
waits for the first to commit, then answers with the first one's response.
"""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, connection
from django.http import JsonResponse
from django.utils.translation import gettext as _

from cuntao.core.db import insert_new, pk_where, write_transaction
from cuntao.core.errors import Conflict, DomainError
from cuntao.core.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


def request_fingerprint(request) -> str:
    """Hash of what makes two requests 'the same': method, path and body."""
    body = request.body or b""
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        pass  # not JSON: compare the raw bytes
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def idempotent_create(request, *, key: str | None, create: Callable[[], tuple[int, dict]],
                      secret_fields: tuple[str, ...] = ()) -> JsonResponse:
    """Run create() once per (user, key) and answer every repeat with its response.

    create() returns (status, JSON body) and raises on refusal; a refusal stores
    nothing, so a corrected retry with the same key can still succeed. secret_fields
    are answered once and stored as null: a secret must not sit in this table.
    """
    if key is None:
        with write_transaction():
            status, body = create()
        return JsonResponse(body, status=status)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(_("The Idempotency-Key header must have 1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH},
                          code="invalid_idempotency_key", fields={"Idempotency-Key": [_("Use a fresh random value such as a UUID.")]})
    fingerprint = request_fingerprint(request)
    claimed = False
    try:
        with write_transaction():
            # Claim the key first, with no look-up before: nearly every key is new. A
            # repeat meets the unique (user, key) index here, and a concurrent twin waits
            # here until the first commits, then meets it. Its transaction had done
            # nothing else, so it rolls back whole, with no savepoint around the claim.
            [record] = insert_new([IdempotencyRecord(user=request.user, key=key, request_hash=fingerprint,
                                                     response_status=0, response_body={})])
            claimed = True
            status, body = create()
            _record_response(record, status, {k: (None if k in secret_fields else v) for k, v in body.items()})
    except IntegrityError:
        if claimed:
            raise
        replay = _stored_response(request.user, key, fingerprint)
        if replay is None:
            raise Conflict(_("A request with this Idempotency-Key is still being processed; retry shortly."),
                           code="idempotency_key_in_use") from None
        return replay
    return JsonResponse(body, status=status)


def _record_response(record: IdempotencyRecord, status: int, body: dict) -> None:
    # Hand-written: it runs on every create, inside the transaction.
    field = IdempotencyRecord._meta.get_field("response_body")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_idempotencyrecord SET response_status = %s, response_body = %s WHERE id = %s",
                       [status, field.get_db_prep_save(body, connection), record.pk])


def _stored_response(user, key: str, fingerprint: str) -> JsonResponse | None:
    pk = pk_where(IdempotencyRecord, user_id=user.pk, key=key)  # nearly always none: no model to build
    if pk is None:
        return None
    record = IdempotencyRecord.objects.get(pk=pk)
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused(
            _("This Idempotency-Key was already used for a different request. Use a new key for a new request."),
            fields={"Idempotency-Key": [_("Already used with a different body.")]},
        )
    response = JsonResponse(record.response_body, status=record.response_status)
    response["Idempotent-Replayed"] = "true"
    return response
