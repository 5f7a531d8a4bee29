from rest_framework import serializers

from ..models import Area, Building


class AreaOutput(serializers.ModelSerializer):
    code = serializers.CharField(read_only=True)
    level = serializers.SerializerMethodField()
    parent_code = serializers.SerializerMethodField()

    class Meta:
        model = Area
        fields = ["id", "code", "name", "level", "parent", "parent_code", "households_estimate",
                  "centroid_lon", "centroid_lat", "boundary", "updated_at"]

    def get_level(self, obj) -> str:
        return obj.level_enum.slug

    def get_parent_code(self, obj) -> str | None:
        return obj.parent.code if obj.parent_id else None


class AreaUpdateInput(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=100)
    boundary = serializers.JSONField(required=False)
    households_estimate = serializers.IntegerField(required=False, min_value=0)


class BuildingOutput(serializers.ModelSerializer):
    grid_code = serializers.CharField(source="grid.code", read_only=True)

    class Meta:
        model = Building
        fields = ["id", "grid", "grid_code", "number", "name", "address", "lon", "lat", "floors", "units"]


class BuildingCreateInput(serializers.Serializer):
    grid = serializers.IntegerField()
    number = serializers.CharField(max_length=20)
    name = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=200)
    lon = serializers.FloatField(min_value=-180, max_value=180)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    floors = serializers.IntegerField(min_value=1, max_value=200, default=6)
    units = serializers.IntegerField(min_value=1, max_value=50, default=2)


class GridLookupOutput(serializers.Serializer):
    grid = AreaOutput(allow_null=True)
