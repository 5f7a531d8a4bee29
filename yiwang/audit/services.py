"""Recording audit events. Every service that writes calls `audit_record` inside its transaction."""

from django.db import models

from yiwang.core.context import client_ip
from yiwang.core.inserts import insert_new

from .models import AuditEvent


def _jsonable(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def area_path_of(obj) -> str:
    """The scope path of an object, from its `scope_path_lookup` (for example "grid__path")."""
    lookup = getattr(type(obj), "scope_path_lookup", None)
    if not lookup:
        return ""
    value = obj
    for part in lookup.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return ""
    return str(value)


def audit_event(*, actor, action: str, obj=None, changes: dict | None = None, area_path: str | None = None,
                reason: str = "", object_repr: str | None = None) -> AuditEvent:
    """The audit event `audit_record` writes, unsaved: services writing several at once pass them to
    `audit_record_many` (one INSERT)."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent(
        actor=actor if authenticated else None,
        actor_label=(actor.get_username() if authenticated else "system")[:150],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=(object_repr if object_repr is not None else (str(obj) if obj is not None else ""))[:200],
        area_path=area_path if area_path is not None else (area_path_of(obj) if obj is not None else ""),
        changes=_jsonable(changes or {}),
        reason=reason[:300],
        ip=client_ip(),
    )


def audit_record(*, actor, action: str, obj=None, changes: dict | None = None, area_path: str | None = None,
                 reason: str = "", object_repr: str | None = None) -> AuditEvent:
    """Append one audit event. `changes` maps field -> [old, new] (or any JSON-able detail)."""
    event = audit_event(actor=actor, action=action, obj=obj, changes=changes, area_path=area_path, reason=reason,
                        object_repr=object_repr)
    event.save()
    return event


def audit_record_many(events: list[AuditEvent]) -> list[AuditEvent]:
    """Append several events made by `audit_event`, in order, with one INSERT."""
    return insert_new(events) if events else []


def field_changes(instance, data: dict) -> dict:
    """The subset of `data` that differs from `instance`, as field -> [old, new]."""
    changes = {}
    for field, new in data.items():
        old = getattr(instance, field)
        if old != new:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def apply_changes(instance, data: dict) -> dict:
    """Set the changed fields on `instance` and return the audit diff."""
    changes = field_changes(instance, data)
    for field in changes:
        setattr(instance, field, data[field])
    return changes
