"""The idempotent offline sync: a batch of records made on a phone, each with a client UUID.

Rules (after ODK Central and KoboToolbox, reference/field-data-and-registry.md §2.4, §3.5, §8):
- the first arrival of a UUID is applied and its result stored in a SyncRecord (the receipt);
- a resend with the same content returns that stored result (status "duplicate") and creates nothing;
- the same UUID with different content is refused ("uuid_reused"), never merged;
- an edit based on an outdated version comes back as "conflict" with both versions;
- a record for a grid the worker no longer covers is refused with a message, and stays on the phone;
- phone time is kept as sent; the server's receipt time is separate; a phone clock off by more than
  CLOCK_TOLERANCE is flagged and the record's times are shifted by the measured offset.
Each record is applied in its own savepoint, so one bad record never loses the others.
"""

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.geography.models import Area

from . import parsing as p
from .models import PhotoUpload, SyncKind, SyncRecord, UploadStatus, Visit, VisitMethod, VisitPurpose
from .services import SyncConflict, patrol_build, save_new, visit_build, visit_edit

CLOCK_TOLERANCE_S = 300
MAX_BATCH = 500


@dataclass
class SyncContext:
    actor: object
    now: dt.datetime
    skew_s: int = 0
    skew_flag: bool = False
    grids: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)  # prefetched by the integration's household loader

    def time(self, value, name: str, *, required: bool = True) -> dt.datetime | None:
        """A phone time, shifted by the measured clock offset when the phone clock is off."""
        moment = p.as_datetime(value, name, required=required)
        if moment is not None and self.skew_flag:
            moment = moment + dt.timedelta(seconds=self.skew_s)
        if moment is not None and moment > self.now + dt.timedelta(seconds=CLOCK_TOLERANCE_S):
            raise ValidationError({name: [_("This time is in the future; check the phone's clock.")]})
        return moment

    def grid(self, grid_id, name: str = "grid_id") -> Area:
        grid_id = p.as_int(grid_id, name)
        grid = self.grids.get(grid_id)
        if grid is None:
            grid = Area.objects.filter(pk=grid_id).first()
            if grid is None:
                raise ValidationError({name: [_("This grid does not exist.")]})
            self.grids[grid_id] = grid
        return grid

    def photos(self, value, name: str = "photos") -> list[PhotoUpload]:
        ids = p.as_uuid_list(value, name)
        if not ids:
            return []
        uploads = {u.upload_id: u for u in PhotoUpload.objects.filter(upload_id__in=ids, owner=self.actor)}
        for upload_id in ids:
            upload = uploads.get(upload_id)
            if upload is None or upload.status == UploadStatus.RECEIVING:
                raise ValidationError({name: [ValidationError(
                    _("A photo has not finished uploading yet; it will be resent."), code="photo_incomplete")]})
            if upload.status == UploadStatus.REJECTED:
                raise ValidationError({name: [_("A photo was refused (not an image, or too large); "
                                                "remove it and send again.")]})
        return [uploads[i] for i in ids]


@dataclass
class Applied:
    object_type: str
    object_id: str
    area_path: str
    payload: dict


@dataclass
class Built:
    """A checked but unsaved patrol or visit; the batch inserts all of them at once."""

    obj: object
    payload: Callable

    def applied(self) -> Applied:
        return Applied(self.obj._meta.label_lower, str(self.obj.pk), self.obj.area_path, self.payload(self.obj))


Handler = Callable[[SyncContext, dict, int | None], Applied]
HANDLERS: dict[str, Handler] = {}


def register_sync_handler(kind: str, handler: Handler) -> None:
    """Kinds whose target lives in another app (events -> cases, corrections -> registry) register here."""
    HANDLERS[kind] = handler


def content_hash(record: dict) -> str:
    material = {k: record.get(k) for k in ("kind", "base_version", "client_time", "data")}
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


# -- handlers of this app -------------------------------------------------------------------------

def _patrol(ctx: SyncContext, data: dict, base_version: int | None) -> Applied:
    grid = ctx.grid(data.get("grid_id"))
    started = ctx.time(data.get("started_at"), "started_at")
    ended = ctx.time(data.get("ended_at"), "ended_at")
    track = p.as_track(data.get("track"))
    if ctx.skew_flag:
        shift = ctx.skew_s * 1000
        track = [[lon, lat, at + shift, acc] for lon, lat, at, acc in track]
    checkins = []
    for i, item in enumerate(data.get("checkins") or []):
        if not isinstance(item, dict):
            raise ValidationError({"checkins": [_("Not a valid check-in.")]})
        lon, lat = p.as_point(item.get("lon"), item.get("lat"), "checkins")
        at = ctx.time(item.get("at"), f"checkins[{i}].at")
        checkins.append({"lon": lon, "lat": lat, "at": at.isoformat(),
                         "note": p.as_text(item.get("note"), "checkins", max_length=200)})
    patrol = patrol_build(actor=ctx.actor, grid=grid, started_at=started, ended_at=ended, track=track,
                          checkins=checkins, note=p.as_text(data.get("note"), "note", max_length=2000),
                          client_uuid=data["_uuid"], clock_skew_s=ctx.skew_s if ctx.skew_flag else 0)
    return Built(patrol, lambda o: {"id": o.pk, "distance_m": o.distance_m, "duration_s": o.duration_s,
                                    "day": o.day.isoformat()})


HOUSEHOLD_RESOLVER: Callable | None = None  # set by integrations: (ctx, household_id) -> (grid, label)
HOUSEHOLD_PREFETCH: Callable | None = None  # set by integrations: (ctx, ids) -> None, fills ctx.households


def _visit(ctx: SyncContext, data: dict, base_version: int | None) -> Applied:
    household_id = p.as_int(data.get("household_id"), "household_id", required=False)
    label = p.as_text(data.get("household_label"), "household_label", max_length=200)
    if household_id is not None and HOUSEHOLD_RESOLVER is not None:
        grid, label = HOUSEHOLD_RESOLVER(ctx, household_id)
    else:
        grid = ctx.grid(data.get("grid_id"))
    if household_id is None and not label:
        raise ValidationError({"household_id": [_("Choose the household you visited.")]})
    lon, lat = p.as_point(data.get("lon"), data.get("lat"))
    photos = ctx.photos(data.get("photos"))
    visit = visit_build(
        actor=ctx.actor, grid=grid, household_id=household_id, household_label=label,
        visited_at=ctx.time(data.get("visited_at"), "visited_at"),
        purpose=p.as_choice(data.get("purpose"), "purpose", VisitPurpose.choices, VisitPurpose.ROUTINE),
        method=p.as_choice(data.get("method"), "method", VisitMethod.choices, VisitMethod.IN_HOME),
        people_met=p.as_text(data.get("people_met"), "people_met", max_length=300),
        findings=p.as_text(data.get("findings"), "findings", max_length=4000),
        needs=p.as_text(data.get("needs"), "needs", max_length=4000),
        follow_up=p.as_text(data.get("follow_up"), "follow_up", max_length=2000),
        follow_up_due=p.as_date(data.get("follow_up_due"), "follow_up_due"),
        photos=[u.upload_id for u in photos], lon=lon, lat=lat, client_uuid=data["_uuid"],
        clock_skew_s=ctx.skew_s if ctx.skew_flag else 0)
    return Built(visit, lambda o: {"id": o.pk, "version": o.version, "household": o.household_label})


def _visit_edit(ctx: SyncContext, data: dict, base_version: int | None) -> Applied:
    if base_version is None:
        raise ValidationError({"base_version": [_("An edit must say which version it was based on.")]})
    target = p.as_uuid(data.get("visit_uuid"), "visit_uuid")
    visit = Visit.objects.visible_to(ctx.actor, "fieldwork.view_visit").filter(client_uuid=target).first()
    if visit is None:
        raise ValidationError({"visit_uuid": [_("This visit is not on the server, or not in your grid.")]})
    raw = data.get("changes")
    if not isinstance(raw, dict) or not raw:
        raise ValidationError({"changes": [_("Nothing to change.")]})
    changes = {}
    for name, value in raw.items():
        if name == "follow_up_due":
            changes[name] = p.as_date(value, name)
        elif name == "follow_up_done_at":
            changes[name] = ctx.time(value, name, required=False)
        elif name == "purpose":
            changes[name] = p.as_choice(value, name, VisitPurpose.choices, VisitPurpose.ROUTINE)
        elif name == "method":
            changes[name] = p.as_choice(value, name, VisitMethod.choices, VisitMethod.IN_HOME)
        else:
            changes[name] = p.as_text(value, name, max_length=4000)
    visit = visit_edit(actor=ctx.actor, visit=visit, base_version=base_version, changes=changes)
    return Applied("fieldwork.visit", str(visit.pk), visit.area_path, {"id": visit.pk, "version": visit.version})


register_sync_handler(SyncKind.PATROL, _patrol)
register_sync_handler(SyncKind.VISIT, _visit)
register_sync_handler(SyncKind.VISIT_EDIT, _visit_edit)


# -- the batch ------------------------------------------------------------------------------------

def _messages(exc: ValidationError) -> tuple[str, dict]:
    if hasattr(exc, "error_dict"):
        fields = {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        first = next(iter(fields.values()))[0]
        return first, fields
    return str(exc.messages[0]), {}


def _duplicate_result(receipt: SyncRecord, record_hash: str, actor) -> dict:
    if receipt.actor_id != actor.pk or receipt.content_hash != record_hash:
        return {"status": "rejected", "code": "uuid_reused",
                "message": _("This record ID was already used for different content. The server kept the "
                             "first version; this one was not saved.")}
    return {"status": "duplicate", "code": "already_received",
            "message": _("Already received; nothing new was created."),
            "object": receipt.result, "received_at": receipt.received_at.isoformat()}


def sync_batch(*, actor, records: list, client_sent_at=None) -> dict:
    """Apply a batch of offline records; one result per record, in order."""
    now = timezone.now()
    if not isinstance(records, list):
        raise ValidationError({"records": [_("Send a list of records.")]})
    if len(records) > MAX_BATCH:
        raise ValidationError({"records": [_("At most %(n)d records per batch.") % {"n": MAX_BATCH}]})
    sent = p.as_datetime(client_sent_at, "client_sent_at", required=False)
    skew = int((now - sent).total_seconds()) if sent else 0
    ctx = SyncContext(actor=actor, now=now, skew_s=skew, skew_flag=abs(skew) > CLOCK_TOLERANCE_S)

    parsed: list[tuple[dict, uuid.UUID | None, str | None]] = []
    for record in records:
        try:
            if not isinstance(record, dict):
                raise ValidationError({"record": [_("Not a valid record.")]})
            parsed.append((record, p.as_uuid(record.get("uuid"), "uuid"), None))
        except ValidationError as exc:
            parsed.append((record if isinstance(record, dict) else {}, None, _messages(exc)[0]))
    uuids = [u for _r, u, _e in parsed if u is not None]
    receipts = {r.client_uuid: r for r in SyncRecord.objects.filter(client_uuid__in=uuids)}
    grid_ids = set()
    for record, _u, _e in parsed:
        data = record.get("data") if isinstance(record.get("data"), dict) else {}
        if isinstance(data.get("grid_id"), int):
            grid_ids.add(data["grid_id"])
    ctx.grids.update({g.pk: g for g in Area.objects.filter(pk__in=grid_ids)})

    if HOUSEHOLD_PREFETCH is not None:
        HOUSEHOLD_PREFETCH(ctx, [r.get("data", {}).get("household_id") for r, _u, _e in parsed
                                 if r.get("kind") == SyncKind.VISIT and isinstance(r.get("data"), dict)])

    results: list = [None] * len(parsed)
    with transaction.atomic():
        # Patrols and visits first, inserted together; then the other kinds one by one (an edit in
        # the same batch as its visit then finds it).
        built: list[tuple[int, dict, uuid.UUID, str, Built]] = []
        later = []
        in_batch: dict = {}
        for index, (record, record_uuid, error) in enumerate(parsed):
            head = {"uuid": str(record_uuid) if record_uuid else record.get("uuid")}
            if error:
                results[index] = {**head, "status": "rejected", "code": "invalid", "message": error}
            elif record.get("kind") not in BULK_KINDS:
                later.append((index, record, record_uuid, head))
            elif record_uuid in receipts:
                results[index] = {**head, **_duplicate_result(receipts[record_uuid], content_hash(record), actor)}
            elif record_uuid in in_batch:
                later.append((index, record, record_uuid, head))  # answered after the first is saved
            else:
                outcome = _build_one(ctx, record, record_uuid)
                if isinstance(outcome, Built):
                    in_batch[record_uuid] = True
                    built.append((index, record, record_uuid, content_hash(record), outcome))
                else:
                    results[index] = {**head, **outcome}
        for index, outcome in _save_built(ctx, built, receipts):
            results[index] = {"uuid": str(parsed[index][1]), **outcome}
        for index, record, record_uuid, head in later:
            results[index] = {**head, **_apply_one(ctx, record, record_uuid, receipts)}
    return {"server_time": now.isoformat(), "clock_skew_s": skew, "clock_flag": ctx.skew_flag,
            "clock_message": (_("Your phone's clock is off by about %(m)d minutes; times were corrected.")
                              % {"m": round(abs(skew) / 60)}) if ctx.skew_flag else "",
            "results": results}


BULK_KINDS = {SyncKind.PATROL, SyncKind.VISIT}


def _receipt_for(ctx: SyncContext, record: dict, record_uuid, record_hash: str, applied: Applied) -> SyncRecord:
    return SyncRecord(client_uuid=record_uuid, kind=record.get("kind"), actor=ctx.actor, area_path=applied.area_path,
                      content_hash=record_hash, object_type=applied.object_type, object_id=applied.object_id,
                      result=applied.payload,
                      client_time=p.as_datetime(record.get("client_time"), "client_time", required=False),
                      clock_skew_s=ctx.skew_s, clock_skew_flag=ctx.skew_flag)


def _build_one(ctx: SyncContext, record: dict, record_uuid) -> "Built | dict":
    data = record.get("data")
    if not isinstance(data, dict):
        return {"status": "rejected", "code": "invalid", "message": _("The record has no content.")}
    try:
        p.as_datetime(record.get("client_time"), "client_time", required=False)
        return HANDLERS[record["kind"]](ctx, {**data, "_uuid": record_uuid}, None)
    except PermissionDenied as exc:
        return {"status": "rejected", "code": "not_covered", "message": str(exc) or _("You may not record this here.")}
    except ValidationError as exc:
        return _invalid(exc)


def _save_built(ctx: SyncContext, built: list, receipts: dict):
    """Insert all checked patrols and visits and their receipts at once; if that collides with a
    concurrent request (same UUID), fall back to one savepoint per record."""
    if not built:
        return []
    try:
        with transaction.atomic():
            save_new(actor=ctx.actor, objects=[b.obj for *_rest, b in built])
            rows = [_receipt_for(ctx, record, record_uuid, record_hash, b.applied())
                    for _i, record, record_uuid, record_hash, b in built]
            SyncRecord.objects.bulk_create(rows)
    except IntegrityError:
        answers = []
        for index, record, record_uuid, record_hash, b in built:
            b.obj.pk = None
            try:
                with transaction.atomic():
                    save_new(actor=ctx.actor, objects=[b.obj])
                    receipts[record_uuid] = SyncRecord.objects.create(
                        **{f.name: getattr(_receipt_for(ctx, record, record_uuid, record_hash, b.applied()), f.name)
                           for f in SyncRecord._meta.concrete_fields if f.name not in ("id", "received_at")})
                answers.append((index, {"status": "created", "code": "created", "message": _("Received."),
                                        "object": receipts[record_uuid].result}))
            except IntegrityError:
                receipt = SyncRecord.objects.filter(client_uuid=record_uuid).first()
                if receipt is None:
                    raise
                receipts[record_uuid] = receipt
                answers.append((index, _duplicate_result(receipt, record_hash, ctx.actor)))
        return answers
    for row in rows:
        receipts[row.client_uuid] = row
    return [(index, {"status": "created", "code": "created", "message": _("Received."), "object": row.result})
            for (index, *_rest), row in zip(built, rows, strict=True)]


def _invalid(exc: ValidationError) -> dict:
    message, fields = _messages(exc)
    code = "photo_incomplete" if any(getattr(e, "code", None) == "photo_incomplete"
                                     for errs in getattr(exc, "error_dict", {}).values() for e in errs) \
        else "invalid"
    return {"status": "rejected", "code": code, "message": message, "fields": fields}


def _apply_one(ctx: SyncContext, record: dict, record_uuid: uuid.UUID, receipts: dict) -> dict:
    record_hash = content_hash(record)
    receipt = receipts.get(record_uuid)
    if receipt is not None:
        return _duplicate_result(receipt, record_hash, ctx.actor)
    kind = record.get("kind")
    handler = HANDLERS.get(kind)
    if handler is None:
        return {"status": "rejected", "code": "unknown_kind",
                "message": _("This kind of record cannot be received by the server yet.")}
    data = record.get("data")
    if not isinstance(data, dict):
        return {"status": "rejected", "code": "invalid", "message": _("The record has no content.")}
    data = {**data, "_uuid": record_uuid}
    try:
        base_version = p.as_int(record.get("base_version"), "base_version", required=False)
        client_time = p.as_datetime(record.get("client_time"), "client_time", required=False)
        with transaction.atomic():
            applied = handler(ctx, data, base_version)
            if isinstance(applied, Built):
                save_new(actor=ctx.actor, objects=[applied.obj])
                applied = applied.applied()
            receipt = SyncRecord.objects.create(
                client_uuid=record_uuid, kind=kind, actor=ctx.actor, area_path=applied.area_path,
                content_hash=record_hash, object_type=applied.object_type, object_id=applied.object_id,
                result=applied.payload, client_time=client_time, clock_skew_s=ctx.skew_s,
                clock_skew_flag=ctx.skew_flag)
        receipts[record_uuid] = receipt
        return {"status": "created", "code": "created", "message": _("Received."), "object": applied.payload}
    except SyncConflict as conflict:
        return {"status": "conflict", "code": "conflict", "message": conflict.message,
                "server": conflict.server, "client": conflict.client,
                "server_version": conflict.server_version}
    except PermissionDenied as exc:
        return {"status": "rejected", "code": "not_covered",
                "message": str(exc) or _("You may not record this here.")}
    except ValidationError as exc:
        return _invalid(exc)
    except IntegrityError:
        # The same UUID arrived concurrently in another request, which committed first.
        receipt = SyncRecord.objects.filter(client_uuid=record_uuid).first()
        if receipt is None:
            raise
        receipts[record_uuid] = receipt
        return _duplicate_result(receipt, record_hash, ctx.actor)
