from __future__ import annotations

from django import forms

from notifications.models import WebhookEndpoint


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="Endpoint URL", assume_scheme="https")
    format = forms.ChoiceField(choices=WebhookEndpoint.Format.choices, initial=WebhookEndpoint.Format.JSON)
    description = forms.CharField(max_length=200, required=False)
