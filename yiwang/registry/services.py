"""Writes to the registry. Each service takes a keyword-only `actor`, checks the actor's permission
in the record's area, runs in one transaction and writes an audit row.

Public entry points other apps use (fieldwork reuses them for corrections made during visits):

    record_edit(actor=, target=, changes={field: value}, reason="")
        -> ("applied", obj) for users who may edit directly, ("pending", ChangeRequest) otherwise
    change_request_submit(actor=, target=, changes={field: value}, reason="") -> ChangeRequest
    change_request_approve(actor=, change_request=, note="") / change_request_reject(...)
    resident_create(actor=, grid=, **fields), resident_reveal(actor=, resident=, reason=)
    household_create / household_add_member / household_set_head / household_remove_member
"""

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import audit_record
from yiwang.core import pii
from yiwang.core.scoping import holds_perm_at

from . import records
from .models import (
    ChangeRequest,
    Component,
    ComponentCategory,
    Dwelling,
    Household,
    HouseholdMember,
    Organisation,
    Rental,
    Resident,
    ResidentTag,
    SituationLog,
    SpecialGroup,
)
from .permissions import (
    ADD_SITUATION,
    APPROVE_CHANGE,
    CHANGE_COMPONENT,
    CHANGE_ORGANISATION,
    CHANGE_RESIDENT,
    PROPOSE_CHANGE,
    REVEAL_PII,
    VIEW_RESIDENT,
)


class ConflictError(Exception):
    """Someone else changed the record since it was read (maps to HTTP 409)."""


can = holds_perm_at  # the shared check in yiwang.core.scoping


def require(actor, perm: str, area_path: str) -> None:
    if not holds_perm_at(actor, perm, area_path):
        raise PermissionDenied(_("You may not do this in this area."))


def _audit_changes(changes: dict) -> dict:
    """An audit diff with personal data masked."""
    return {f: [records.display_value(f, old), records.display_value(f, new)] for f, (old, new) in changes.items()}


# -- residents ----------------------------------------------------------------------------------

def _resident_columns(cleaned: dict) -> dict:
    columns = {k: v for k, v in cleaned.items() if k not in records.PII_FIELDS}
    for field in records.PII_FIELDS:
        if field in cleaned:
            columns.update(records.pii_columns(field, cleaned[field]))
    if "name" in cleaned:
        columns["name_pinyin"], columns["name_initials"] = records.pinyin_keys(cleaned["name"])
    return columns


def _ensure_id_unique(id_hash: str, exclude_pk=None) -> None:
    if not id_hash:
        return
    clash = Resident.objects.filter(id_hash=id_hash)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        # Say only that the person exists, never where: the record may be outside the actor's area.
        raise ValidationError({"id_number": [_("A person with this ID number is already registered. "
                                               "Search for them instead of adding them again.")]})


def resident_create(*, actor, grid, dwelling=None, **fields) -> Resident:
    """Register a person in a grid (staff). Validates the ID number and rejects duplicates."""
    require(actor, CHANGE_RESIDENT, grid.path)
    cleaned = records.clean_resident({"name": "", **fields})
    columns = _resident_columns(cleaned)
    if dwelling is not None and dwelling.area_path != grid.path:
        raise ValidationError({"dwelling": [_("The dwelling is in another grid.")]})
    with transaction.atomic():
        _ensure_id_unique(columns.get("id_hash", ""))
        resident = Resident(grid=grid, area_path=grid.path, dwelling=dwelling, **columns)
        if dwelling is not None and not resident.address:
            resident.address = dwelling.address
        try:
            with transaction.atomic():
                resident.save()
        except IntegrityError as exc:  # a concurrent insert of the same person
            raise ValidationError({"id_number": [_("A person with this ID number is already registered.")]}) from exc
        audit_record(actor=actor, action="resident.create", obj=resident,
                     changes=_audit_changes({k: (None, v) for k, v in cleaned.items()}))
    return resident


def _apply(actor, obj, cleaned: dict, *, action: str, expected_version: int | None = None, reason: str = "") -> dict:
    """Apply cleaned values to a locked row; returns the masked audit diff."""
    if expected_version is not None and obj.version != expected_version:
        raise ConflictError(_("This record was changed by someone else meanwhile. Reload it and try again."))
    diff = _diff(obj, cleaned)
    if not diff:
        return {}
    plain = {f: new for f, (_old, new) in diff.items() if f != records.RELATION and f not in records.MANY_FIELDS}
    if isinstance(obj, Resident):
        columns = _resident_columns(plain)
        if "id_hash" in columns:
            _ensure_id_unique(columns["id_hash"], exclude_pk=obj.pk)
    else:
        columns = plain
    if records.RELATION in diff:
        _set_relation(obj, diff[records.RELATION][1])
    for column, value in columns.items():
        setattr(obj, column, value)
    obj.version = F("version") + 1
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:  # a constraint the checks above did not foresee (a concurrent write)
        raise ValidationError(_("The change conflicts with another record; nothing was saved.")) from exc
    obj.refresh_from_db(fields=["version"])
    for field in records.MANY_FIELDS:
        if field in diff:
            getattr(obj, field).set(diff[field][1])
    masked = _audit_changes(diff)
    audit_record(actor=actor, action=action, obj=obj, changes=masked, reason=reason)
    return masked


def _diff(obj, cleaned: dict) -> dict:
    """field -> (current, new) for the values that differ (blank and None count as the same)."""
    diff = {}
    for field, new in cleaned.items():
        old = records.current_value(obj, field)
        if old != new and not (old in (None, "") and new in (None, "")):
            diff[field] = (old, new)
    return diff


HEAD = HouseholdMember.Relation.HEAD


def _relation_problem(resident: Resident, relation: str, *, lock: bool = False) -> str | None:
    """Why `resident`'s relation to the head cannot become `relation` (None: it can).

    A household keeps exactly one head: a correction may neither add a second head nor take the
    role from the only one; changing the head is "make head" on the household's page (staff).
    """
    members = HouseholdMember.objects.filter(resident=resident, left_on__isnull=True)
    current = (members.select_for_update() if lock else members).select_related("household").first()
    if current is None:
        return _("%(name)s belongs to no household, so has no relation to a head. Add them to a household "
                 "on its page first.") % {"name": resident.name}
    if lock:
        Household.objects.select_for_update().get(pk=current.household_id)  # as membership changes do
    if current.relation == HEAD and relation != HEAD:
        return _("%(name)s is the head of household %(household)s, and a household keeps exactly one head. "
                 "Community staff name another head with “make head” on the household's page.") % {
            "name": resident.name, "household": current.household}
    if relation == HEAD and current.relation != HEAD:
        head = HouseholdMember.objects.filter(household_id=current.household_id, left_on__isnull=True,
                                              relation=HEAD).select_related("resident").first()
        if head is not None:
            return _("Household %(household)s already has a head (%(head)s), and a household keeps exactly one "
                     "head. Community staff change the head with “make head” on the household's page.") % {
                "household": current.household, "head": head.resident.name}
    return None


def _set_relation(resident: Resident, relation: str) -> None:
    """Correct the relation on the current membership row (a correction, not a move: no new row)."""
    problem = _relation_problem(resident, relation, lock=True)
    if problem:
        raise ValidationError({records.RELATION: [problem]})
    try:
        with transaction.atomic():
            HouseholdMember.objects.filter(resident=resident, left_on__isnull=True).update(relation=relation)
    except IntegrityError as exc:  # household_one_current_head: a head was named meanwhile
        raise ValidationError({records.RELATION: [_("The household got a head meanwhile; reload and check.")]}) from exc


def _reference(actor, target, field: str, value):
    """A dwelling chosen for a record: one the actor may see (else the same answer as for one that does
    not exist), in the record's own grid (moving a person to another grid is staff's resident_move)."""
    model = records.REFERENCE_FIELDS[field]
    if value in (None, ""):
        return None
    pk = value.pk if isinstance(value, model) else value
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = model.objects.visible_to(actor, VIEW_RESIDENT).filter(pk=pk).first() if pk else None
    if found is None:
        raise ValidationError({field: [_("Choose a dwelling in your grids.")]})
    if found.area_path != target.area_path:
        raise ValidationError({field: [_("The dwelling is in another grid. Moving a person to another grid is "
                                         "done by community staff.")]})
    return found


def _people(actor, field: str, values) -> list:
    """Tenants: people the actor may see, ordered by id."""
    if values in (None, ""):
        return []
    if not isinstance(values, (list, tuple, set)) and not hasattr(values, "__iter__"):
        raise ValidationError({field: [_("Not a valid value.")]})
    ids = set()
    for value in values:
        try:
            ids.add(int(value.pk if isinstance(value, Resident) else value))
        except (TypeError, ValueError) as exc:
            raise ValidationError({field: [_("Not a valid value.")]}) from exc
    found = list(Resident.objects.visible_to(actor, VIEW_RESIDENT).filter(pk__in=ids).order_by("pk"))
    if len(found) != len(ids):
        raise ValidationError({field: [_("Choose tenants among the people registered in your grids.")]})
    return found


def _clean_for(target, changes: dict, *, actor) -> dict:
    """Validate an edit of `target`: only its editable fields, each by the registry's rules; references
    checked against what `actor` may see."""
    model, fields, _change, _view = records.EDITABLE[records.target_type_of(target)]
    unknown = set(changes) - set(fields)
    if unknown:
        raise ValidationError(_("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))})
    special = {f: changes[f] for f in changes if f == records.RELATION or f in records.REFERENCE_FIELDS
               or f in records.MANY_FIELDS}
    plain = {f: v for f, v in changes.items() if f not in special}
    errors: dict[str, list] = {}
    out: dict = {}
    try:
        if model is Resident:
            values = dict(plain)
            if "id_number" in values and "id_type" not in values:
                values["id_type"] = target.id_type
            cleaned = records.clean_resident(values) if values else {}
            # Only keep what was asked for, plus what the ID number determines.
            keep = set(plain) | ({"birth_date", "gender"} if "id_number" in plain else set())
            out.update({k: v for k, v in cleaned.items() if k in keep})
        else:
            out.update(records.clean_generic(model, plain))
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        errors.update(exc.message_dict)
    for field, value in special.items():
        try:
            if field == records.RELATION:
                if value not in HouseholdMember.Relation.values:
                    raise ValidationError({field: [_("Choose the relation to the head.")]})
                out[field] = value
            elif field in records.REFERENCE_FIELDS:
                out[field] = _reference(actor, target, field, value)
            else:
                out[field] = _people(actor, field, value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if model is Rental and "start_date" not in errors and "end_date" not in errors:
        start = out.get("start_date", target.start_date)
        end = out["end_date"] if "end_date" in out else target.end_date
        if start and end and end < start:
            errors.setdefault("end_date", []).append(_("The end is before the start."))
    if errors:
        raise ValidationError(errors)
    return out


def record_update(*, actor, target, changes: dict, expected_version: int | None = None, reason: str = "") -> dict:
    """Edit a registry record directly (staff). Returns the masked diff (empty: nothing changed)."""
    target_type = records.target_type_of(target)
    model, _fields, change_perm, _view = records.EDITABLE[target_type]
    require(actor, change_perm, target.area_path)
    cleaned = _clean_for(target, changes, actor=actor)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=target.pk)
        diff = _apply(actor, locked, cleaned, action=f"{target_type}.update", expected_version=expected_version,
                      reason=reason)
    target.refresh_from_db()
    return diff


def record_edit(*, actor, target, changes: dict, reason: str = "", expected_version: int | None = None):
    """Edit as the actor may: directly with the change permission, else as a change request.

    Returns ("applied", diff) or ("pending", ChangeRequest). With `expected_version` (the version the
    actor's form was read at), an outdated edit is refused either way (ConflictError).
    """
    _model, _fields, change_perm, _view = records.EDITABLE[records.target_type_of(target)]
    if can(actor, change_perm, target.area_path):
        return "applied", record_update(actor=actor, target=target, changes=changes, reason=reason,
                                        expected_version=expected_version)
    return "pending", change_request_submit(actor=actor, target=target, changes=changes, reason=reason,
                                            expected_version=expected_version)


def resident_reveal(*, actor, resident: Resident, reason: str) -> dict:
    """The full ID number and phone, for a stated reason; the reveal is audited."""
    require(actor, REVEAL_PII, resident.area_path)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Say why you need to see the full ID number and phone.")]})
    audit_record(actor=actor, action="resident.reveal", obj=resident, reason=reason,
                 changes={"fields": ["id_number", "phone"]})
    return {"id_number": pii.decrypt(resident.id_cipher), "phone": pii.decrypt(resident.phone_cipher)}


def resident_record_sensitive_view(*, actor, resident: Resident, groups: list[str]) -> None:
    """Log a sensitive read: opening a special-group member's or a child's record."""
    audit_record(actor=actor, action="resident.view_sensitive", obj=resident,
                 changes={"groups": groups, "child": resident.is_child})


def resident_move(*, actor, resident: Resident, grid, dwelling=None) -> Resident:
    """Move a person to another grid/dwelling (staff in both areas); tags follow the person."""
    require(actor, CHANGE_RESIDENT, resident.area_path)
    require(actor, CHANGE_RESIDENT, grid.path)
    with transaction.atomic():
        locked = Resident.objects.select_for_update().get(pk=resident.pk)
        old = (locked.area_path, locked.dwelling_id)
        locked.set_grid(grid)
        locked.dwelling = dwelling
        if dwelling is not None:
            locked.address = dwelling.address
        locked.version = F("version") + 1
        locked.save()
        ResidentTag.objects.filter(resident=locked).update(area_path=grid.path)
        audit_record(actor=actor, action="resident.move", obj=locked,
                     changes={"area": [old[0], grid.path], "dwelling": [old[1], dwelling.pk if dwelling else None]})
    resident.refresh_from_db()
    return resident


# -- households ---------------------------------------------------------------------------------

def household_create(*, actor, grid, head: Resident, number: str = "", dwelling=None, address: str = "") -> Household:
    """A household with its head; the head leaves any current household (history is kept)."""
    require(actor, CHANGE_RESIDENT, grid.path)
    require(actor, CHANGE_RESIDENT, head.area_path)
    with transaction.atomic():
        household = Household(grid=grid, area_path=grid.path, number=number.strip(), dwelling=dwelling,
                              address=address or (dwelling.address if dwelling else head.address))
        try:
            with transaction.atomic():
                household.save()
        except IntegrityError as exc:
            raise ValidationError({"number": [_("This household number is already used in the grid.")]}) from exc
        _join(household, head, HouseholdMember.Relation.HEAD)
        audit_record(actor=actor, action="household.create", obj=household,
                     changes={"head": [None, head.name], "number": [None, household.number]})
    return household


def _join(household: Household, resident: Resident, relation: str) -> HouseholdMember:
    today = timezone.localdate()
    HouseholdMember.objects.filter(resident=resident, left_on__isnull=True).update(left_on=today)
    return HouseholdMember.objects.create(household=household, resident=resident, relation=relation, joined_on=today)


def household_add_member(*, actor, household: Household, resident: Resident, relation: str) -> HouseholdMember:
    """Add a person to a household (moving them out of their current one, which keeps the history)."""
    require(actor, CHANGE_RESIDENT, household.area_path)
    require(actor, CHANGE_RESIDENT, resident.area_path)
    if relation == HouseholdMember.Relation.HEAD:
        raise ValidationError({"relation": [_("Use “make head” to change the head of a household.")]})
    if relation not in HouseholdMember.Relation.values:
        raise ValidationError({"relation": [_("Choose the relation to the head.")]})
    with transaction.atomic():
        Household.objects.select_for_update().get(pk=household.pk)
        current = HouseholdMember.objects.filter(resident=resident, left_on__isnull=True).select_related(
            "household").first()
        if current and current.household_id == household.pk:
            raise ValidationError(_("%(name)s already belongs to this household.") % {"name": resident.name})
        if current and current.relation == HouseholdMember.Relation.HEAD and \
                current.household.memberships.filter(left_on__isnull=True).count() > 1:
            raise ValidationError(_("%(name)s heads another household with members; name a new head there first.")
                                  % {"name": resident.name})
        member = _join(household, resident, relation)
        audit_record(actor=actor, action="household.add_member", obj=household,
                     changes={"member": [None, resident.name], "relation": [None, relation],
                              "from_household": [current.household_id if current else None, household.pk]})
    return member


def household_set_head(*, actor, household: Household, resident: Resident, old_head_relation: str) -> None:
    """Make a current member the head; the old head stays with `old_head_relation`."""
    require(actor, CHANGE_RESIDENT, household.area_path)
    with transaction.atomic():
        Household.objects.select_for_update().get(pk=household.pk)
        members = {m.resident_id: m for m in household.memberships.filter(left_on__isnull=True)}
        if resident.pk not in members:
            raise ValidationError(_("Only a current member can become the head."))
        new = members[resident.pk]
        if new.relation == HouseholdMember.Relation.HEAD:
            return
        today = timezone.localdate()
        old = next((m for m in members.values() if m.relation == HouseholdMember.Relation.HEAD), None)
        # End rows and open new ones, so the history shows who headed the household when.
        for member in [m for m in (old, new) if m]:
            member.left_on = today
            member.save(update_fields=["left_on"])
        if old:
            HouseholdMember.objects.create(household=household, resident_id=old.resident_id,
                                           relation=old_head_relation, joined_on=today)
        HouseholdMember.objects.create(household=household, resident=resident,
                                       relation=HouseholdMember.Relation.HEAD, joined_on=today)
        audit_record(actor=actor, action="household.set_head", obj=household,
                     changes={"head": [old.resident.name if old else None, resident.name]})


def household_remove_member(*, actor, household: Household, resident: Resident) -> None:
    """End a membership. The head can leave only as the last member."""
    require(actor, CHANGE_RESIDENT, household.area_path)
    with transaction.atomic():
        Household.objects.select_for_update().get(pk=household.pk)
        current = list(household.memberships.filter(left_on__isnull=True))
        member = next((m for m in current if m.resident_id == resident.pk), None)
        if member is None:
            raise ValidationError(_("This person is not a current member."))
        if member.relation == HouseholdMember.Relation.HEAD and len(current) > 1:
            raise ValidationError(_("Name a new head before the head leaves the household."))
        member.left_on = timezone.localdate()
        member.save(update_fields=["left_on"])
        audit_record(actor=actor, action="household.remove_member", obj=household,
                     changes={"member": [resident.name, None]})


# -- housing ------------------------------------------------------------------------------------

def dwelling_create(*, actor, building, unit: int, room: str, floor: int = 1, use: str = Dwelling.Use.OWNER_OCCUPIED,
                    owner_name: str = "", floor_area=None) -> Dwelling:
    require(actor, CHANGE_RESIDENT, building.grid.path)
    with transaction.atomic():
        dwelling = Dwelling(building=building, grid=building.grid, area_path=building.grid.path, unit=unit,
                            room=str(room).strip(), floor=floor, use=use, owner_name=owner_name,
                            floor_area=floor_area)
        # Uniqueness is checked below with a message that says what to do, not "constraint violated".
        dwelling.full_clean(exclude=["grid", "owner"], validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                dwelling.save()
        except IntegrityError as exc:
            raise ValidationError({"room": [_("This room is already registered in the building.")]}) from exc
        audit_record(actor=actor, action="dwelling.create", obj=dwelling)
    return dwelling


def rental_create(*, actor, dwelling: Dwelling, landlord_name: str, start_date: dt.date, tenants=(),
                  end_date: dt.date | None = None, monthly_rent=None, registration_no: str = "",
                  rooms_let: int = 1, max_occupants: int | None = None) -> Rental:
    """Register a rental; the dwelling's use becomes "rented"."""
    require(actor, CHANGE_RESIDENT, dwelling.area_path)
    if end_date and end_date < start_date:
        raise ValidationError({"end_date": [_("The end is before the start.")]})
    with transaction.atomic():
        rental = Rental.objects.create(dwelling=dwelling, grid_id=dwelling.grid_id, area_path=dwelling.area_path,
                                       landlord_name=landlord_name, start_date=start_date, end_date=end_date,
                                       monthly_rent=monthly_rent, registration_no=registration_no,
                                       rooms_let=rooms_let, max_occupants=max_occupants)
        tenants = list(tenants)
        for tenant in tenants:
            require(actor, VIEW_RESIDENT, tenant.area_path)
        rental.tenants.set(tenants)
        if dwelling.use != Dwelling.Use.RENTED:
            Dwelling.objects.filter(pk=dwelling.pk).update(use=Dwelling.Use.RENTED, version=F("version") + 1)
        audit_record(actor=actor, action="rental.create", obj=rental,
                     changes={"tenants": [None, [t.name for t in tenants]]})
    return rental


# -- organisations and components -----------------------------------------------------------------

def organisation_create(*, actor, grid, kind: str, name: str, **fields) -> Organisation:
    require(actor, CHANGE_ORGANISATION, grid.path)
    with transaction.atomic():
        organisation = Organisation(grid=grid, area_path=grid.path, kind=kind, name=name.strip(), **fields)
        organisation.name_initials = records.pinyin_keys(organisation.name)[1]
        organisation.full_clean(exclude=["grid", "party_organisation", "building"], validate_unique=False,
                                validate_constraints=False)  # the credit code is checked just below
        if organisation.credit_code and Organisation.objects.filter(credit_code=organisation.credit_code).exists():
            raise ValidationError({"credit_code": [_("An organisation with this credit code is already registered.")]})
        organisation.save()
        audit_record(actor=actor, action="organisation.create", obj=organisation)
    return organisation


COMPONENT_CODE_FORMAT = "{division}{large:0>2}{small:0>2}{serial:06d}"


def component_code(*, division: str, category: ComponentCategory, serial: int) -> str:
    """The 16-character component code from its parts.

    The layout is a setting (YIWANG_COMPONENT_CODE_FORMAT), default 6 division + 2 major + 2 minor +
    6 serial digits, as in deployed Suzhou data; GB/T 30428.2's 2+3+5 reading is
    "{division}{large:0>2}{small:0>3}{serial:05d}".
    """
    layout = getattr(settings, "YIWANG_COMPONENT_CODE_FORMAT", COMPONENT_CODE_FORMAT)
    code = layout.format(division=division, large=category.large_code, small=category.small_code, serial=serial)
    if len(code) != 16:
        raise ValidationError(_("The component code %(code)s does not have 16 characters; check the serial "
                                "or the code layout setting.") % {"code": code})
    return code


def component_create(*, actor, grid, category: ComponentCategory, lon: float, lat: float, name: str = "",
                     location: str = "", department=None, state: str = Component.State.NORMAL, **extra) -> Component:
    """Register a component; its serial is the next one in the category, its code derived from parts."""
    require(actor, CHANGE_COMPONENT, grid.path)
    with transaction.atomic():
        ComponentCategory.objects.select_for_update().get(pk=category.pk)  # serialises serial allocation
        last = Component.objects.filter(category=category).order_by("-serial").values_list("serial", flat=True).first()
        serial = (last or 0) + 1
        component = Component(grid=grid, area_path=grid.path, category=category, serial=serial,
                              code=component_code(division=grid.division_code, category=category, serial=serial),
                              name=name or category.name, location=location, lon=lon, lat=lat,
                              department=department, state=state, **extra)
        component.save()
        audit_record(actor=actor, action="component.create", obj=component)
    return component


# -- special groups and the situation log -------------------------------------------------------

def tag_add(*, actor, resident: Resident, group: SpecialGroup, helper=None, visit_interval_days: int | None = None,
            note: str = "") -> ResidentTag:
    """Put a person in a special group with a helper (包联人) and visit interval."""
    require(actor, CHANGE_RESIDENT, resident.area_path)
    with transaction.atomic():
        existing = ResidentTag.objects.filter(resident=resident, group=group, until__isnull=True).first()
        if existing:
            return existing
        tag = ResidentTag.objects.create(resident=resident, group=group, area_path=resident.area_path,
                                         helper=helper, note=note,
                                         visit_interval_days=visit_interval_days or group.visit_interval_days)
        audit_record(actor=actor, action="resident.tag_add", obj=resident, changes={"group": [None, group.name]})
    return tag


def tag_end(*, actor, tag: ResidentTag) -> None:
    require(actor, CHANGE_RESIDENT, tag.area_path)
    with transaction.atomic():
        ResidentTag.objects.filter(pk=tag.pk, until__isnull=True).update(until=timezone.localdate())
        audit_record(actor=actor, action="resident.tag_end", obj=tag.resident, changes={"group": [tag.group.name, None]})


def situation_log_create(*, actor, grid, text: str, occurred_at=None, place: str = "", tags: str = "",
                         residents=(), households=(), follow_up_needed: bool = False, lon=None,
                         lat=None) -> SituationLog:
    require(actor, ADD_SITUATION, grid.path)
    if not (text or "").strip():
        raise ValidationError({"text": [_("Write what you heard or saw.")]})
    with transaction.atomic():
        log = SituationLog.objects.create(grid=grid, area_path=grid.path, author=actor, text=text.strip(),
                                          occurred_at=occurred_at or timezone.now(), place=place, tags=tags,
                                          follow_up_needed=follow_up_needed, lon=lon, lat=lat)
        for person in residents:
            require(actor, VIEW_RESIDENT, person.area_path)
        for household in households:
            require(actor, VIEW_RESIDENT, household.area_path)
        log.residents.set(residents)
        log.households.set(households)
        audit_record(actor=actor, action="situation.create", obj=log)
    return log


# -- change requests --------------------------------------------------------------------------

def _fingerprint(actor, target_type: str, target_id: int, cleaned: dict) -> str:
    stable = {f: (pii.search_hash(str(v), kind=f) if f in records.PII_FIELDS else records.to_json(f, v))
              for f, v in cleaned.items()}
    raw = json.dumps([actor.pk, target_type, target_id, stable], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def change_request_submit(*, actor, target, changes: dict, reason: str = "",
                          expected_version: int | None = None) -> ChangeRequest:
    """Propose an edit of a registry record for review by community staff.

    `changes` maps editable field -> new value (see records.EDITABLE). Values are validated now, so
    a reviewer never sees an impossible edit (approval checks again: the record may change meanwhile).
    Submitting the same change twice returns the pending request instead of creating a second one.
    With `expected_version`, a proposal made on an outdated copy is refused (ConflictError).
    """
    target_type = records.target_type_of(target)
    _model, _fields, change_perm, _view = records.EDITABLE[target_type]
    if not (can(actor, PROPOSE_CHANGE, target.area_path) or can(actor, change_perm, target.area_path)):
        raise PermissionDenied(_("You may not change records in this area."))
    if expected_version is not None and target.version != expected_version:
        raise ConflictError(_("This record was changed by someone else meanwhile. Reload it and try again."))
    cleaned = _clean_for(target, changes, actor=actor)
    diff = {f: {"old": records.to_json(f, old), "new": records.to_json(f, new)}
            for f, (old, new) in _diff(target, cleaned).items()}
    if not diff:
        raise ValidationError(_("Nothing was changed."))
    if records.RELATION in diff:
        problem = _relation_problem(target, cleaned[records.RELATION])
        if problem:
            raise ValidationError({records.RELATION: [problem]})
    fingerprint = _fingerprint(actor, target_type, target.pk, {f: cleaned[f] for f in diff})
    with transaction.atomic():
        existing = ChangeRequest.objects.filter(fingerprint=fingerprint, state=ChangeRequest.State.PENDING).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                request = ChangeRequest.objects.create(
                    target_type=target_type, target_id=target.pk, target_repr=str(target)[:200],
                    area_path=target.area_path, changes=diff, fingerprint=fingerprint, reason=reason[:300],
                    submitted_by=actor)
        except IntegrityError:  # a concurrent replay won the race
            return ChangeRequest.objects.get(fingerprint=fingerprint, state=ChangeRequest.State.PENDING)
        audit_record(actor=actor, action="change_request.submit", obj=target, reason=reason,
                     changes={f: [records.display_value(f, v["old"]), records.display_value(f, v["new"])]
                              for f, v in diff.items()})
    return request


def change_request_target(change_request: ChangeRequest):
    model = records.EDITABLE[change_request.target_type][0]
    return model.objects.filter(pk=change_request.target_id).first()


def change_request_approve(*, actor, change_request: ChangeRequest, note: str = "") -> ChangeRequest:
    """Apply a pending request. Refused if the record changed meanwhile in a field it touches."""
    require(actor, APPROVE_CHANGE, change_request.area_path)
    model, _fields, change_perm, _view = records.EDITABLE[change_request.target_type]
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if locked.state == ChangeRequest.State.APPROVED:
            return locked  # replayed approval
        if locked.state != ChangeRequest.State.PENDING:
            raise ValidationError(_("This request was already %(state)s.") % {"state": locked.get_state_display()})
        target = model.objects.select_for_update().filter(pk=locked.target_id).first()
        if target is None:
            raise ValidationError(_("The record no longer exists."))
        stale = [f for f, v in locked.changes.items()
                 if not records.same_as_stored(f, records.current_value(target, f), v["old"])]
        if stale:
            raise ConflictError(_("The record changed after this request was made (%(fields)s). Reject it and "
                                  "ask for a new one.") % {"fields": ", ".join(stale)})
        require(actor, change_perm, target.area_path)
        cleaned = _clean_for(target, {f: records.from_json(f, v["new"]) for f, v in locked.changes.items()},
                             actor=actor)
        _apply(actor, target, cleaned, action=f"{locked.target_type}.update",
               reason=_("change request #%(n)d") % {"n": locked.pk})
        locked.state = ChangeRequest.State.APPROVED
        locked.reviewed_by, locked.reviewed_at, locked.review_note = actor, timezone.now(), note[:300]
        locked.save()
        audit_record(actor=actor, action="change_request.approve", obj=target, reason=note,
                     changes={"request": locked.pk})
    return locked


def change_request_reject(*, actor, change_request: ChangeRequest, note: str) -> ChangeRequest:
    require(actor, APPROVE_CHANGE, change_request.area_path)
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say why the change is rejected.")]})
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if locked.state == ChangeRequest.State.REJECTED:
            return locked
        if locked.state != ChangeRequest.State.PENDING:
            raise ValidationError(_("This request was already %(state)s.") % {"state": locked.get_state_display()})
        locked.state = ChangeRequest.State.REJECTED
        locked.reviewed_by, locked.reviewed_at, locked.review_note = actor, timezone.now(), note.strip()[:300]
        locked.save()
        audit_record(actor=actor, action="change_request.reject", area_path=locked.area_path, reason=note,
                     object_repr=locked.target_repr, changes={"request": locked.pk})
    return locked


def change_request_withdraw(*, actor, change_request: ChangeRequest) -> ChangeRequest:
    with transaction.atomic():
        locked = ChangeRequest.objects.select_for_update().get(pk=change_request.pk)
        if locked.submitted_by_id != actor.pk:
            raise PermissionDenied
        if locked.state == ChangeRequest.State.PENDING:
            locked.state = ChangeRequest.State.WITHDRAWN
            locked.save(update_fields=["state"])
            audit_record(actor=actor, action="change_request.withdraw", area_path=locked.area_path,
                         object_repr=locked.target_repr, changes={"request": locked.pk})
    return locked
