from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cuntao.core.validators import normalize_phone
from cuntao.shop.models import MAX_BOXES_PER_LINE


def username_of_phone(raw: str) -> str:
    """The user name a buyer signs in with: their phone as dialled at home (see network's partners)."""
    from cuntao.network.services import username_for_phone

    return username_for_phone(normalize_phone(raw))


class BuyerRegisterForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20,
                            widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    password = forms.CharField(label=_("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password_again = forms.CharField(label=_("Password again"), strip=False,
                                     widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password_again") and data["password"] != data["password_again"]:
            self.add_error("password_again", _("The two passwords differ."))
        return data


class BuyerLoginForm(AuthenticationForm):
    """Sign in with the phone number in any usual form (+86 138…, 138 1234 5678)."""

    username = forms.CharField(label=_("Mobile phone"), max_length=20,
                               widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "autofocus": True}))

    def clean_username(self):
        raw = self.cleaned_data.get("username", "")
        try:
            return username_of_phone(raw)
        except ValidationError:
            return raw  # let authentication fail with the usual message, not reveal the format rule


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("Boxes"), min_value=1, max_value=MAX_BOXES_PER_LINE, initial=1)


class DeliveryForm(forms.Form):
    recipient_name = forms.CharField(label=_("Recipient"), max_length=50)
    recipient_phone = forms.CharField(label=_("Recipient's phone"), max_length=20,
                                      widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    address = forms.CharField(label=_("Delivery address"), max_length=300,
                              widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
                              help_text=_("Province, city, district, street and number."))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class RefundForm(ReasonForm):
    amount = forms.CharField(label=_("Amount to refund (yuan)"), max_length=20)


class ShipForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=40, required=False)
    carrier_tracking_no = forms.CharField(label=_("Carrier tracking number"), max_length=40, required=False)
