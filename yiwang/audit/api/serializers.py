from rest_framework import serializers

from ..models import AuditEvent


class AuditEventOutput(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["id", "at", "actor", "actor_label", "action", "object_type", "object_id", "object_repr",
                  "area_path", "changes", "reason", "ip"]
