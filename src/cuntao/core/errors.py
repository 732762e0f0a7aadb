"""Domain errors that services raise and every interface turns into a 4xx.

Field-level problems are Django ValidationErrors (a dict of field -> messages), so forms
and the API show them next to the field; everything else is a DomainError.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy


class DomainError(Exception):
    """A business rule refused the action; nothing was changed."""

    status = 400
    code = "invalid"

    def __init__(self, message, *, code: str | None = None, fields: dict | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError, Http404):
    """The object does not exist, or lies outside the caller's scope (never say which).

    Also an Http404, so a page that lets it escape answers 404 like any missing page.
    Its message is the same for both unless a caller gives one that reveals nothing
    (an unknown parcel code, say); `detail` names what was looked for, for logs only.
    """

    def __init__(self, message=None, *, code: str | None = None, fields: dict | None = None, detail: str = ""):
        super().__init__(message if message is not None else gettext_lazy("Not found."), code=code, fields=fields)
        self.detail = detail

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller may see the object but their role may not do this to it."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The object is not in a state that allows the action."""

    status = 409
    code = "conflict"
