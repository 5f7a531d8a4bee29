"""Writes of the fieldwork app: patrols, visits, visit edits (versioned) and resumable photo uploads.

Every function takes a keyword-only `actor`, checks that the actor holds the permission in the grid
concerned, runs in one transaction and writes an audit row. The offline sync (sync.py) calls these.
"""

import datetime as dt
import hashlib
import io
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit.services import audit_event, audit_record, audit_record_many
from yiwang.geography.models import Area, AreaLevel

from . import permissions as P
from .geo import track_distance_m
from .models import Patrol, PhotoUpload, UploadStatus, Visit, VisitMethod, VisitPurpose

ALLOWED_IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
MAX_PHOTO_BYTES = getattr(settings, "YIWANG_MAX_PHOTO_BYTES", 8 * 1024 * 1024)
MAX_CHUNK_BYTES = 1024 * 1024


class UploadOffsetMismatch(Exception):
    """A chunk was sent for the wrong offset; `expected` is where the phone must resume."""

    def __init__(self, expected: int):
        super().__init__(expected)
        self.expected = expected


class SyncConflict(Exception):
    """An edit based on an outdated version: carries both versions for the worker to choose."""

    def __init__(self, message: str, *, server: dict, client: dict, server_version: int):
        super().__init__(message)
        self.message = message
        self.server = server
        self.client = client
        self.server_version = server_version


def holds_in(actor, perm: str, path: str) -> bool:
    paths = actor.scope_paths(perm)
    return paths is None or any(path.startswith(p) for p in paths)


def require_grid(actor, perm: str, grid: Area) -> None:
    """The actor must hold `perm` in this grid (a grid worker covers it); a clear error otherwise."""
    if grid.level != AreaLevel.GRID:
        raise ValidationError({"grid": [_("Records belong to a grid.")]})
    if not holds_in(actor, perm, grid.path):
        raise PermissionDenied(_("You no longer cover grid %(grid)s, so this record cannot be saved there. "
                                 "It stays on your phone; ask your community to check your assignment.")
                               % {"grid": grid.name})


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


# -- patrols --------------------------------------------------------------------------------------

def patrol_build(*, actor, grid: Area, started_at: dt.datetime, ended_at: dt.datetime, track: list | None = None,
                 checkins: list | None = None, note: str = "", client_uuid: uuid.UUID | None = None,
                 clock_skew_s: int = 0) -> Patrol:
    """Check a finished patrol and return it unsaved (the sync saves many at once, see save_new)."""
    require_grid(actor, P.ADD_PATROL, grid)
    if ended_at < started_at:
        raise ValidationError({"ended_at": [_("A patrol cannot end before it starts.")]})
    if (ended_at - started_at) > dt.timedelta(hours=16):
        raise ValidationError({"ended_at": [_("A patrol cannot last more than 16 hours.")]})
    track = track or []
    return Patrol(client_uuid=client_uuid or uuid.uuid4(), worker=actor, grid=grid, area_path=grid.path,
                  day=local_day(started_at), started_at=started_at, ended_at=ended_at, track=track,
                  checkins=checkins or [], note=note, distance_m=track_distance_m(track),
                  duration_s=int((ended_at - started_at).total_seconds()), clock_skew_s=clock_skew_s)


def patrol_record(*, actor, **fields) -> Patrol:
    """Save a finished patrol with its track; distance and duration are computed here, not trusted."""
    return save_new(actor=actor, objects=[patrol_build(actor=actor, **fields)])[0]


# -- visits ---------------------------------------------------------------------------------------

VISIT_EDITABLE = ("purpose", "method", "people_met", "findings", "needs", "follow_up", "follow_up_due",
                  "follow_up_done_at")


def visit_build(*, actor, grid: Area, visited_at: dt.datetime, household_id: int | None = None,
                household_label: str = "", purpose: str = VisitPurpose.ROUTINE,
                method: str = VisitMethod.IN_HOME, people_met: str = "", findings: str = "", needs: str = "",
                follow_up: str = "", follow_up_due: dt.date | None = None, photos: list | None = None,
                lon: float | None = None, lat: float | None = None, client_uuid: uuid.UUID | None = None,
                clock_skew_s: int = 0) -> Visit:
    """Check a household visit in a grid the actor covers and return it unsaved."""
    require_grid(actor, P.ADD_VISIT, grid)
    if follow_up_due and not follow_up:
        raise ValidationError({"follow_up": [_("Say what the follow-up is when you give it a date.")]})
    return Visit(client_uuid=client_uuid or uuid.uuid4(), worker=actor, grid=grid, area_path=grid.path,
                 household_id=household_id, household_label=household_label[:200], visited_at=visited_at,
                 purpose=purpose, method=method, people_met=people_met, findings=findings, needs=needs,
                 follow_up=follow_up, follow_up_due=follow_up_due, photos=[str(p) for p in photos or []],
                 lon=lon, lat=lat, clock_skew_s=clock_skew_s)


def visit_record(*, actor, **fields) -> Visit:
    """Record a household visit in a grid the actor covers."""
    return save_new(actor=actor, objects=[visit_build(actor=actor, **fields)])[0]


def _audit_detail(obj) -> tuple[str, dict]:
    if isinstance(obj, Patrol):
        return "patrol.record", {"points": len(obj.track), "distance_m": obj.distance_m, "duration_s": obj.duration_s}
    return "visit.record", {"household": obj.household_label, "purpose": obj.purpose}


def save_new(*, actor, objects: list) -> list:
    """Insert checked patrols/visits (from patrol_build / visit_build) with one audit row each, in bulk:
    a 200-record sync is three INSERT statements per model, not six hundred."""
    if not objects:
        return []
    with transaction.atomic():
        by_model: dict = {}
        for obj in objects:
            by_model.setdefault(type(obj), []).append(obj)
        for model, rows in by_model.items():
            model.objects.bulk_create(rows)
        events = []
        for obj in objects:
            action, changes = _audit_detail(obj)
            events.append(audit_event(actor=actor, action=action, obj=obj, changes=changes, area_path=obj.area_path))
        audit_record_many(events)
    return objects


def _visit_values(visit: Visit, fields) -> dict:
    values = {}
    for field in fields:
        value = getattr(visit, field)
        values[field] = value.isoformat() if hasattr(value, "isoformat") else value
    return values


def visit_edit(*, actor, visit: Visit, base_version: int, changes: dict) -> Visit:
    """Change a visit; `base_version` is the version the phone showed. An outdated base is a conflict
    carrying both versions, never a silent overwrite."""
    unknown = set(changes) - set(VISIT_EDITABLE)
    if unknown:
        raise ValidationError({"changes": [_("These fields cannot be changed: %(f)s") % {"f": ", ".join(sorted(unknown))}]})
    with transaction.atomic():
        visit = Visit.objects.select_for_update().get(pk=visit.pk)
        if not holds_in(actor, P.CHANGE_VISIT, visit.area_path) or (
                visit.worker_id != actor.pk and not actor.is_superuser):
            raise PermissionDenied(_("Only the grid worker who recorded this visit can change it."))
        if visit.version != base_version:
            raise SyncConflict(
                _("This visit was changed elsewhere (now version %(v)d) after your phone loaded version %(b)d.")
                % {"v": visit.version, "b": base_version},
                server=_visit_values(visit, changes.keys()),
                client={k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in changes.items()},
                server_version=visit.version)
        diff = {}
        for field, value in changes.items():
            old = getattr(visit, field)
            if old != value:
                diff[field] = [old, value]
                setattr(visit, field, value)
        if diff:
            visit.version += 1
            visit.save()
            audit_record(actor=actor, action="visit.edit", obj=visit, changes=diff)
    return visit


# -- resumable photo uploads ----------------------------------------------------------------------

def _upload_file(upload: PhotoUpload) -> Path:
    path = Path(settings.MEDIA_ROOT) / upload.relative_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def upload_start(*, actor, upload_id: uuid.UUID, filename: str, content_type: str, size: int,
                 area_path: str = "") -> PhotoUpload:
    """Open (or reopen, idempotently) a chunked upload. Type and size are checked before any byte."""
    if content_type not in ALLOWED_IMAGE_TYPES:
        raise ValidationError({"content_type": [_("Only JPEG, PNG or WebP photos can be uploaded.")]})
    if size <= 0 or size > MAX_PHOTO_BYTES:
        raise ValidationError({"size": [_("A photo must be smaller than %(mb)d MB.") % {"mb": MAX_PHOTO_BYTES // 1048576}]})
    with transaction.atomic():
        existing = PhotoUpload.objects.select_for_update().filter(upload_id=upload_id).first()
        if existing is not None:
            if existing.owner_id != actor.pk or existing.size != size:
                raise ValidationError({"upload_id": [_("This upload ID is already used for another file.")]})
            return existing
        upload = PhotoUpload.objects.create(upload_id=upload_id, owner=actor, filename=filename[:200],
                                            content_type=content_type, size=size, area_path=area_path)
        _upload_file(upload).write_bytes(b"")
        audit_record(actor=actor, action="photo.upload_start", obj=upload, area_path=area_path,
                     changes={"size": size, "type": content_type})
    return upload


def upload_chunk(*, actor, upload: PhotoUpload, offset: int, chunk: bytes) -> PhotoUpload:
    """Append bytes at `offset`. A wrong offset answers with the server's offset so the phone resumes
    from there; the last chunk triggers validation of the whole file as an image."""
    with transaction.atomic():
        upload = PhotoUpload.objects.select_for_update().get(pk=upload.pk)
        if upload.owner_id != actor.pk:
            raise PermissionDenied
        if upload.status != UploadStatus.RECEIVING:
            return upload
        if offset != upload.received:
            raise UploadOffsetMismatch(upload.received)
        if len(chunk) > MAX_CHUNK_BYTES or upload.received + len(chunk) > upload.size:
            raise ValidationError({"chunk": [_("This chunk goes past the declared size of the photo.")]})
        path = _upload_file(upload)
        with path.open("r+b" if path.exists() else "wb") as fh:
            fh.seek(offset)
            fh.write(chunk)
            fh.truncate()
        upload.received = offset + len(chunk)
        if upload.received == upload.size:
            _complete(upload, path)
        upload.save()
    return upload


def _complete(upload: PhotoUpload, path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    data = path.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            fmt, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        fmt, width, height = None, None, None
    if fmt not in ALLOWED_IMAGE_TYPES.values() or not width or width * height > 40_000_000:
        upload.status = UploadStatus.REJECTED
        path.unlink(missing_ok=True)
        audit_record(actor=upload.owner, action="photo.reject", obj=upload, changes={"format": fmt})
        return
    upload.status = UploadStatus.COMPLETE
    upload.width, upload.height = width, height
    upload.sha256 = hashlib.sha256(data).hexdigest()
    upload.completed_at = timezone.now()
    audit_record(actor=upload.owner, action="photo.complete", obj=upload,
                 changes={"size": upload.size, "width": width, "height": height})


def upload_open(upload: PhotoUpload):
    """The stored bytes of a complete upload, as a file object (for attaching to a case)."""
    return default_storage.open(upload.relative_path, "rb")


def _require_schedule_rights(actor, household) -> None:
    if not holds_in(actor, P.SET_VISIT_SCHEDULE, household.area_path) or not actor.has_perm_anywhere(
            P.SET_VISIT_SCHEDULE):
        raise PermissionDenied(_("You may not set visit intervals for this household."))


def visit_schedule_set(*, actor, household, interval_days: int, note: str = ""):
    """Give one household its own visit interval (community staff), overriding tags and the default.
    Audited with the old and the new interval."""
    from .models import MAX_VISIT_INTERVAL_DAYS, VisitSchedule

    _require_schedule_rights(actor, household)
    try:
        interval_days = int(interval_days)
    except (TypeError, ValueError):
        interval_days = 0
    if not 1 <= interval_days <= MAX_VISIT_INTERVAL_DAYS:
        raise ValidationError({"interval_days": [_("Choose an interval between 1 and %(max)d days.")
                                                 % {"max": MAX_VISIT_INTERVAL_DAYS}]})
    note = (note or "").strip()[:200]
    with transaction.atomic():
        old = VisitSchedule.objects.select_for_update().filter(household=household).first()
        schedule, created = VisitSchedule.objects.update_or_create(
            household=household, defaults={"interval_days": interval_days, "note": note,
                                           "area_path": household.area_path, "set_by": actor})
        audit_record(actor=actor, action="visit_schedule.set", obj=household,
                     changes={"interval_days": [old.interval_days if old else None, interval_days],
                              "note": [old.note if old else "", note]})
    return schedule


def visit_schedule_clear(*, actor, household) -> bool:
    """Remove a household's own interval: its special-group tags or the default apply again."""
    from .models import VisitSchedule

    _require_schedule_rights(actor, household)
    with transaction.atomic():
        old = VisitSchedule.objects.select_for_update().filter(household=household).first()
        if old is None:
            return False
        old.delete()
        audit_record(actor=actor, action="visit_schedule.clear", obj=household,
                     changes={"interval_days": [old.interval_days, None]})
    return True
