"""Forms for intake (staff, grid worker, public) and for workflow actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel
from .selectors import category_leaves
from .workflow import ReturnReason, SupervisionMark


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "capture": "environment"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultiplePhotoField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


def category_choices(public_only=False):
    choices = [("", "—")]
    groups: dict = {}
    for cat in category_leaves(public_only=public_only).order_by("code"):
        groups.setdefault(cat.parent.name if cat.parent else "", []).append((cat.code, f"{cat.code} {cat.name}"))
    choices += [(group, items) for group, items in groups.items()]
    return choices


class IntakeForm(forms.Form):
    STAFF_CHANNELS = [(c.value, c.label) for c in (Channel.GRID_WORKER, Channel.COUNTER, Channel.HOTLINE)]

    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS)
    category = forms.ChoiceField(label=_("Category"))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    lon = forms.FloatField(label=_("Longitude"), widget=forms.HiddenInput)
    lat = forms.FloatField(label=_("Latitude"), widget=forms.HiddenInput)
    address = forms.CharField(label=_("Address"), required=False, max_length=200)
    building = forms.IntegerField(label=_("Building"), required=False, widget=forms.HiddenInput)
    reporter_name = forms.CharField(label=_("Resident's name"), required=False, max_length=50)
    reporter_phone = forms.CharField(label=_("Resident's phone"), required=False, max_length=20)
    photos = MultiplePhotoField(label=_("Photos"))
    resolve_on_spot = forms.BooleanField(label=_("I resolved it on the spot"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()


class PublicIntakeForm(forms.Form):
    category = forms.ChoiceField(label=_("What is the problem about?"))
    description = forms.CharField(label=_("Describe the problem"), widget=forms.Textarea(attrs={"rows": 4}),
                                  max_length=4000)
    lon = forms.FloatField(widget=forms.HiddenInput)
    lat = forms.FloatField(widget=forms.HiddenInput)
    address = forms.CharField(label=_("Address or landmark"), required=False, max_length=200)
    photos = MultiplePhotoField(label=_("Photos (optional)"))
    name = forms.CharField(label=_("Your name (optional)"), required=False, max_length=50)
    phone = forms.CharField(label=_("Mobile number"), max_length=11)
    code = forms.CharField(label=_("Verification code"), max_length=6)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(public_only=True)


class ActionForm(forms.Form):
    """Every field an action may need; services check which are required for the chosen action."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              max_length=2000)
    department = forms.IntegerField(label=_("Department"), required=False)
    reason_code = forms.ChoiceField(label=_("Reason"), choices=[("", "—")] + ReturnReason.choices, required=False)
    days = forms.IntegerField(label=_("Working days"), required=False, min_value=1, max_value=30)
    mark = forms.ChoiceField(label=_("Mark"), choices=SupervisionMark.choices[1:], required=False)
    responsible = forms.CharField(label=_("Who is responsible instead"), required=False, max_length=200)
    merged_into = forms.CharField(label=_("Duplicate of (tracking code)"), required=False, max_length=16)
    photos = MultiplePhotoField(label=_("Photos"))
