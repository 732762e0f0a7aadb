import datetime
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from cuntao.ledger.models import AccountKind, Owner, kinds_of


class YuanField(forms.DecimalField):
    """An amount typed in yuan (12.50), cleaned to integer fen (1250) without floats."""

    def __init__(self, *, min_fen: int = 1, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal(min_fen) / 100, **kwargs)

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else int(amount * 100)


class SettlementForm(forms.Form):
    amount_fen = YuanField(label=_("Cash you hand over (yuan)"))
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


class ConfirmForm(forms.Form):
    counted_fen = YuanField(label=_("Cash counted (yuan)"), min_fen=0)
    note = forms.CharField(label=_("Note (required when the count differs)"), max_length=500, required=False)


class PayoutForm(forms.Form):
    amount_fen = YuanField(label=_("Commission to pay (yuan)"))
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class StatementForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"), required=False,
                                choices=[(k, AccountKind(k).label) for k in kinds_of(Owner.STATION)])
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    MAX_DAYS = 366

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to"):
            if data["date_from"] > data["date_to"]:
                self.add_error("date_to", _("The end comes after the start."))
            elif data["date_to"] - data["date_from"] > datetime.timedelta(days=self.MAX_DAYS):
                self.add_error("date_to", _("Ask for at most a year at a time."))
        return data
