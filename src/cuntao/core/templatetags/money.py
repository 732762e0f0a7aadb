"""{% load money %}: {{ amount|fen }} -> ¥1,299.00, {{ amount|fen_signed }} -> +¥1,299.00."""

from django import template

from cuntao.core.money import format_fen

register = template.Library()


@register.filter
def fen(value) -> str:
    return format_fen(value)


@register.filter
def fen_signed(value) -> str:
    return format_fen(value, signed=True)
