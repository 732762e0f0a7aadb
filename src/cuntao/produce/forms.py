"""Forms of the produce pages: shapes and types only; the rules live in services."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cuntao.produce.models import InspectionResult

MAX_PHOTO_BYTES = 8 * 1024 * 1024


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero or more photos from one <input type=file multiple capture>."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        for upload in files:
            if upload.size > MAX_PHOTO_BYTES:
                raise ValidationError(_("A photo can be at most 8 MB."))
        return files


def _today():
    return timezone.localdate()


class InputAppliedForm(forms.Form):
    input_name = forms.CharField(label=_("Input"), max_length=80,
                                 widget=forms.TextInput(attrs={"list": "allowed-inputs", "autocomplete": "off"}))
    dose_total = forms.DecimalField(label=_("Amount applied on the whole plot"), min_value=Decimal("0.001"),
                                    max_digits=12, decimal_places=3)
    dose_unit = forms.CharField(label=_("Unit"), max_length=10, required=False)
    applied_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    photos = PhotosField(label=_("Photos"))


class TaskDoneForm(forms.Form):
    sop_task_id = forms.TypedChoiceField(label=_("Task"), coerce=int)
    done_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)
    photos = PhotosField(label=_("Photos"))

    def __init__(self, *args, tasks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sop_task_id"].choices = [(t.pk, t.name) for t in tasks]


class ObservationForm(forms.Form):
    observed_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("What you saw"), max_length=500, required=False)
    photos = PhotosField(label=_("Photos"))


class HarvestForm(forms.Form):
    kg = forms.DecimalField(label=_("Harvest (kg)"), min_value=Decimal("0.001"), max_digits=12, decimal_places=3)
    harvested_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)


class InspectionForm(forms.Form):
    checkpoint_id = forms.TypedChoiceField(label=_("Checkpoint"), coerce=int)
    result = forms.ChoiceField(label=_("Result"), choices=InspectionResult.choices, widget=forms.RadioSelect)
    inspected_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Notes"), max_length=500, required=False)
    photos = PhotosField(label=_("Photos"))

    def __init__(self, *args, checkpoints=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["checkpoint_id"].choices = [(c.pk, c.name) for c in checkpoints]


class ClearViolationForm(forms.Form):
    note = forms.CharField(label=_("Why it is cleared"), max_length=500)


def parse_samples(text: str) -> list[tuple[str, str]]:
    """Sample lines "weight brix" (one fruit a line, such as "112 15.6"); the service checks values."""
    rows = []
    for line in (text or "").replace(",", " ").replace("，", " ").splitlines():
        parts = line.split()
        if parts:
            rows.append(tuple(parts[:2]) if len(parts) >= 2 else (parts[0],))
    return rows


class GradingForm(forms.Form):
    harvest_lots = forms.MultipleChoiceField(label=_("Harvest lots"), widget=forms.CheckboxSelectMultiple)
    samples = forms.CharField(label=_("Sample fruit: weight in g and °Brix, one fruit a line"), widget=forms.Textarea(
        attrs={"rows": 5, "placeholder": "112 15.6\n98 14.2"}))
    graded_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, lots=(), grades=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["harvest_lots"].choices = [(lot.code, f"{lot.code} · {lot.member.name} · {lot.kg} kg") for lot in lots]
        self.grades = list(grades)
        for grade in self.grades:
            self.fields[f"grade_{grade.code}"] = forms.DecimalField(
                label=_("Grade %(code)s (kg)") % {"code": grade.code}, required=False, min_value=0, max_digits=12,
                decimal_places=3)

    def grade_kg(self) -> dict:
        return {g.code: self.cleaned_data[f"grade_{g.code}"] for g in self.grades if self.cleaned_data.get(f"grade_{g.code}")}


class PackingForm(forms.Form):
    pack_size_id = forms.TypedChoiceField(label=_("Pack"), coerce=int)
    box_count = forms.IntegerField(label=_("Boxes"), min_value=1, max_value=2000)
    packed_on = forms.DateField(label=_("Date"), initial=_today, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, packs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pack_size_id"].choices = [(p.pk, p.name) for p in packs]


class AssignInspectorForm(forms.Form):
    username = forms.CharField(label=_("Inspector's user name"), max_length=150)


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Farmer's name"), max_length=50)
    village_id = forms.TypedChoiceField(label=_("Village"), coerce=int)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    show_name_publicly = forms.BooleanField(label=_("Agrees to show their name on the trace page"), required=False)
    show_photo_publicly = forms.BooleanField(label=_("Agrees to show their photo on the trace page"), required=False)

    def __init__(self, *args, villages=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village_id"].choices = [(v.pk, v.name) for v in villages]


class PlotForm(forms.Form):
    member_id = forms.TypedChoiceField(label=_("Farmer"), coerce=int)
    name = forms.CharField(label=_("Plot name"), max_length=60)
    lat = forms.DecimalField(label=_("Latitude"), max_digits=9, decimal_places=6, min_value=-90, max_value=90)
    lon = forms.DecimalField(label=_("Longitude"), max_digits=9, decimal_places=6, min_value=-180, max_value=180)
    area_mu = forms.DecimalField(label=_("Area (mu)"), max_digits=8, decimal_places=2, min_value=Decimal("0.01"))
    crop = forms.CharField(label=_("Crop"), max_length=50)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member_id"].choices = [(m.pk, f"{m.name} · {m.village.name}") for m in members]
