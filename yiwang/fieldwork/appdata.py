"""The worker's own grid data for the phone (cached offline): grids, buildings, households with
masked residents (and the current values the correction form starts from), visit schedule, follow-ups,
open cases and cases to verify, event categories.

Loading special-group membership onto a phone is a sensitive read, so it is audited.
"""

import datetime as dt

from django.utils import timezone

from yiwang.audit.services import audit_record

from . import selectors
from .corrections import RESIDENT_COLUMNS, cached_values


def _mask_child_name(name: str) -> str:
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def _residents(actor, grid_ids, today: dt.date, group_label) -> tuple[list, dict]:
    from yiwang.registry.models import HouseholdMember, Resident, ResidentStatus, ResidentTag
    from yiwang.registry.permissions import VIEW_RESIDENT, VIEW_SPECIAL_GROUP

    people = list(Resident.objects.visible_to(actor, VIEW_RESIDENT)
                  .filter(grid_id__in=grid_ids, status=ResidentStatus.ACTIVE)
                  .only("id", "grid_id", "birth_date", "id_masked", "phone_masked", "version", *RESIDENT_COLUMNS))
    ids = [r.pk for r in people]
    # resident -> (household, relation to its head, the household's dwelling): one query.
    membership = {resident_id: rest for resident_id, *rest in HouseholdMember.objects.filter(
        resident_id__in=ids, left_on__isnull=True).values_list("resident_id", "household_id", "relation",
                                                               "household__dwelling_id")}
    tags: dict[int, list[str]] = {}
    for resident_id, name, sensitivity in (ResidentTag.objects.visible_to(actor, VIEW_SPECIAL_GROUP)
                                           .filter(resident_id__in=ids, until__isnull=True)
                                           .values_list("resident_id", "group__name", "group__sensitivity")):
        tags.setdefault(resident_id, []).append(group_label(name, sensitivity))
    rows = []
    for r in people:
        age = r.age(today)
        child = age is not None and age < 14
        household_id, relation, household_dwelling = membership.get(r.pk, (None, "", None))
        rows.append({"id": r.pk, "grid_id": r.grid_id, "household_id": household_id, "relation": relation,
                     "name": _mask_child_name(r.name) if child else r.name, "gender": r.gender,
                     "age": age, "id_masked": "" if child else r.id_masked, "phone_masked": r.phone_masked,
                     "address": r.address, "tags": tags.get(r.pk, []),
                     "version": r.version, "edit": cached_values(r, household_dwelling=household_dwelling), **({"child": True} if child else {})})
    return rows, {"residents": len(rows), "tagged": len(tags)}


def _dwellings(actor, grid_ids) -> list[list]:
    """The grids' dwellings as [id, building id, unit, room]: the correction form's dwelling choices
    (labelled on the phone with the building's name), a few bytes each."""
    from yiwang.registry.models import Dwelling
    from yiwang.registry.permissions import VIEW_RESIDENT

    return [list(row) for row in Dwelling.objects.visible_to(actor, VIEW_RESIDENT).filter(grid_id__in=grid_ids)
            .order_by("building_id", "unit", "room").values_list("id", "building_id", "unit", "room")]


def _cases(actor, grid_ids) -> tuple[list, list]:
    from yiwang.cases.models import Case
    from yiwang.cases.permissions import VIEW_CASE
    from yiwang.cases.workflow import State

    open_cases = (Case.objects.visible_to(actor, VIEW_CASE).filter(grid_id__in=grid_ids).open()
                  .select_related("category").order_by("-created_at")[:300])
    rows = [{"id": c.pk, "code": c.tracking_code, "category": c.category.name, "state": c.state,
             "state_label": c.get_state_display(), "lon": c.lon, "lat": c.lat, "address": c.address,
             "description": c.description[:120], "version": c.version,
             "created_at": c.created_at.isoformat()} for c in open_cases]
    return rows, [r for r in rows if r["state"] == State.TO_VERIFY]


def _categories() -> list[dict]:
    from yiwang.cases.models import Category, CategoryKind

    leaves = (Category.objects.filter(active=True, children__isnull=True,
                                      kind__in=[CategoryKind.EVENT, CategoryKind.COMPONENT])
              .select_related("parent").order_by("code"))
    return [{"code": c.code, "name": c.name, "group": c.parent.name if c.parent_id else ""} for c in leaves]


def app_data(actor) -> dict:
    today = timezone.localdate()
    grids = selectors.worker_grids(actor)
    grid_ids = [g.pk for g in grids]
    group_label = selectors._group_label_for(actor)
    households = list(selectors.households_visible(actor, grid_ids=grid_ids)
                      .values("id", "grid_id", "number", "address", "version", "dwelling_id",
                              "dwelling__building_id"))
    residents, counts = _residents(actor, grid_ids, today, group_label)
    schedule = selectors.visits_due(actor, grid_ids=grid_ids, today=today)
    open_cases, to_verify = _cases(actor, grid_ids)
    follow_ups = [{"visit_uuid": str(v.client_uuid), "household_id": v.household_id, "label": v.household_label,
                   "follow_up": v.follow_up, "due": v.follow_up_due.isoformat() if v.follow_up_due else None,
                   "version": v.version} for v in selectors.follow_ups_open(actor, grid_ids=grid_ids)]
    if grid_ids:
        audit_record(actor=actor, action="fieldwork.grid_data", area_path=grids[0].path,
                     object_repr=", ".join(g.name for g in grids)[:200], changes=counts)
    today_records = selectors.my_records_today(actor)
    return {
        "generated_at": timezone.now().isoformat(), "today": today.isoformat(),
        "user": {"id": actor.pk, "name": str(actor)},
        "grids": [{"id": g.pk, "name": g.name, "code": g.code, "boundary": g.boundary,
                   "lon": g.centroid_lon, "lat": g.centroid_lat} for g in grids],
        "buildings": selectors.buildings_of(actor, grid_ids),
        "households": [{"id": h["id"], "grid_id": h["grid_id"], "number": h["number"], "address": h["address"],
                        "version": h["version"], "building_id": h["dwelling__building_id"],
                        **({"dwelling_id": h["dwelling_id"]} if h["dwelling_id"] else {})} for h in households],
        "dwellings": _dwellings(actor, grid_ids),
        "residents": residents,
        "schedule": [row.as_json() for row in schedule if row.status != "ok"][:300],
        "schedule_counts": {s: sum(1 for r in schedule if r.status == s) for s in ("overdue", "due", "ok")},
        "follow_ups": follow_ups,
        "open_cases": open_cases,
        "cases_to_verify": to_verify,
        "categories": _categories(),
        "records_today": {"patrols": len(today_records["patrols"]), "visits": len(today_records["visits"]),
                          "receipts": len(today_records["receipts"])},
    }
