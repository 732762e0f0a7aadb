from django import forms
from django.utils.translation import gettext_lazy as _

from cuntao.orders.models import AVAILABLE_PAYMENT_METHODS, PaymentMethod


class OrderHeaderForm(forms.Form):
    villager = forms.ModelChoiceField(queryset=None, label=_("Villager"), empty_label=_("Choose the villager"))
    payment_method = forms.ChoiceField(label=_("How the villager pays"), widget=forms.RadioSelect,
                                       choices=[(m.value, m.label) for m in AVAILABLE_PAYMENT_METHODS],
                                       initial=PaymentMethod.CASH_ON_DELIVERY)

    def __init__(self, *args, villagers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["villager"].queryset = villagers


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
