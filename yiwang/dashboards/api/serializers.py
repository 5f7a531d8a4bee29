import datetime as dt

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class ReportRequestInput(serializers.Serializer):
    area = serializers.CharField(max_length=15)
    month = serializers.CharField(max_length=7, help_text="YYYY-MM")

    def validate_month(self, value):
        try:
            first = dt.date.fromisoformat(f"{value}-01")
        except ValueError:
            raise serializers.ValidationError(_("Give the month as YYYY-MM.")) from None
        if first > dt.date.today():
            raise serializers.ValidationError(_("That month has not started yet."))
        return first
