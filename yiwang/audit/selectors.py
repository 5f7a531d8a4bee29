from .models import AuditEvent

VIEW_AUDIT = "audit.view_auditevent"


def audit_event_list_visible_to(actor, *, action: str = "", object_type: str = "", object_id: str = ""):
    events = AuditEvent.objects.visible_to(actor, VIEW_AUDIT).select_related("actor")
    if action:
        events = events.filter(action__startswith=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id:
        events = events.filter(object_id=object_id)
    return events
