from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    Component,
    Education,
    Gender,
    HouseholdMember,
    HukouType,
    IdType,
    ImportJob,
    Organisation,
    PoliticalStatus,
    ResidentStatus,
)


def _blank(choices):
    return [("", "—")] + list(choices)


class ResidentForm(forms.Form):
    """Create/edit a resident. ID number and phone are typed in full and stored encrypted; on edit they
    stay empty unless the user wants to change them."""

    name = forms.CharField(label=_("name"), max_length=50)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.ID_CARD)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    gender = forms.ChoiceField(label=_("gender"), choices=_blank(Gender.choices), required=False)
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ethnicity = forms.CharField(label=_("ethnicity"), max_length=20, required=False, initial="汉族")
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    hukou_type = forms.ChoiceField(label=_("household registration"), choices=HukouType.choices)
    education = forms.ChoiceField(label=_("education"), choices=_blank(Education.choices), required=False)
    occupation = forms.CharField(label=_("occupation"), max_length=100, required=False)
    political_status = forms.ChoiceField(label=_("political status"), choices=_blank(PoliticalStatus.choices),
                                         required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    status = forms.ChoiceField(label=_("status"), choices=ResidentStatus.choices, initial=ResidentStatus.ACTIVE)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(label=_("reason for the change"), max_length=300, required=False)


class GridChoiceForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=None, label=_("grid"))

    def __init__(self, *args, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("Why do you need the full numbers?"), max_length=300)


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("note"), max_length=300, required=False)


class AddMemberForm(forms.Form):
    resident = forms.IntegerField(label=_("resident number"), widget=forms.HiddenInput)
    relation = forms.ChoiceField(label=_("relation to head"),
                                 choices=[c for c in HouseholdMember.Relation.choices if c[0] != "head"])


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["kind", "name", "credit_code", "legal_representative", "contact_name", "contact_phone", "address",
                  "sector", "employees", "active"]


class ComponentForm(forms.ModelForm):
    class Meta:
        model = Component
        fields = ["name", "location", "state", "owner_unit", "maintainer_unit"]


class SituationLogForm(forms.Form):
    grid = forms.ModelChoiceField(queryset=None, label=_("grid"))
    text = forms.CharField(label=_("what was heard or seen"), widget=forms.Textarea(attrs={"rows": 4}))
    place = forms.CharField(label=_("place"), max_length=200, required=False)
    tags = forms.CharField(label=_("tags"), max_length=200, required=False,
                           help_text=_("Separated by commas, e.g. 噪音, 停车"))
    follow_up_needed = forms.BooleanField(label=_("follow-up needed"), required=False)

    def __init__(self, *args, grids=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = grids


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Excel file (.xlsx)"))


class ImportConfirmForm(forms.Form):
    duplicate_mode = forms.ChoiceField(label=_("People already registered"), choices=ImportJob.DuplicateMode.choices,
                                       widget=forms.RadioSelect, initial=ImportJob.DuplicateMode.SKIP)


class ExportForm(forms.Form):
    unmasked = forms.BooleanField(label=_("Include full ID numbers and phones"), required=False)
    reason = forms.CharField(label=_("reason"), max_length=300, required=False)
