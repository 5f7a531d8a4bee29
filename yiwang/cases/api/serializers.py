"""Input/Output serializers for the cases API."""

import copy

from rest_framework import serializers

from ..models import Case, CaseStep, Category, Channel
from ..workflow import TRANSITIONS


class CategoryOutput(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent.code", default=None)
    default_department = serializers.CharField(source="default_department.name", default=None)
    is_leaf = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["id", "code", "parent", "kind", "name", "handling_modes", "accept_limit_hours", "sign_limit_hours",
                  "verify_limit_hours", "default_department", "on_the_spot", "public", "attributes", "is_leaf"]

    def get_is_leaf(self, obj) -> bool:
        return not obj.children.exists() if not hasattr(obj, "_leaf") else obj._leaf


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj) -> str:
        return f"/cases/photos/{obj.pk}/"


class StepOutput(serializers.ModelSerializer):
    department = serializers.CharField(source="department.name", default=None)
    attachments = AttachmentOutput(many=True, read_only=True)

    class Meta:
        model = CaseStep
        fields = ["id", "action", "from_state", "to_state", "actor_label", "department", "level", "at", "deadline",
                  "on_time", "comment", "reason_code", "rating", "data", "attachments"]


class FieldsBuiltOnce:
    """A ModelSerializer builds its fields from the model for every object it serializes, which was a
    tenth of an intake request's CPU. Build them once per class; each instance binds its own shallow
    copies (an unbound field holds only its configuration, which serializing never changes)."""

    def get_fields(self):
        cls = type(self)
        fields = cls.__dict__.get("_fields_built_once")
        if fields is None:
            fields = super().get_fields()
            cls._fields_built_once = fields
        return {name: copy.copy(field) for name, field in fields.items()}


class CaseOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    category = serializers.CharField(source="category.code")
    category_name = serializers.CharField(source="category.name")
    grid = serializers.CharField(source="grid.path")
    grid_name = serializers.CharField(source="grid.name")
    department = serializers.CharField(source="department.name", default=None)
    reporter_name_masked = serializers.CharField(read_only=True)
    replayed = serializers.SerializerMethodField()

    class Meta:
        model = Case
        # The reporter only masked; the full name and phone come from the audited reveal endpoint.
        fields = ["id", "tracking_code", "channel", "category", "category_name", "handling_mode", "grid", "grid_name",
                  "lon", "lat", "address", "building", "description", "reporter_name_masked",
                  "reporter_phone_masked", "state", "level", "department",
                  "deadline", "due_at", "overdue", "supervision", "deferred", "extension_days", "rating",
                  "review_needed", "merged_into", "created_at", "closed_at", "version", "replayed"]

    def get_replayed(self, obj) -> bool:
        return bool(getattr(obj, "replayed", False))


class CaseCreateInput(FieldsBuiltOnce, serializers.Serializer):
    channel = serializers.ChoiceField(choices=[c for c in Channel.values if c not in ("web", "open311")],
                                      default=Channel.API)
    category = serializers.CharField(allow_blank=True)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    description = serializers.CharField(max_length=4000)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    building = serializers.IntegerField(required=False, allow_null=True, default=None)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=50, default="")
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    handling_mode = serializers.CharField(required=False, allow_blank=True, default="")
    resolve_on_spot = serializers.BooleanField(required=False, default=False)
    idempotency_key = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    photos = serializers.ListField(child=serializers.ImageField(), required=False, default=list)


class ActInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=list(TRANSITIONS))
    version = serializers.IntegerField()
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    department = serializers.IntegerField(required=False, allow_null=True, default=None)
    reason_code = serializers.CharField(required=False, allow_blank=True, default="")
    days = serializers.IntegerField(required=False, allow_null=True, default=None)
    mark = serializers.CharField(required=False, allow_blank=True, default="")
    responsible = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    merged_into = serializers.CharField(required=False, allow_blank=True, default="")
    rating = serializers.IntegerField(required=False, allow_null=True, default=None)
    photos = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class RevealInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ReporterRevealOutput(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
