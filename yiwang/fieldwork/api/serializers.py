from rest_framework import serializers

from ..models import Patrol, PhotoUpload, Visit


class SyncInput(serializers.Serializer):
    client_sent_at = serializers.JSONField(required=False, allow_null=True,
                                           help_text="The phone's clock when sending (ISO 8601 or epoch ms)")
    records = serializers.ListField(child=serializers.DictField(), allow_empty=True, max_length=500,
                                    help_text="Each: uuid, kind, client_time, base_version?, data")


class SyncOutput(serializers.Serializer):
    server_time = serializers.CharField()
    clock_skew_s = serializers.IntegerField()
    clock_flag = serializers.BooleanField()
    clock_message = serializers.CharField()
    results = serializers.ListField(child=serializers.DictField())


class UploadStartInput(serializers.Serializer):
    upload_id = serializers.UUIDField()
    filename = serializers.CharField(max_length=200, required=False, default="photo.jpg")
    content_type = serializers.CharField(max_length=60)
    size = serializers.IntegerField(min_value=1)


class UploadOutput(serializers.ModelSerializer):
    offset = serializers.IntegerField(source="received")

    class Meta:
        model = PhotoUpload
        fields = ["upload_id", "filename", "content_type", "size", "offset", "status", "width", "height"]


class VisitOutput(serializers.ModelSerializer):
    worker = serializers.StringRelatedField()
    grid = serializers.CharField(source="grid.name")

    class Meta:
        model = Visit
        fields = ["id", "client_uuid", "worker", "grid", "household", "household_label", "visited_at", "purpose",
                  "method", "people_met", "findings", "needs", "follow_up", "follow_up_due", "follow_up_done_at",
                  "photos", "lon", "lat", "version", "clock_skew_s", "created_at"]


class PatrolOutput(serializers.ModelSerializer):
    worker = serializers.StringRelatedField()
    grid = serializers.CharField(source="grid.name")
    points = serializers.IntegerField(source="point_count")

    class Meta:
        model = Patrol
        fields = ["id", "client_uuid", "worker", "grid", "day", "started_at", "ended_at", "distance_m", "duration_s",
                  "points", "checkins", "note", "clock_skew_s", "created_at"]
