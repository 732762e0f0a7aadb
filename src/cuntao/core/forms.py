from django import forms
from django.core.exceptions import ValidationError

from cuntao.core.errors import DomainError


def add_service_errors(form: forms.Form, error: ValidationError | DomainError) -> None:
    """Show a service's refusal on the form: field errors next to their fields, the rest above it.

    A DomainError's message goes above the form, and the fields it names (a Conflict
    naming the quantity that is out of stock, say) get their own messages too.
    """
    if isinstance(error, DomainError):
        for field, messages in error.fields.items():
            form.add_error(field if field in form.fields else None, messages)
        form.add_error(None, error.message)
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
