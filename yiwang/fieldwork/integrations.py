"""What the phone records that lives in other apps, always through their services:

- event reports      -> cases.services.case_create (channel grid_worker, idempotency key = client UUID)
- on-site checks     -> cases.services.case_verify (with the case version the phone saw)
- situation-log entries -> registry.services.situation_log_create
- registry corrections  -> registry.services.change_request_submit (see corrections.py)

Each handler is registered with sync.register_sync_handler; this module is imported in ready().
"""

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from . import parsing as p
from . import permissions as P
from . import sync
from .corrections import correction_from_phone
from .models import SyncKind
from .services import SyncConflict, require_grid, upload_open


def _photo_files(uploads) -> list[ContentFile]:
    files = []
    for upload in uploads:
        with upload_open(upload) as fh:
            files.append(ContentFile(fh.read(), name=upload.filename or f"{upload.upload_id}.jpg"))
    return files


def _event(ctx: sync.SyncContext, data: dict, base_version) -> sync.Applied:
    from yiwang.cases.models import Channel
    from yiwang.cases.services import case_create
    from yiwang.geography.models import Building

    grid = ctx.grid(data.get("grid_id"))
    require_grid(ctx.actor, P.ADD_VISIT, grid)
    lon, lat = p.as_point(data.get("lon"), data.get("lat"))
    building_id = p.as_int(data.get("building_id"), "building_id", required=False)
    building = None
    if building_id is not None:
        building = Building.objects.filter(pk=building_id, grid=grid).first()
        if building is None:
            raise ValidationError({"building_id": [_("That building is not in your grid.")]})
    if lon is None:
        if building is not None:
            lon, lat = building.lon, building.lat
        elif grid.centroid_lon is not None:
            lon, lat = grid.centroid_lon, grid.centroid_lat
    photos = ctx.photos(data.get("photos"))
    case = case_create(
        actor=ctx.actor, channel=Channel.GRID_WORKER, category=data.get("category"), lon=lon, lat=lat,
        description=p.as_text(data.get("description"), "description", max_length=4000, required=True),
        photos=_photo_files(photos), idempotency_key=str(data["_uuid"]),
        address=p.as_text(data.get("address"), "address", max_length=200), building=building,
        resolve_on_spot=bool(data.get("resolve_on_spot")))
    return sync.Applied("cases.case", str(case.pk), case.area_path,
                        {"id": case.pk, "tracking_code": case.tracking_code, "state": case.state})


def _verify(ctx: sync.SyncContext, data: dict, base_version) -> sync.Applied:
    from yiwang.cases.models import Case
    from yiwang.cases.permissions import VIEW_CASE
    from yiwang.cases.services import CaseConflict, case_verify

    case_id = p.as_int(data.get("case_id"), "case_id")
    case = Case.objects.visible_to(ctx.actor, VIEW_CASE).filter(pk=case_id).first()
    if case is None:
        raise ValidationError({"case_id": [_("This case is not in your grid.")]})
    require_grid(ctx.actor, P.ADD_VISIT, case.grid)
    photos = ctx.photos(data.get("photos"))
    try:
        case = case_verify(actor=ctx.actor, case=case, expected_version=base_version, passed=bool(data.get("passed")),
                           photos=_photo_files(photos), comment=p.as_text(data.get("comment"), "comment",
                                                                          max_length=2000))
    except CaseConflict as exc:
        current = getattr(exc, "case", None) or Case.objects.get(pk=case_id)
        raise SyncConflict(_("This case changed on the server after your phone loaded it."),
                           server={"state": current.state, "state_label": current.get_state_display()},
                           client={"passed": bool(data.get("passed")), "comment": data.get("comment", "")},
                           server_version=current.version) from exc
    return sync.Applied("cases.case", str(case.pk), case.area_path,
                        {"id": case.pk, "state": case.state, "version": case.version})


def _situation(ctx: sync.SyncContext, data: dict, base_version) -> sync.Applied:
    from yiwang.registry.models import Household
    from yiwang.registry.permissions import VIEW_RESIDENT
    from yiwang.registry.services import situation_log_create

    grid = ctx.grid(data.get("grid_id"))
    require_grid(ctx.actor, P.ADD_VISIT, grid)
    lon, lat = p.as_point(data.get("lon"), data.get("lat"))
    ids = [p.as_int(v, "household_ids") for v in (data.get("household_ids") or [])]
    households = list(Household.objects.visible_to(ctx.actor, VIEW_RESIDENT).filter(pk__in=ids)) if ids else []
    if len(households) != len(set(ids)):
        raise ValidationError({"household_ids": [_("A household is not in your grid.")]})
    log = situation_log_create(
        actor=ctx.actor, grid=grid, text=p.as_text(data.get("text"), "text", max_length=4000, required=True),
        occurred_at=ctx.time(data.get("occurred_at"), "occurred_at", required=False),
        place=p.as_text(data.get("place"), "place", max_length=200),
        tags=p.as_text(data.get("tags"), "tags", max_length=200), households=households,
        follow_up_needed=bool(data.get("follow_up_needed")), lon=lon, lat=lat)
    return sync.Applied("registry.situationlog", str(log.pk), log.area_path, {"id": log.pk})


def _household(ctx: sync.SyncContext, household_id: int):
    from yiwang.registry.models import Household
    from yiwang.registry.permissions import VIEW_RESIDENT

    household = ctx.households.get(household_id)
    if household is None:
        household = (Household.objects.visible_to(ctx.actor, VIEW_RESIDENT).select_related("grid")
                     .filter(pk=household_id).first())
    if household is None:
        raise ValidationError({"household_id": [_("This household is not in your grid (or no longer exists).")]})
    ctx.grids.setdefault(household.grid_id, household.grid)
    return household.grid, (household.address or str(household))[:200]


def _prefetch_households(ctx: sync.SyncContext, ids) -> None:
    from yiwang.registry.models import Household
    from yiwang.registry.permissions import VIEW_RESIDENT

    wanted = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if wanted:
        ctx.households.update({h.pk: h for h in Household.objects.visible_to(ctx.actor, VIEW_RESIDENT)
                               .select_related("grid").filter(pk__in=wanted)})


sync.register_sync_handler(SyncKind.EVENT, _event)
sync.register_sync_handler(SyncKind.VERIFY, _verify)
sync.register_sync_handler(SyncKind.SITUATION, _situation)
sync.register_sync_handler(SyncKind.CORRECTION, correction_from_phone)
sync.HOUSEHOLD_RESOLVER = _household
sync.HOUSEHOLD_PREFETCH = _prefetch_households
