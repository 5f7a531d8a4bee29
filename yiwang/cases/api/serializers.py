"""Input/Output serializers for the cases API."""

import copy

from django.utils.functional import cached_property
from rest_framework import serializers
from rest_framework.utils.formatting import lazy_format
from rest_framework.utils.serializer_helpers import BindingDict

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

    # drf-spectacular publishes the docstring above as the description of CaseOutput and CaseCreateInput
    # (inspect.getdoc inherits it): it stays word for word while the API schema must not change.
    #
    # DRF deep-copies the declared fields for every instance (a ModelSerializer first builds them from the
    # model) and binds each (name, label, source path). Here they are built and bound once per class; each
    # instance gets shallow copies with `parent` set to it (and a copied `child` for list fields), so a
    # field reaches its own serializer's methods and context as in DRF, and changing one instance's field
    # never touches another's. Only for serializers whose fields depend on the class alone (not on the
    # instance, context or request); one that nests a serializer gets DRF's own fields, built per instance.

    @cached_property
    def fields(self):
        templates = self._field_templates()
        if templates is None:  # a nested serializer: DRF's own fields, per instance
            return super().fields
        fields = BindingDict(self)
        own = fields.fields
        for name, template in templates.items():
            own[name] = _field_copy(template, self)
        return fields

    def _field_templates(self) -> dict | None:
        """The class's fields, built and bound once (by its first instance), unbound from it; None when one
        of them is a serializer."""
        cls = type(self)
        if "_bound_fields_once" not in cls.__dict__:
            built = BindingDict(self)
            for name, field in super().get_fields().items():
                built[name] = field
            templates = built.fields
            if any(isinstance(f, serializers.BaseSerializer)
                   or isinstance(getattr(f, "child", None), serializers.BaseSerializer) for f in templates.values()):
                templates = None
            else:
                for field in templates.values():
                    field.parent = None  # templates must not keep this instance alive
                    _messages_in_each_language(field)
            cls._bound_fields_once = templates
        return cls._bound_fields_once

    @property
    def _readable_fields(self):
        return [field for field in self.fields.fields.values() if not field.write_only]

    @property
    def _writable_fields(self):
        return [field for field in self.fields.fields.values() if not field.read_only]


class _FormatEachTime(lazy_format):
    """DRF's lazy_format keeps its first rendering. A validator built once per process would then answer every
    later request in the language of the first one that failed it; this renders in the current language."""

    __slots__ = ()

    def __str__(self):
        return self.format_string.format(*self.args, **self.kwargs)


def _messages_in_each_language(field: serializers.Field) -> None:
    """Give a template field's validators messages rendered per use (max_length, min_value...)."""
    for node in (field, field.__dict__.get("child")):
        validators = getattr(node, "__dict__", {}).get("_validators")
        if not validators:
            continue
        fixed = []
        for validator in validators:
            message = getattr(validator, "message", None)
            if isinstance(message, lazy_format) and not isinstance(message, _FormatEachTime):
                assert message.result is None, "a template field's message was rendered before it was built"
                validator = copy.copy(validator)
                validator.message = _FormatEachTime(message.format_string, *message.args, **message.kwargs)
            fixed.append(validator)
        node._validators = fixed


def _field_copy(template: serializers.Field, parent) -> serializers.Field:
    """A shallow copy of a bound field, bound to `parent`: what copy.copy makes, at a tenth of its cost."""
    field = object.__new__(type(template))
    field.__dict__ = template.__dict__.copy()
    field.parent = parent
    child = field.__dict__.get("child")
    if child is not None and isinstance(child, serializers.Field):
        field.child = _field_copy(child, field)
    return field


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
