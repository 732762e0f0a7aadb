"""Writes of the plumbing every app shares: API tokens."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cuntao.core.errors import DomainError, NotFound
from cuntao.core.models import ApiToken, hash_token, new_token_secret
from cuntao.core.scope import Scope

MAX_LIVE_TOKENS_PER_USER = 20


@transaction.atomic
def token_create(*, scope: Scope, name: str) -> tuple[ApiToken, str]:
    """Make a token for the acting user; the secret is returned once and never stored."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise DomainError(_("Name the token in 1 to 100 characters, such as the device it is for."),
                          code="invalid", fields={"name": [_("1 to 100 characters.")]})
    if ApiToken.objects.filter(user=scope.user, revoked_at__isnull=True).count() >= MAX_LIVE_TOKENS_PER_USER:
        raise DomainError(_("You have %(max)s live tokens; revoke one you no longer use first.")
                          % {"max": MAX_LIVE_TOKENS_PER_USER}, code="too_many_tokens")
    secret = new_token_secret()
    token = ApiToken.objects.create(user=scope.user, name=name, key_hash=hash_token(secret), hint=secret[:10])
    return token, secret


@transaction.atomic
def token_revoke(*, scope: Scope, token_id: int) -> ApiToken:
    """Revoke one of the acting user's tokens; revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().filter(pk=token_id, user=scope.user).first()
    if token is None:
        raise NotFound(detail="token")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
