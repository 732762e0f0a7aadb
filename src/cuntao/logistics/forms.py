from django import forms
from django.utils.translation import gettext_lazy as _


class WarehouseScanForm(forms.Form):
    code = forms.CharField(label=_("Parcel code or carrier tracking number"), max_length=60,
                           widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off",
                                                         "autocapitalize": "characters", "spellcheck": "false"}))
    damaged = forms.BooleanField(label=_("Damaged"), required=False)


class StationScanForm(forms.Form):
    code = forms.CharField(label=_("Parcel code or carrier tracking number"), max_length=60,
                           widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off",
                                                         "autocapitalize": "characters", "spellcheck": "false"}))
    shelf_position = forms.CharField(label=_("Shelf position"), max_length=20, required=False,
                                     help_text=_("Such as A3. Kept for the next scans until you change it."))


class HandoverCodeForm(forms.Form):
    code = forms.CharField(label=_("Pickup code"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off",
                                                         "pattern": "[0-9]{6}"}))


class HandoverIdentityForm(forms.Form):
    receiver_name = forms.CharField(label=_("Who received the parcel"), max_length=50)
    how_checked = forms.CharField(label=_("How you checked their identity"), max_length=150,
                                  help_text=_("Such as: ID card, household book, known to me in person."))
