"""Registry corrections made on the phone during a visit: a resident's or a household's fields, sent
through the offline outbox as sync records of kind "correction" and turned into change requests by the
registry's own service (registry.services.change_request_submit). Community staff review them side by
side at /registry/changes/; nothing in the registry changes until they approve.

Which fields may be corrected, and how values are checked, is the registry's (records.EDITABLE and its
cleaning rules); this module only describes those fields to the phone and checks what the phone may
know: the version it based the correction on, and that the record is in the worker's grids.
Personal numbers (ID number, phone) stay masked on the phone: the form shows the masked value and a
new value can be typed, never the old one read.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import parsing as p
from .services import SyncConflict
from .sync import Applied

# The record types the phone's form offers (a visit is about a household and its people).
PHONE_TARGETS = ("resident", "household")
# Current values the phone caches (appdata), so its form starts from them; other fields start empty
# and an empty input means "keep". Notes and birth dates stay off the phone. The relation to the head
# rides in the resident row already; a dwelling is cached as its id, and the phone's dwelling choices
# are the grid's dwellings (appdata "dwellings": [id, building id, unit, room]).
CACHED_ON_PHONE = {
    "resident": ("name", "gender", "ethnicity", "id_type", "hukou_type", "education", "occupation",
                 "political_status", "relation", "dwelling", "address", "status"),
    "household": ("number", "dwelling", "address"),
}


def _label(text) -> str:
    """A label in the current language. Some English labels carry the Chinese term in brackets
    ("Registered (户籍)"); the English app shows the English part only."""
    text = str(text)
    if not (get_language() or "").startswith("zh") and text.endswith(")") and " (" in text:
        return text.rsplit(" (", 1)[0]
    return text


def _describe(model, name: str, *, masked_column: str | None, cached: bool) -> dict:
    from yiwang.registry import records
    from yiwang.registry.models import HouseholdMember

    secret = masked_column is not None
    if name == records.RELATION:  # on the person's membership row, not the resident
        field = HouseholdMember._meta.get_field("relation")
    else:
        field = model._meta.get_field(masked_column or name)
    spec = {"name": name, "label": _label(field.verbose_name), "blank": bool(field.blank), "cached": cached}
    if secret:
        spec["kind"] = "phone" if name == "phone" else "secret"
    elif name in records.REFERENCE_FIELDS:
        spec["kind"] = "dwelling"  # options from the cached grid data
    elif field.choices:
        spec.update(kind="choice", choices=[[value, _label(label)] for value, label in field.choices])
    elif isinstance(field, models.DateField):
        spec["kind"] = "date"
    elif isinstance(field, models.TextField) or (field.max_length or 0) > 200:
        spec["kind"] = "textarea"
    else:
        spec["kind"] = "text"
    if getattr(field, "max_length", None) and not secret:
        spec["max_length"] = field.max_length
    if cached and _plain_default(field) is not None:
        spec["default"] = _plain_default(field)  # the phone's cache leaves out values equal to it
    return spec


def _plain_default(field):
    return field.default if field.has_default() and isinstance(field.default, str) else None


def correction_form_fields() -> dict:
    """The phone form's fields per record type: exactly the registry's editable fields, with labels
    and choices in the current language (rendered into the app page, which the phone caches)."""
    from yiwang.registry import records

    described = {}
    for target_type in PHONE_TARGETS:
        model, fields, _change, _view = records.EDITABLE[target_type]
        described[target_type] = [
            _describe(model, name, masked_column=records.PII_FIELDS.get(name, (None, None, None))[2],
                      cached=name in CACHED_ON_PHONE[target_type])
            for name in fields]
    return described


# What the phone's resident rows already carry (the name is masked for children, see appdata).
IN_RESIDENT_ROW = ("name", "gender", "address", "relation")
# Resident columns to load for cached_values (the dwelling as its id, no join).
RESIDENT_COLUMNS = tuple(n for n in CACHED_ON_PHONE["resident"] if n not in ("relation",))


def cached_values(resident, *, household_dwelling: int | None = None) -> dict:
    """A resident's other current values for the phone's correction form, leaving out empty values
    and the field's default (the form knows both): most rows then carry one or two values. The
    dwelling is left out when it is the household's (the phone takes it from there; most people live
    where their household does), and is null when the person has none but the household has one."""
    values = {}
    for name in CACHED_ON_PHONE["resident"]:
        if name in IN_RESIDENT_ROW:
            continue
        if name == "dwelling":
            if resident.dwelling_id != household_dwelling:
                values[name] = resident.dwelling_id
            continue
        value = getattr(resident, name)
        if value not in (None, "", _plain_default(resident._meta.get_field(name))):
            values[name] = value
    return values


def _plain(value, name: str):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise ValidationError({name: [_("Not a valid value.")]})


def correction_from_phone(ctx, data: dict, base_version: int | None):
    """Sync handler of kind "correction": `target_type, target_id, changes{field: value}, reason`,
    with `base_version` = the record's version the phone cached. Returns the pending change request
    (a resend of the same correction, even under a new UUID, returns the same request)."""
    from yiwang.registry import records
    from yiwang.registry.services import change_request_submit

    target_type = data.get("target_type")
    if target_type not in records.EDITABLE:
        raise ValidationError({"target_type": [_("This kind of record cannot be corrected here.")]})
    if base_version is None:
        raise ValidationError({"base_version": [_("A correction must say which version it was based on.")]})
    model, fields, _change, view_perm = records.EDITABLE[target_type]
    target = model.objects.visible_to(ctx.actor, view_perm).filter(
        pk=p.as_int(data.get("target_id"), "target_id")).first()
    if target is None:
        raise PermissionDenied(_("This %(what)s is not in your grids (or no longer exists), so the correction "
                                 "cannot be sent. It stays on your phone; ask your community staff.")
                               % {"what": model._meta.verbose_name})
    changes = data.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ValidationError({"changes": [_("Nothing to change.")]})
    changes = {str(name): _plain(value, str(name)) for name, value in changes.items()}
    if target.version != base_version:
        # Both sides masked: the phone never receives a personal number it did not type.
        known = [f for f in changes if f in fields]
        raise SyncConflict(
            _("Someone changed this record after your phone loaded it (now version %(v)d).") % {"v": target.version},
            server={f: records.display_value(f, records.current_value(target, f)) for f in known},
            client={f: records.display_value(f, v) for f, v in changes.items()}, server_version=target.version)
    request = change_request_submit(actor=ctx.actor, target=target, changes=changes,
                                    reason=p.as_text(data.get("reason"), "reason", max_length=300))
    return Applied("registry.changerequest", str(request.pk), request.area_path,
                   {"id": request.pk, "state": request.state, "fields": sorted(request.changes)})
