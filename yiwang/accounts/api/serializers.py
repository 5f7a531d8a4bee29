from rest_framework import serializers

from ..models import ApiToken, Department, Membership, User


class DepartmentOutput(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area.code", read_only=True)

    class Meta:
        model = Department
        fields = ["id", "code", "name", "area", "area_code", "duty", "phone", "active"]


class MembershipOutput(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area.code", read_only=True)
    area_name = serializers.CharField(source="area.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["role", "area", "area_code", "area_name", "department"]


class UserOutput(serializers.ModelSerializer):
    memberships = MembershipOutput(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "memberships"]


class ApiTokenOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]


class ApiTokenCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)


class ApiTokenCreatedOutput(ApiTokenOutput):
    key = serializers.CharField(read_only=True)

    class Meta(ApiTokenOutput.Meta):
        fields = ApiTokenOutput.Meta.fields + ["key"]
