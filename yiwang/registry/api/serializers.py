import operator
from collections.abc import Callable

from django.db import models
from rest_framework import serializers

from ..models import ChangeRequest, Component, Household, Organisation, Resident, SituationLog, SpecialGroup


def _flat_getters(model, names: list[str], extra: dict) -> list[tuple[str, Callable]]:
    """(key, getter) per output field: foreign keys by id, dates as DRF writes them, the rest as stored."""
    dates = {models.DateTimeField: serializers.DateTimeField(), models.DateField: serializers.DateField()}
    getters = []
    for name in names:
        if name in extra:
            getters.append((name, extra[name]))
            continue
        field = model._meta.get_field(name)
        attribute = operator.attrgetter(field.attname)
        formatter = next((f for kind, f in dates.items() if isinstance(field, kind)), None)
        if formatter is not None:
            getters.append((name, lambda obj, a=attribute, f=formatter: None if a(obj) is None
                            else f.to_representation(a(obj))))
        else:
            getters.append((name, attribute))
    return getters


class ResidentOutput(serializers.ModelSerializer):
    """Personal data only masked; full values come from the audited reveal endpoint.

    Lists and search serialise many rows, and a ModelSerializer builds its fields anew per request and
    walks them per row (more CPU than the query); this one reads its fields directly. The generic
    representation stays the reference (tests/test_api.py compares the two), and the OpenAPI schema
    still comes from the declared fields.
    """

    grid_code = serializers.CharField(source="grid.code", read_only=True)

    class Meta:
        model = Resident
        fields = ["id", "name", "gender", "birth_date", "ethnicity", "id_type", "id_masked", "phone_masked",
                  "hukou_type", "education", "occupation", "political_status", "grid", "grid_code", "dwelling",
                  "address", "status", "version", "updated_at"]

    def to_representation(self, instance) -> dict:
        return {key: get(instance) for key, get in _RESIDENT_GETTERS}


# A grid's code is its path (zero-filled to 15 digits, as for every area), and a resident's area_path is
# its grid's path (what scoping relies on): the code needs no join.
_RESIDENT_GETTERS = _flat_getters(Resident, ResidentOutput.Meta.fields,
                                  {"grid_code": lambda r: r.area_path.ljust(15, "0")})


class ResidentCreateInput(serializers.Serializer):
    grid = serializers.IntegerField()
    name = serializers.CharField(max_length=50)
    id_type = serializers.CharField(required=False)
    id_number = serializers.CharField(required=False, allow_blank=True, max_length=30)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    gender = serializers.CharField(required=False, allow_blank=True)
    birth_date = serializers.CharField(required=False, allow_blank=True)
    ethnicity = serializers.CharField(required=False, allow_blank=True)
    hukou_type = serializers.CharField(required=False)
    education = serializers.CharField(required=False, allow_blank=True)
    occupation = serializers.CharField(required=False, allow_blank=True)
    political_status = serializers.CharField(required=False, allow_blank=True)
    address = serializers.CharField(required=False, allow_blank=True)


class RecordEditInput(serializers.Serializer):
    changes = serializers.DictField(help_text="field -> new value")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)
    version = serializers.IntegerField(required=False, help_text="the version you read; 409 if it changed")


class RevealInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class RevealOutput(serializers.Serializer):
    id_number = serializers.CharField()
    phone = serializers.CharField()


class HouseholdOutput(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "number", "grid", "dwelling", "address", "members", "version"]

    def get_members(self, obj) -> list[dict]:
        return [{"resident": m.resident_id, "name": m.resident.name, "relation": m.relation,
                 "joined_on": m.joined_on}
                for m in getattr(obj, "current_memberships", None) or obj.current_members()]


class OrganisationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "kind", "name", "credit_code", "legal_representative", "contact_name", "contact_phone",
                  "address", "grid", "building", "sector", "employees", "party_organisation", "lon", "lat", "active",
                  "version"]


class ComponentOutput(serializers.ModelSerializer):
    category_name = serializers.CharField(source="category.name", read_only=True)
    major = serializers.CharField(source="category.large_name", read_only=True)

    class Meta:
        model = Component
        fields = ["id", "code", "category", "category_name", "major", "name", "location", "lon", "lat", "grid",
                  "department", "owner_unit", "maintainer_unit", "state", "installed_on", "version"]


class SituationLogOutput(serializers.ModelSerializer):
    class Meta:
        model = SituationLog
        fields = ["id", "grid", "author", "occurred_at", "place", "lon", "lat", "text", "tags", "residents",
                  "households", "follow_up_needed", "created_at"]


class SituationLogInput(serializers.Serializer):
    grid = serializers.IntegerField()
    text = serializers.CharField()
    occurred_at = serializers.DateTimeField(required=False)
    place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tags = serializers.CharField(required=False, allow_blank=True, max_length=200)
    follow_up_needed = serializers.BooleanField(required=False, default=False)
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    residents = serializers.ListField(child=serializers.IntegerField(), required=False)
    households = serializers.ListField(child=serializers.IntegerField(), required=False)


class ChangeRequestOutput(serializers.ModelSerializer):
    changes = serializers.SerializerMethodField()

    class Meta:
        model = ChangeRequest
        fields = ["id", "target_type", "target_id", "target_repr", "changes", "reason", "state", "submitted_by",
                  "submitted_at", "reviewed_by", "reviewed_at", "review_note"]

    def get_changes(self, obj) -> dict:
        from ..records import display_value

        return {f: {"old": display_value(f, v["old"]), "new": display_value(f, v["new"])}
                for f, v in obj.changes.items()}


class ReviewInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SpecialGroupOutput(serializers.ModelSerializer):
    class Meta:
        model = SpecialGroup
        fields = ["id", "code", "name", "sensitivity", "visit_interval_days"]
