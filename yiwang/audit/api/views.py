from rest_framework import viewsets

from ..filtersets import AuditEventFilterSet
from ..selectors import audit_event_list_visible_to
from .serializers import AuditEventOutput


class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Audit events in the caller's areas (administrators)."""

    serializer_class = AuditEventOutput
    filterset_class = AuditEventFilterSet

    def get_queryset(self):
        return audit_event_list_visible_to(self.request.user)
