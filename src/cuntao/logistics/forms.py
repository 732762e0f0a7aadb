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


class ShelfCapacityForm(forms.Form):
    capacity_parcels = forms.IntegerField(label=_("Shelf capacity (parcels)"), min_value=1, max_value=5000)


class ReturnReasonForm(forms.Form):
    reason = forms.CharField(label=_("Why it goes back"), max_length=200,
                             help_text=_("Such as: refused, addressee moved away."))


class HomeLocationForm(forms.Form):
    lat = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90,
                             widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}))
    lon = forms.DecimalField(label=_("Longitude"), max_digits=10, decimal_places=6, min_value=-180, max_value=180,
                             widget=forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}))
    note = forms.CharField(label=_("How to find it"), max_length=100, required=False,
                           help_text=_("Such as: the red gate behind the school."))


class DeliveryFailForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why not delivered"), widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        from cuntao.logistics.models import FailureReason

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [(v, label) for v, label in FailureReason.choices if v != "not_attempted"]


class DeliveryProofForm(forms.Form):
    """A signature drawn on the screen (sent as a PNG data URL) or a photo from the camera."""

    method = forms.ChoiceField(choices=[("signature", _("Signature")), ("photo", _("Photo"))],
                               widget=forms.HiddenInput)
    receiver_name = forms.CharField(label=_("Who received it"), max_length=50, required=False)
    signature = forms.CharField(required=False, widget=forms.HiddenInput)
    photo = forms.FileField(label=_("Photo of the parcel at the door"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}))


class OutboundParcelForm(forms.Form):
    """A parcel a villager sends from the station (a return of an online purchase, say)."""

    source = forms.ChoiceField(label=_("What it is"), choices=[
        ("external_marketplace", _("A return of an online purchase")),
        ("carrier", _("A parcel handed to a carrier"))])
    addressee_name = forms.CharField(label=_("Sent to (name or shop)"), max_length=50)
    carrier = forms.CharField(label=_("Carrier"), max_length=40, required=False)
    carrier_tracking_no = forms.CharField(label=_("Carrier tracking number"), max_length=40, required=False)
    weight_g = forms.IntegerField(label=_("Weight (g)"), min_value=0, max_value=100_000, initial=0)
    is_large_item = forms.BooleanField(label=_("Large item"), required=False)
