"""Excel import and export of residents.

Import runs in two streaming passes over the file (openpyxl read_only, so memory stays flat in
file size):

1. check (dry run): every row is validated; counts, a masked preview and an xlsx error report
   (row number, column, reason, the row's values) are stored on the ImportJob.
2. run (a Celery task, eager without a broker): valid rows are written in batches of
   BATCH_SIZE with bulk_create/bulk_update, **inside one transaction for the whole file**: if
   anything fails (a crash, a worker killed half-way, a constraint), nothing of the file is stored
   and the job says so. Invalid rows are skipped and listed in the error report; fixing them and
   re-importing the same file creates only the fixed people, because everyone already registered is
   matched by the keyed hash of their ID number and skipped or merged as the user chose.

Bench/CLI fast path: `import_residents_from_path(path, actor=..., duplicate_mode="skip")`.
"""

import datetime as dt
import hashlib
import io
import operator
import queue
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils.exceptions import InvalidFileException

from yiwang.audit.services import audit_record
from yiwang.core import pii
from yiwang.core.tasks import enqueue_on_commit
from yiwang.geography.models import Area, AreaLevel

from . import records
from .models import Gender, IdType, ImportJob, Resident, ResidentStatus, ResidentTag, SpecialGroup
from .permissions import IMPORT, REVEAL_PII
from .services import can
from .xlsx import ParseError, SheetValues

BATCH_SIZE = 1000

# key, Chinese header, required
COLUMNS = [
    ("name", "姓名", True),
    ("id_number", "身份证号", True),
    ("gender", "性别", False),
    ("birth_date", "出生日期", False),
    ("ethnicity", "民族", False),
    ("phone", "联系电话", False),
    ("hukou_type", "户籍类型", False),
    ("education", "文化程度", False),
    ("occupation", "职业", False),
    ("political_status", "政治面貌", False),
    ("grid_code", "网格编码", True),
    ("address", "现住址", False),
    ("tags", "特殊人群", False),
]
HEADER_OF = {key: header for key, header, _req in COLUMNS}
# Other headers people's files carry for a column: pages labelled a person's name 名称 for a while, and
# sheets made from them must still import.
HEADER_ALIASES = {"名称": "name"}
KEY_OF_HEADER = ({header: key for key, header, _req in COLUMNS} | {key: key for key, _h, _r in COLUMNS}
                 | HEADER_ALIASES)
MERGE_FIELDS = ["name", "name_pinyin", "name_initials", "gender", "birth_date", "ethnicity", "phone_cipher",
                "phone_hash", "phone_masked", "hukou_type", "education", "occupation", "political_status", "address"]

# What people type in Excel, mapped to stored values.
ALIASES = {
    "gender": {"男": "M", "女": "F", "男性": "M", "女性": "F"},
    "hukou_type": {"户籍": "registered", "户籍人口": "registered", "本地": "registered", "流动": "floating",
                   "流动人口": "floating", "常住": "resident", "常住人口": "resident", "境外": "foreign",
                   "境外人员": "foreign", "外籍": "foreign"},
    "education": {"无": "none", "文盲": "none", "小学": "primary", "初中": "junior", "高中": "senior", "中专": "senior",
                  "职高": "senior", "大专": "college", "专科": "college", "本科": "bachelor", "大学": "bachelor",
                  "研究生": "postgraduate", "硕士": "postgraduate", "博士": "postgraduate"},
    "political_status": {"群众": "masses", "中共党员": "cpc", "党员": "cpc", "中共预备党员": "cpc_probationary",
                         "预备党员": "cpc_probationary", "共青团员": "cyl", "团员": "cyl", "民主党派": "other_party"},
}
# Typed as numbers in Excel, read as text.
TEXT_KEYS = frozenset({"id_number", "phone", "grid_code"})
EXAMPLE_ROW = ["张三", "141102198001010013", "男", "1980-01-01", "汉族", "13812345678", "户籍", "高中", "个体",
               "群众", "141102001001001", "离石区永宁路1号1单元101室", "独居老人"]


def max_upload_bytes() -> int:
    return int(getattr(settings, "YIWANG_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def neutralise(value):
    """Stop spreadsheet formula injection: text starting with = + - @ (or tab/CR) gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# -- the template ------------------------------------------------------------------------------

def resident_template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "居民"
    ws.append([header for _k, header, _r in COLUMNS])
    ws.append(EXAMPLE_ROW)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column, (_k, header, _required) in zip("ABCDEFGHIJKLM", COLUMNS, strict=True):
        ws.column_dimensions[column].width = 20 if header in ("身份证号", "网格编码", "现住址") else 12
    notes = wb.create_sheet("填写说明")
    for line in [
        "每行一人；第一行为表头，请勿修改。示例行（张三）导入前请删除。",
        "必填：姓名、身份证号、网格编码（15位，见区域页面）。",
        "身份证号须为18位有效号码（校验位正确）；出生日期、性别可留空，将从身份证号读取。",
        "日期格式：2024-05-31。性别：男/女。户籍类型：户籍/流动/常住/境外。",
        "文化程度：无/小学/初中/高中/中专/大专/本科/研究生。政治面貌：群众/中共党员/预备党员/共青团员/民主党派。",
        "特殊人群：多个用顿号或逗号分隔，如“独居老人、残疾人”。",
        "单元格不能以“=”开头（不接受公式）。",
        "已登记的人员（按身份证号匹配）可选择跳过或以本表数据更新；重复导入同一文件不会产生重复人员。",
    ]:
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# -- reading and validating rows -----------------------------------------------------------------

class FileProblem(ValidationError):
    pass


@dataclass
class RowResult:
    number: int  # the spreadsheet row number
    raw: list
    values: dict | None = None  # cleaned, ready to store
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    id_hash: str = ""
    insert: tuple = ()  # the INSERT_COLUMNS values, prepared by the reader thread for the import


def _open(path: str) -> SheetValues:
    with open(path, "rb") as handle:
        if handle.read(4) != b"PK\x03\x04":
            raise FileProblem(_("This is not an Excel .xlsx file. Save it as “Excel workbook (.xlsx)” and try again."))
    try:
        return SheetValues(path)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError) as exc:
        raise FileProblem(_("The file could not be read as an Excel workbook: it may be damaged.")) from exc


def _sheet_rows(sheet: SheetValues) -> Iterator[tuple]:
    """The sheet's rows; a file damaged further in gets the same message as one that does not open."""
    try:
        yield from sheet.rows()
    except (ParseError, ValueError, IndexError) as exc:
        raise FileProblem(_("The file could not be read as an Excel workbook: it may be damaged.")) from exc


def _header_map(header_row) -> dict[int, str]:
    mapping, unknown = {}, []
    for index, cell in enumerate(header_row):
        text = str(cell).strip() if cell is not None else ""
        if not text:
            continue
        key = KEY_OF_HEADER.get(text.replace("*", "").strip())
        if key is None:
            unknown.append(text)
        elif key in mapping.values():
            raise FileProblem(_("The column “%(c)s” appears twice.") % {"c": text})
        else:
            mapping[index] = key
    missing = [HEADER_OF[k] for k, _h, required in COLUMNS if required and k not in mapping.values()]
    if missing:
        raise FileProblem(_("Missing columns: %(cols)s. Download the template and keep its first row.")
                          % {"cols": "、".join(missing)})
    if unknown:
        raise FileProblem(_("Unknown columns: %(cols)s. Use the template's headers.") % {"cols": "、".join(unknown)})
    return mapping


class RowReader:
    """Streams validated rows of a resident sheet. Reuses one grid map and one tag map."""

    def __init__(self, path: str, *, actor):
        self.path = path
        self.actor = actor
        grids = Area.objects.visible_to(actor, IMPORT).filter(level=AreaLevel.GRID)
        self.grids = {g.path: g for g in grids.only("id", "path", "name")}
        self.groups = {g.name: g for g in SpecialGroup.objects.all()}
        self.seen: set[bytes] = set()
        self.today = timezone.localdate()

    def rows(self) -> Iterator[RowResult]:
        with _open(self.path) as sheet:
            iterator = _sheet_rows(sheet)
            header = next(iterator, None)
            if header is None:
                raise FileProblem(_("The sheet is empty."))
            mapping = _header_map(header)
            limit = int(getattr(settings, "YIWANG_IMPORT_MAX_ROWS", 200_000))
            for number, raw in enumerate(iterator, start=2):
                if raw.count(None) + raw.count("") == len(raw):  # an empty row (every cell None or "")
                    continue
                if number - 1 > limit:
                    raise FileProblem(_("The file has more than %(n)d rows; split it into smaller files.")
                                      % {"n": limit})
                yield self._validate(number, raw, mapping)

    def _validate(self, number: int, raw, mapping: dict[int, str]) -> RowResult:
        result = RowResult(number=number, raw=list(raw))
        data = {}
        width = len(raw)
        for index, key in mapping.items():
            value = raw[index] if index < width else None
            if isinstance(value, str):
                value = value.strip()
                if value[:1] == "=":
                    result.errors.append((HEADER_OF[key], _("The cell starts with “=”; formulas are not accepted, "
                                                            "type the value itself.")))
                    continue
                aliases = ALIASES.get(key)
                if aliases is not None:
                    value = aliases.get(value, value)
            elif value is not None:
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                if key in TEXT_KEYS:
                    value = str(value)
            data[key] = value
        if not data.get("id_number"):
            result.errors.append((HEADER_OF["id_number"], _("The ID number is required.")))
        grid = None
        code = str(data.pop("grid_code", "") or "").strip()
        if not code:
            result.errors.append((HEADER_OF["grid_code"], _("The grid code is required.")))
        else:
            grid = self.grids.get(code)
            if grid is None:
                result.errors.append((HEADER_OF["grid_code"],
                                      _("No grid %(code)s in your area; use the 15-digit code of a grid you may "
                                        "import into.") % {"code": code}))
        tags = []
        for name in str(data.pop("tags", "") or "").replace("，", "、").replace(",", "、").split("、"):
            name = name.strip()
            if not name:
                continue
            if name not in self.groups:
                result.errors.append((HEADER_OF["tags"], _("Unknown special group “%(name)s”.") % {"name": name}))
            else:
                tags.append(self.groups[name])
        try:
            cleaned = records.clean_resident(data, today=self.today)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                result.errors.extend((HEADER_OF.get(key, key), m) for m in messages)
            cleaned = None
        if cleaned is not None and cleaned.get("id_number"):
            result.id_hash = pii.search_hash(cleaned["id_number"], kind="id")
            digest = bytes.fromhex(result.id_hash)
            if digest in self.seen:
                result.errors.append((HEADER_OF["id_number"], _("This ID number appears earlier in the file.")))
            self.seen.add(digest)
        if not result.errors and cleaned is not None:
            cleaned["grid"] = grid
            cleaned["tags"] = tags
            result.values = cleaned
        return result


def _registered(hashes) -> QuerySet:
    """Residents by ID hash, through the unique index. The index is partial (`id_hash <> ''`) and
    PostgreSQL proves an IN list implies that only up to 100 values: with 1,000 it scanned the
    whole table (0.6 s a chunk at a million residents). Saying it again keeps the index usable."""
    return Resident.objects.filter(id_hash__in=hashes).exclude(id_hash="").order_by()


def _existing(hashes: list[str]) -> dict[str, tuple[int, str]]:
    if not hashes:
        return {}
    return {h: (pk, path) for h, pk, path in _registered(hashes).values_list("id_hash", "id", "area_path")}


_END = object()


def _read_ahead(rows: Iterator[RowResult], *, prepare=None, size: int = 500,
                depth: int = 4) -> Iterator[list[RowResult]]:
    """`rows` in lists of `size`, read and validated by a thread of their own, up to `depth` lists
    ahead; `prepare(row)` is called there on each valid row.

    While the caller waits on the database (the duplicate lookup, COPY finishing its index updates,
    the tags) the next rows are parsed and validated: the database server works on the other core
    instead of after Python. The thread touches no database (RowReader loads its grids and groups
    before); it speaks the caller's language, and its exceptions are raised in the caller.
    """
    lists: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                lists.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with translation.override(language):
                chunk: list[RowResult] = []
                for row in rows:
                    if prepare is not None and row.values is not None:
                        prepare(row)
                    chunk.append(row)
                    if len(chunk) >= size:
                        if not put(chunk):
                            return
                        chunk = []
                put(chunk)
                put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            put(exc)
        finally:
            rows.close()

    reader = threading.Thread(target=read, name="registry-import-reader", daemon=True)
    reader.start()
    try:
        while (item := lists.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


class ErrorReport:
    """An xlsx listing each bad row and why, written as rows arrive (write_only: constant memory)."""

    def __init__(self):
        self.wb = self.ws = None  # created on the first bad row: an unsaved write-only book leaks a handle
        self.count = 0

    def add(self, row: RowResult, problems: list[tuple[str, str]]) -> None:
        if self.wb is None:
            self.wb = Workbook(write_only=True)
            self.ws = self.wb.create_sheet("错误")
            self.ws.append(["行号", "列", "问题"] + [h for _k, h, _r in COLUMNS])
        raw = [neutralise(v if not isinstance(v, (dt.date, dt.datetime)) else v.isoformat()) for v in row.raw]
        for column, message in problems:
            self.ws.append([row.number, column, str(message)] + raw)
            self.count += 1

    def content(self) -> bytes:
        buffer = io.BytesIO()
        self.wb.save(buffer)
        return buffer.getvalue()


def _preview_row(row: RowResult) -> dict:
    v = row.values
    return {"row": row.number, "name": v["name"], "id": pii.mask_id_number(v["id_number"]),
            "gender": str(Gender(v["gender"]).label) if v.get("gender") else "", "birth": v["birth_date"].isoformat() if v.get("birth_date") else "",
            "phone": pii.mask_phone(v["phone"]) if v.get("phone") else "", "grid": v["grid"].name,
            "tags": "、".join(g.name for g in v["tags"])}


# -- jobs ----------------------------------------------------------------------------------------

def import_job_create(*, actor, upload) -> ImportJob:
    """Store an uploaded file and run the dry-run check on it (synchronously: reading is fast)."""
    if not actor.has_perm_anywhere(IMPORT):
        raise ValidationError(_("You may not import."))
    if upload.size > max_upload_bytes():
        raise ValidationError(_("The file is %(size).1f MB; the limit is %(limit)d MB. Split it into smaller files.")
                              % {"size": upload.size / 1024 / 1024, "limit": max_upload_bytes() // 1024 // 1024})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    job = ImportJob(created_by=actor, filename=upload.name[:200], sha256=digest.hexdigest(), size=upload.size)
    job.file.save(f"{job.sha256[:16]}.xlsx", File(upload), save=False)
    job.save()
    import_job_check(job)
    return job


def import_job_check(job: ImportJob) -> ImportJob:
    """The dry run: validate every row, count duplicates, write the error report. Stores nothing else."""
    reader = RowReader(job.file.path, actor=job.created_by)
    report = ErrorReport()
    total = valid = invalid = duplicate = 0
    preview: list[dict] = []
    batch: list[RowResult] = []

    def flush():
        nonlocal duplicate
        existing = _existing([r.id_hash for r in batch])
        for r in batch:
            if r.id_hash in existing:
                duplicate += 1
        batch.clear()

    try:
        for chunk in _read_ahead(reader.rows()):
            for row in chunk:
                total += 1
                if row.values is None:
                    invalid += 1
                    report.add(row, row.errors)
                    continue
                valid += 1
                if len(preview) < 10:
                    preview.append(_preview_row(row))
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    flush()
        flush()
    except FileProblem as exc:
        job.state, job.message = ImportJob.State.FAILED, " ".join(exc.messages)
        job.save()
        return job
    previous = ImportJob.objects.filter(sha256=job.sha256, state=ImportJob.State.DONE).exclude(pk=job.pk).first()
    job.rows_total, job.rows_valid, job.rows_invalid, job.rows_duplicate = total, valid, invalid, duplicate
    job.preview = preview
    job.message = (_("This file was already imported on %(date)s; people already registered will not be added "
                     "again.") % {"date": timezone.localtime(previous.finished_at).strftime("%Y-%m-%d %H:%M")}
                   if previous and previous.finished_at else "")
    if total == 0:
        job.state, job.message = ImportJob.State.FAILED, _("The file has no data rows.")
    else:
        job.state = ImportJob.State.CHECKED
    if report.count:
        job.error_report.save(f"errors-{job.sha256[:12]}.xlsx", ContentFile(report.content()), save=False)
    job.save()
    return job


def import_job_confirm(*, actor, job: ImportJob, duplicate_mode: str) -> ImportJob:
    """Queue the import (the user chose skip or merge for people already registered)."""
    from .tasks import resident_import_run

    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.created_by_id != actor.pk:
            raise ValidationError(_("Only the person who uploaded the file can start its import."))
        if locked.state in (ImportJob.State.QUEUED, ImportJob.State.RUNNING, ImportJob.State.DONE):
            return locked  # a double click
        if locked.state != ImportJob.State.CHECKED or not locked.rows_valid:
            raise ValidationError(_("There is nothing to import in this file."))
        locked.duplicate_mode = duplicate_mode
        locked.state = ImportJob.State.QUEUED
        locked.save(update_fields=["duplicate_mode", "state"])
        enqueue_on_commit(resident_import_run, locked.pk)
    return locked


def _progress_key(job_id: int) -> str:
    return f"registry:import:{job_id}"


def import_progress(job: ImportJob) -> dict:
    """Progress of a running import. Rows are written in one transaction, invisible to other
    connections until commit, so progress travels through the cache."""
    done = job.rows_valid if job.state == ImportJob.State.DONE else (cache.get(_progress_key(job.pk)) or 0)
    total = job.rows_total or 1
    return {"done": done, "total": job.rows_total, "percent": min(100, round(100 * done / total))}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    invalid: int = 0


def import_job_run(job_id: int) -> ImportJob:
    """Write the valid rows of a checked job: all of the file or nothing."""
    job = ImportJob.objects.get(pk=job_id)
    if job.state not in (ImportJob.State.QUEUED, ImportJob.State.RUNNING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.RUNNING, started_at=timezone.now())
    try:
        result = import_residents_from_path(job.file.path, actor=job.created_by, duplicate_mode=job.duplicate_mode,
                                            progress=lambda n: cache.set(_progress_key(job.pk), n, 3600),
                                            job=job)
    except Exception as exc:  # noqa: BLE001 - any failure rolls the whole file back; tell the user
        message = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED, finished_at=timezone.now(),
            message=_("The import stopped and nothing was stored: %(error)s") % {"error": message[:500]})
        raise
    finally:
        cache.delete(_progress_key(job.pk))
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE, finished_at=timezone.now(), created_count=result.created,
        updated_count=result.updated, skipped_count=result.skipped)
    job.refresh_from_db()
    return job


def import_residents_from_path(path: str, *, actor, duplicate_mode: str = "skip", progress=None,
                               job: ImportJob | None = None) -> ImportResult:
    """Import residents from an xlsx file in one transaction; returns counts.

    Used by the import task and the benchmark harness. Invalid rows are skipped (the dry run lists
    them); people already registered (same ID number) are skipped or, with duplicate_mode="merge",
    updated with the file's non-empty values if they are in the actor's area.
    """
    result = ImportResult()
    reader = RowReader(path, actor=actor)
    batch: list[RowResult] = []
    done = 0

    def flush():
        nonlocal done
        existing = _existing([r.id_hash for r in batch])
        new_rows, merge_rows = [], []
        for row in batch:
            if row.id_hash in existing:
                pk, area_path = existing[row.id_hash]
                if duplicate_mode == ImportJob.DuplicateMode.MERGE and can(actor, IMPORT, area_path):
                    merge_rows.append((pk, row))
                else:
                    result.skipped += 1
            else:
                new_rows.append(row)
        result.created += len(new_rows)
        tag_rows = _insert_new(new_rows)
        if merge_rows:
            merged = _merge(merge_rows)
            result.updated += len(merged)
            tag_rows += [(pk, area_path, row.values["tags"]) for pk, area_path, row in merged]
        _add_tags(tag_rows)
        done += len(batch)
        batch.clear()
        if progress:
            progress(done)

    now = timezone.now()
    stamp = now if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        for chunk in _read_ahead(reader.rows(), prepare=_prepare_insert(stamp)):
            for row in chunk:
                if row.values is None:
                    result.invalid += 1
                    continue
                batch.append(row)
                if len(batch) >= BATCH_SIZE:
                    flush()
        flush()
        audit_record(actor=actor, action="resident.import", obj=job,
                     area_path=_common_path(reader.grids) if job is None else _common_path(reader.grids),
                     object_repr=job.filename if job else path.rsplit("/", 1)[-1],
                     changes={"created": result.created, "updated": result.updated, "skipped": result.skipped,
                              "invalid": result.invalid, "mode": duplicate_mode})
    return result


def _common_path(grids: dict) -> str:
    paths = list(grids)
    if not paths:
        return ""
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[:-3] if len(prefix) > 6 else ""
    return prefix


# Every column a new resident's row gets (the rest are nullable); created_at and updated_at come last.
INSERT_COLUMNS = ["grid_id", "area_path", "name", "name_pinyin", "name_initials", "gender", "birth_date", "ethnicity",
                  "id_type", "id_cipher", "id_hash", "id_masked", "phone_cipher", "phone_hash", "phone_masked",
                  "hukou_type", "education", "occupation", "political_status", "address", "status", "note", "version",
                  "created_at", "updated_at"]


def _stored_columns(row: RowResult) -> dict:
    """A valid row as resident columns: personal data encrypted, hashed and masked, pinyin keys."""
    v = row.values
    grid = v["grid"]
    full, initials = records.pinyin_keys(v["name"])
    number = v["id_number"]  # its keyed hash was computed during validation
    return {"grid_id": grid.pk, "area_path": grid.path, "name": v["name"], "name_pinyin": full,
            "name_initials": initials, "gender": v.get("gender", ""), "birth_date": v.get("birth_date"),
            "ethnicity": v.get("ethnicity") or "汉族", "id_type": IdType.ID_CARD, "id_cipher": pii.encrypt(number),
            "id_hash": row.id_hash, "id_masked": pii.mask_id_number(number),
            **records.pii_columns("phone", v.get("phone", "")), "hukou_type": v.get("hukou_type") or "registered",
            "education": v.get("education", ""), "occupation": v.get("occupation", ""),
            "political_status": v.get("political_status") or "masses", "address": v.get("address", ""),
            "status": ResidentStatus.ACTIVE, "note": "", "version": 1}


def _prepare_insert(stamp):
    """What the reader thread does to each valid row for _insert_new: its INSERT_COLUMNS values
    (encryption and hashing happen there, beside the parsing, not while the database waits)."""
    values_of = operator.itemgetter(*INSERT_COLUMNS[:-2])

    def prepare(row: RowResult) -> None:
        row.insert = (*values_of(_stored_columns(row)), stamp, stamp)
    return prepare


def _insert_new(rows: list[RowResult]) -> list[tuple[int, str, list]]:
    """Insert new people from their prepared columns; returns (pk, area_path, groups) for those with
    special-group tags. No model instances or per-row SQL compilation (the import's hot path):
    PostgreSQL gets COPY, other databases one executemany INSERT."""
    if not rows:
        return []
    table = connection.ops.quote_name(Resident._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in INSERT_COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row.insert)
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(INSERT_COLUMNS))})",
                               [row.insert for row in rows])
    tagged = {row.id_hash: row for row in rows if row.values["tags"]}
    if not tagged:
        return []
    found = _registered(list(tagged)).values_list("id", "area_path", "id_hash")
    return [(pk, path, tagged[h].values["tags"]) for pk, path, h in found]


def _resident_from(row: RowResult) -> Resident:
    return Resident(**_stored_columns(row))


def _merge(pairs: list[tuple[int, RowResult]]) -> list[tuple[int, str, RowResult]]:
    """Update existing people with the file's non-empty values (empty cells never erase data)."""
    residents = Resident.objects.in_bulk([pk for pk, _row in pairs])
    changed = []
    out = []
    for pk, row in pairs:
        resident = residents[pk]
        fresh = _resident_from(row)
        dirty = False
        for name in MERGE_FIELDS:
            value = getattr(fresh, name)
            if name.startswith("phone_") and not row.values.get("phone"):
                continue
            if value in ("", None) or name in ("hukou_type", "political_status", "ethnicity") and \
                    not row.values.get(name):
                continue
            if name.startswith("phone_") and resident.phone_hash == fresh.phone_hash:
                continue
            if getattr(resident, name) != value:
                setattr(resident, name, value)
                dirty = True
        if dirty:
            resident.version += 1
            changed.append(resident)
        out.append((pk, resident.area_path, row))
    if changed:
        Resident.objects.bulk_update(changed, MERGE_FIELDS + ["version"], batch_size=BATCH_SIZE)
    return [(pk, path, row) for pk, path, row in out if residents[pk] in changed or row.values["tags"]]


def _add_tags(rows: list[tuple[int, str, list]]) -> None:
    wanted = [(pk, path, group) for pk, path, groups in rows for group in groups]
    if not wanted:
        return
    current = set(ResidentTag.objects.filter(resident_id__in={pk for pk, _p, _g in wanted}, until__isnull=True)
                  .values_list("resident_id", "group_id"))
    ResidentTag.objects.bulk_create([
        ResidentTag(resident_id=pk, group=group, area_path=path, visit_interval_days=group.visit_interval_days)
        for pk, path, group in wanted if (pk, group.pk) not in current])


# -- export -------------------------------------------------------------------------------------

EXPORT_HEADERS = ["姓名", "性别", "出生日期", "民族", "身份证号", "联系电话", "户籍类型", "文化程度", "职业", "政治面貌",
                  "网格编码", "网格", "现住址", "状态"]


def resident_export(*, actor, residents, unmasked: bool = False, reason: str = "") -> bytes:
    """An xlsx of the given (already scoped) residents: masked unless the actor may reveal in each
    person's area and asked for it with a reason; watermarked with the exporter; audited."""
    from .selectors import tag_list_visible_to  # noqa: F401 (tags are sensitive: not exported)

    if unmasked and len((reason or "").strip()) < 2:
        raise ValidationError(_("Say why the export needs full ID numbers and phones."))
    now = timezone.localtime()
    stamp = f"导出人：{actor.display_name or actor.get_username()}（{actor.get_username()}） 导出时间：{now:%Y-%m-%d %H:%M} 仅限工作使用，请勿外传"
    wb = Workbook(write_only=True)
    wb.properties.creator = actor.get_username()
    wb.properties.title = stamp
    ws = wb.create_sheet("居民")
    ws.oddHeader.center.text = stamp
    ws.oddFooter.center.text = stamp
    ws.append([stamp])
    ws.append(EXPORT_HEADERS)
    today = timezone.localdate()
    count = revealed = 0
    for r in residents.select_related("grid").order_by("area_path", "id").iterator(chunk_size=2000):
        full = unmasked and can(actor, REVEAL_PII, r.area_path)
        birth = r.birth_date.isoformat() if r.birth_date else ""
        if r.birth_date and not full and r.age(today) is not None and r.age(today) < 14:
            birth = f"{r.birth_date:%Y-%m}"  # children's data is sensitive: month precision only
        row = [r.name, r.get_gender_display() if r.gender else "", birth, r.ethnicity,
               pii.decrypt(r.id_cipher) if full else r.id_masked,
               pii.decrypt(r.phone_cipher) if full else r.phone_masked,
               str(r.get_hukou_type_display()), str(r.get_education_display()) if r.education else "", r.occupation,
               str(r.get_political_status_display()) if r.political_status else "", r.grid.code, r.grid.name,
               r.address, str(r.get_status_display())]
        ws.append([neutralise(v) for v in row])
        count += 1
        revealed += full
    ws.append([stamp])
    audit_record(actor=actor, action="resident.export", area_path=_export_path(actor),
                 object_repr=_("%(n)d residents") % {"n": count}, reason=reason,
                 changes={"rows": count, "unmasked_rows": revealed})
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _export_path(actor) -> str:
    paths = actor.scope_paths("registry.export")
    if not paths:
        return ""
    return _common_path({p: None for p in paths})
