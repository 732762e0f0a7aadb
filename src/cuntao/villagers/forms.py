from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cuntao.villagers.models import Gender, Household, Relation


class VillagerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, widget=forms.RadioSelect)
    birth_year = forms.IntegerField(label=_("Birth year"), widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    phone = forms.CharField(label=_("Phone (optional)"), max_length=40, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel"}))
    national_id = forms.CharField(label=_("ID number (optional)"), max_length=40, required=False)
    household = forms.ModelChoiceField(label=_("Household"), queryset=Household.objects.none(), required=False,
                                       empty_label=_("— new household or none —"))
    new_household_name = forms.CharField(label=_("Or a new household's name"), max_length=100, required=False)
    needs_large_print = forms.BooleanField(label=_("Needs large print"), required=False)
    needs_voice = forms.BooleanField(label=_("Cannot read messages: call or tell in person"), required=False)
    language = forms.ChoiceField(label=_("Language for notices"), choices=settings.LANGUAGES, initial="zh-hans")
    consent = forms.BooleanField(label=_("The villager agrees that the station keeps these details"), required=False)

    def __init__(self, *args, households, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["birth_year"].widget.attrs.update({"min": 1900, "max": timezone.localdate().year})
        if editing:
            del self.fields["consent"]
            del self.fields["new_household_name"]


class RelativeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    relation = forms.ChoiceField(label=_("Relation"), choices=Relation.choices)
    phone = forms.CharField(label=_("Phone"), max_length=40, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    city = forms.CharField(label=_("City where they work"), max_length=50, required=False)
    receives_notices = forms.BooleanField(label=_("Send them the villager's notices"), required=False, initial=True)
