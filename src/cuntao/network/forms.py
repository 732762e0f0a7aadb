import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cuntao.network.models import Village


class StationApplicationForm(forms.Form):
    village = forms.ModelChoiceField(label=_("Village"), queryset=Village.objects.none())
    station_name = forms.CharField(label=_("Station name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    applicant_name = forms.CharField(label=_("Applicant's full name"), max_length=50)
    applicant_phone = forms.CharField(label=_("Applicant's phone"), max_length=40)
    applicant_national_id = forms.CharField(label=_("Applicant's ID number"), max_length=40, required=False)
    opens_at = forms.TimeField(label=_("Opens at"), initial=datetime.time(8, 0), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    closes_at = forms.TimeField(label=_("Closes at"), initial=datetime.time(20, 0), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    shelf_capacity = forms.IntegerField(label=_("Shelf capacity (parcels)"), min_value=1, max_value=10000, initial=80)

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages


class StationOpenForm(forms.Form):
    contract_start = forms.DateField(label=_("Contract start"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    contract_end = forms.DateField(label=_("Contract end"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["contract_start"].initial = today
        self.fields["contract_end"].initial = today.replace(year=today.year + 2)


class StationNoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class VerifyForm(forms.Form):
    code = forms.CharField(label=_("Station code"), max_length=20)
