from django import forms
from django.utils.translation import gettext_lazy as _

from cuntao.catalog.models import MAX_PRICE_FEN
from cuntao.core.money import parse_yuan


class YuanField(forms.CharField):
    """An amount typed in yuan (12.50, 1,299), cleaned to integer fen."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 14)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def clean(self, value):
        value = super().clean(value)
        try:
            fen = parse_yuan(value)
        except ValueError:
            raise forms.ValidationError(_("Enter an amount in yuan, such as 50 or 12.50."), code="invalid") from None
        if fen is not None and fen > MAX_PRICE_FEN:
            raise forms.ValidationError(_("Enter at most ¥1,000,000."), code="max_value")
        return fen


class CatalogFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=50, required=False)
    price_min = YuanField(label=_("From ¥"))
    price_max = YuanField(label=_("To ¥"))

    def clean(self):
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", _("The upper price must not be below the lower one."))
        return data
