"""REST endpoint for the caller's own inbox."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from ..services import inbox_for, notification_mark_read
from .serializers import NotificationOutput


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own inbox; POST mark_read marks one (`id`) or all as read."""

    serializer_class = NotificationOutput

    def get_queryset(self):
        return inbox_for(self.request.user)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"])
    def mark_read(self, request):
        raw = str(request.data.get("id", ""))
        count = notification_mark_read(actor=request.user, notification_id=int(raw) if raw.isdigit() else None)
        return Response({"marked": count})
