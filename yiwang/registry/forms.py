from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import (
    Component,
    Dwelling,
    Education,
    Gender,
    HouseholdMember,
    HukouType,
    IdType,
    ImportJob,
    Organisation,
    PoliticalStatus,
    Rental,
    ResidentStatus,
)


def _blank(choices):
    return [("", "—")] + list(choices)


class ResidentForm(forms.Form):
    """Create/edit a resident. ID number and phone are typed in full and stored encrypted; on edit they
    stay empty unless the user wants to change them."""

    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    id_type = forms.ChoiceField(label=_("ID type"), choices=IdType.choices, initial=IdType.ID_CARD)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False)
    gender = forms.ChoiceField(label=_("gender"), choices=_blank(Gender.choices), required=False)
    # A date input takes ISO dates only: in the page's own format (1980/05/06 in Chinese) it showed empty,
    # and saving the form then cleared the birth date.
    birth_date = forms.DateField(label=_("birth date"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
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

    def __init__(self, *args, dwellings=None, relation=False, **kwargs):
        """On edit: `dwellings` (the grid's, for the dwelling choice) and `relation` (the person is in a
        household, so has a relation to its head)."""
        super().__init__(*args, **kwargs)
        if relation:
            self.fields["relation"] = forms.ChoiceField(label=_("relation to head"),
                                                        choices=HouseholdMember.Relation.choices)
        if dwellings is not None:
            self.fields["dwelling"] = forms.ModelChoiceField(label=_("dwelling"), queryset=dwellings, required=False)
        self.order_fields(["name", "id_type", "id_number", "gender", "birth_date", "ethnicity", "phone",
                           "hukou_type", "education", "occupation", "political_status", "relation", "dwelling",
                           "address", "status", "note"])


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


# -- create pages (organisations, components, dwellings, rentals) ------------------------------------

def model_input_form(model, fields: list[str], **extra_fields) -> type[forms.Form]:
    """A plain form with the model's form fields. It parses and checks each value; the record-level
    rules (uniqueness, constraints) are the create service's, which states them in words a user can act
    on (a model form would answer a generic "constraint violated")."""
    attrs = dict(forms.fields_for_model(model, fields=fields))
    attrs.update(extra_fields)
    return type(f"{model.__name__}Input", (forms.Form,), attrs)


OrganisationCreateForm = model_input_form(Organisation, OrganisationForm.Meta.fields)


class ComponentCreateForm(model_input_form(
        Component, ["category", "name", "location", "lon", "lat", "state", "owner_unit", "maintainer_unit"],
        lon=forms.FloatField(label=_("longitude"), min_value=-180, max_value=180),
        lat=forms.FloatField(label=_("latitude"), min_value=-90, max_value=90))):
    """A new component; its serial and 16-character code are allocated by the service."""

    field_order = ["category", "name", "location", "lon", "lat"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _("Empty: the category's name.")


class HouseholdForm(forms.Form):
    """Edit a household (what records.EDITABLE allows); the dwelling among its grid's."""

    number = forms.CharField(label=_("household number"), max_length=30, required=False)
    dwelling = forms.ModelChoiceField(label=_("dwelling"), queryset=None, required=False)
    address = forms.CharField(label=_("address"), max_length=200, required=False)
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, dwellings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dwelling"].queryset = dwellings


class DwellingForm(forms.ModelForm):
    """Edit a dwelling (what records.EDITABLE allows)."""

    class Meta:
        model = Dwelling
        fields = ["use", "owner_name", "floor_area", "floor", "note"]


class DwellingCreateForm(model_input_form(Dwelling, ["building", "unit", "floor", "room", "floor_area", "use",
                                                     "owner_name"])):
    def __init__(self, *args, buildings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["building"].label_from_instance = lambda b: f"{b.grid.name} · {b.name}"


class RentalCreateForm(model_input_form(
        Rental, ["landlord_name", "registration_no", "monthly_rent", "rooms_let", "max_occupants", "start_date",
                 "end_date", "tenants"],
        start_date=forms.DateField(label=_("start"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")),
        end_date=forms.DateField(label=_("end"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")))):
    """A rental of one dwelling; tenants are chosen among the people registered at the dwelling."""

    def __init__(self, *args, tenants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenants"].widget = forms.CheckboxSelectMultiple()
        self.fields["tenants"].queryset = tenants  # also gives the widget its choices
        self.fields["tenants"].help_text = _("People registered at this dwelling; register new tenants as "
                                             "residents of the dwelling first.")

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The end is before the start."))
        return data


class RentalForm(model_input_form(
        Rental, ["landlord_name", "registration_no", "monthly_rent", "rooms_let", "max_occupants", "start_date",
                 "end_date", "tenants"],
        start_date=forms.DateField(label=_("start"), widget=forms.DateInput(attrs={"type": "date"},
                                                                             format="%Y-%m-%d")),
        end_date=forms.DateField(label=_("end"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")),
        version=forms.IntegerField(widget=forms.HiddenInput),
        reason=forms.CharField(label=_("reason for the change"), max_length=300, required=False))):
    """Edit a rental (records.EDITABLE["rental"]); `version` is the one the form was read at, so an
    edit made on an outdated copy is refused instead of overwriting someone else's."""

    def __init__(self, *args, tenants=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenants"].widget = forms.CheckboxSelectMultiple()
        self.fields["tenants"].queryset = tenants
        self.fields["tenants"].help_text = _("People registered at this dwelling and the current tenants.")

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The end is before the start."))
        return data
