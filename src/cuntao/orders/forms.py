from django import forms
from django.utils.translation import gettext_lazy as _

from cuntao.ledger.forms import YuanField
from cuntao.orders.models import AVAILABLE_PAYMENT_METHODS, ExternalPlatform, PaymentMethod, ReviewOutcome
from cuntao.villagers.models import MigrantRelative


class OrderHeaderForm(forms.Form):
    villager = forms.ModelChoiceField(queryset=None, label=_("Villager"), empty_label=_("Choose the villager"))
    payment_method = forms.ChoiceField(label=_("How the villager pays"), widget=forms.RadioSelect,
                                       choices=[(m.value, m.label) for m in AVAILABLE_PAYMENT_METHODS],
                                       initial=PaymentMethod.CASH_ON_DELIVERY)

    relative = forms.ModelChoiceField(queryset=None, required=False, label=_("Relative who pays"),
                                      empty_label=_("Choose the relative (for \"A relative pays\")"),
                                      help_text=_("They get a pay link by text message."))

    def __init__(self, *args, villagers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["villager"].queryset = villagers
        self.fields["relative"].queryset = (MigrantRelative.objects.filter(villager__in=villagers)
                                            .select_related("villager").order_by("villager__name", "pk"))
        self.fields["relative"].label_from_instance = lambda r: f"{r.villager.name}: {r.name} ({r.get_relation_display()})"


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


# --- credit, external-marketplace orders, fraud reviews --------------------------------

class CreditLimitForm(forms.Form):
    limit_fen = YuanField(label=_("Credit limit (yuan)"), min_fen=0,
                          help_text=_("How much this villager may owe the station; 0 stops new credit."))


class CreditRepayForm(forms.Form):
    amount_fen = YuanField(label=_("Cash paid back (yuan)"))
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class ExternalOrderForm(forms.Form):
    villager = forms.ModelChoiceField(queryset=None, label=_("Villager"), empty_label=_("Choose the villager"))
    platform = forms.ChoiceField(label=_("Platform"), choices=ExternalPlatform.choices, widget=forms.RadioSelect)
    platform_order_number = forms.CharField(label=_("The platform's order number"), max_length=64,
                                            widget=forms.TextInput(attrs={"autocomplete": "off"}))
    amount_fen = YuanField(label=_("Amount paid on the platform (yuan)"))
    description = forms.CharField(label=_("What was bought"), max_length=200)
    carrier = forms.CharField(label=_("Parcel carrier (optional)"), max_length=40, required=False)
    tracking_number = forms.CharField(label=_("Tracking number (optional)"), max_length=40, required=False,
                                      widget=forms.TextInput(attrs={"autocomplete": "off"}))

    def __init__(self, *args, villagers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["villager"].queryset = villagers


class FlagReviewForm(forms.Form):
    flag_key = forms.CharField(widget=forms.HiddenInput, max_length=120)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(label=_("What you checked"), max_length=500)
