import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from openpyxl import Workbook, load_workbook

from yiwang.audit.models import AuditEvent
from yiwang.core import pii
from yiwang.registry import excel
from yiwang.registry.models import ImportJob, Resident, ResidentTag
from yiwang.registry.tests.factories import id_number, make_resident

pytestmark = pytest.mark.django_db(transaction=False)

HEADERS = [h for _k, h, _r in excel.COLUMNS]


def xlsx(rows, headers=HEADERS) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(name, number, grid, **extra):
    values = {"name": name, "id_number": number, "grid_code": grid.path}
    values.update(extra)
    return [values.get(k, "") for k, _h, _r in excel.COLUMNS]


def upload(actor, content, name="居民.xlsx"):
    return excel.import_job_create(actor=actor, upload=SimpleUploadedFile(name, content))


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_template_has_chinese_headers(world):
    wb = load_workbook(io.BytesIO(excel.resident_template()))
    assert [c.value for c in wb.active[1]] == HEADERS
    assert "身份证号" in HEADERS and "网格编码" in HEADERS


def test_dry_run_reports_bad_rows_and_stores_nothing(world, media):
    g = world.tree.grid_a1
    good = [row(f"居民{i}", id_number(), g) for i in range(5)]
    bad = [
        row("坏号", "141102198001010010", g),  # wrong check digit
        row("公式", id_number(), g, occupation="=HYPERLINK(\"http://x\")"),
        row("日期", id_number(dt.date(1980, 5, 17)), g, birth_date="17/05/1980"),
        row("外区", id_number(), world.tree.grid_b1),  # outside the staff member's area
        row("重复", good[0][1], g),  # same ID twice in the file
    ]
    job = upload(world.people.staff, xlsx(good + bad))
    assert job.state == "checked"
    assert (job.rows_total, job.rows_valid, job.rows_invalid) == (10, 5, 5)
    assert Resident.objects.count() == 0
    report = load_workbook(job.error_report.path)
    rows = list(report.active.iter_rows(values_only=True))[1:]
    reasons = {r[0]: r[2] for r in rows}
    assert set(reasons) == {7, 8, 9, 10, 11}
    assert "校验" in reasons[7] or "check digit" in reasons[7]
    assert "=" in reasons[8]
    # The report itself neutralises the formula it quotes.
    assert any(str(v).startswith("'=") for r in rows for v in r if v)
    assert job.preview[0]["id"].count("*") == 8


def test_import_skips_duplicates_and_reimport_creates_nothing(world, media, django_capture_on_commit_callbacks):
    g = world.tree.grid_a1
    existing = make_resident(g, "老住户", occupation="")
    rows = [row(f"新人{i}", id_number(), g, phone="13800000000", tags="独居老人") for i in range(3)]
    rows.append(row("老住户", pii.decrypt(existing.id_cipher), g, occupation="退休"))
    content = xlsx(rows)
    job = upload(world.people.staff, content)
    assert job.rows_duplicate == 1
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=job, duplicate_mode="skip")
    job.refresh_from_db()
    assert job.state == "done" and (job.created_count, job.skipped_count) == (3, 1)
    assert Resident.objects.count() == 4
    assert ResidentTag.objects.filter(group__name="独居老人").count() == 3
    existing.refresh_from_db()
    assert existing.occupation == ""
    assert AuditEvent.objects.filter(action="resident.import").exists()
    # The same file again: nothing new.
    again = upload(world.people.staff, content)
    assert again.rows_duplicate == 4 and "already imported" in again.message or "已" in again.message
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=again, duplicate_mode="skip")
    again.refresh_from_db()
    assert again.created_count == 0 and Resident.objects.count() == 4
    assert ResidentTag.objects.count() == 3


def test_merge_updates_only_non_empty_values(world, media, django_capture_on_commit_callbacks):
    g = world.tree.grid_a1
    existing = make_resident(g, "老住户", phone="13911112222", occupation="工人")
    job = upload(world.people.staff, xlsx([row("老住户", pii.decrypt(existing.id_cipher), g, occupation="退休")]))
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=job, duplicate_mode="merge")
    existing.refresh_from_db()
    job.refresh_from_db()
    assert job.updated_count == 1 and existing.occupation == "退休" and existing.phone_masked == "139****2222"


def test_failure_half_way_leaves_nothing(world, media, monkeypatch, django_capture_on_commit_callbacks):
    g = world.tree.grid_a1
    monkeypatch.setattr(excel, "BATCH_SIZE", 2)
    job = upload(world.people.staff, xlsx([row(f"人{i}", id_number(), g) for i in range(5)]))
    calls = {"n": 0}
    original = excel._add_tags

    def explode(rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return original(rows)

    monkeypatch.setattr(excel, "_add_tags", explode)
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=job, duplicate_mode="skip")
    job.refresh_from_db()
    assert job.state == "failed" and "worker killed" in job.message
    assert Resident.objects.count() == 0


@pytest.mark.parametrize("content,needle", [
    (b"name,id\nx,y\n", "xlsx"),
    (xlsx([["x"]], headers=["名字"]), "姓名"),
])
def test_bad_files_get_a_clear_message(world, media, content, needle):
    job = upload(world.people.staff, content, name="x.xlsx")
    assert job.state == "failed"
    assert needle in job.message or "Excel" in job.message


@override_settings(YIWANG_IMPORT_MAX_BYTES=1024)
def test_too_large_file_is_refused(world, media):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        upload(world.people.staff, b"PK\x03\x04" + b"0" * 5000)
    assert "MB" in exc.value.messages[0]
    assert ImportJob.objects.count() == 0


def test_export_is_scoped_masked_watermarked_neutralised_and_audited(world):
    a = make_resident(world.tree.grid_a1, "甲人", phone="13812345678", occupation="=cmd|' /C calc'!A0")
    make_resident(world.tree.grid_b1, "乙人")
    from yiwang.registry.selectors import resident_list_visible_to

    content = excel.resident_export(actor=world.people.staff,
                                    residents=resident_list_visible_to(world.people.staff))
    ws = load_workbook(io.BytesIO(content)).active
    values = [v for r in ws.iter_rows(values_only=True) for v in r if v is not None]
    text = " ".join(map(str, values))
    assert "甲人" in text and "乙人" not in text
    assert a.id_masked in text and pii.decrypt(a.id_cipher) not in text and "138****5678" in text
    assert "staff_a" in str(ws.cell(1, 1).value)
    assert "'=cmd|' /C calc'!A0" in values
    assert AuditEvent.objects.filter(action="resident.export", actor=world.people.staff).exists()
    full = excel.resident_export(actor=world.people.staff, residents=resident_list_visible_to(world.people.staff),
                                 unmasked=True, reason="民政核对")
    assert pii.decrypt(a.id_cipher) in str([v for r in load_workbook(io.BytesIO(full)).active.iter_rows(values_only=True)
                                            for v in r])


def test_import_function_for_benchmarks(world, tmp_path):
    path = tmp_path / "bench.xlsx"
    path.write_bytes(xlsx([row(f"人{i}", id_number(), world.tree.grid_a1) for i in range(30)] +
                          [row("坏", "123", world.tree.grid_a1)]))
    result = excel.import_residents_from_path(str(path), actor=world.people.staff)
    assert (result.created, result.invalid) == (30, 1)
    assert connection.vendor in ("sqlite", "postgresql")


# -- the fast reader and the write path ------------------------------------------------------------

def _born(year, month, day, serial, gender="M"):
    return pii.make_id_number("141102", dt.date(year, month, day), serial, gender)


def golden_rows(world):
    """One of each kind of cell people send: text, numbers, dates as dates and as text, numbers stored
    as text, empty cells, a formula, an ID number typed as a number, an in-file duplicate."""
    g = world.tree.grid_a1
    first = _born(1950, 3, 8, 11, "F")
    return [
        row("张 三", first, g, gender="女", birth_date=dt.datetime(1950, 3, 8), phone="13812345678", hukou_type="户籍",
            education="本科", occupation="教师", political_status="党员", address="永宁路1号", tags="独居老人"),
        row("李四", _born(1980, 5, 17, 12), g, birth_date="1980/05/17", phone=13912345678, ethnicity="回族",
            hukou_type="流动人口", tags="独居老人，残疾人"),
        row("Wang五", _born(2001, 12, 30, 13), g),
        row("数字号", 141102198001010013, g),
        row("公式", _born(1990, 1, 2, 14), g, occupation="=1+1"),
        row("日期", _born(1990, 1, 3, 15), g, birth_date="03/01/1990"),
        [None] * len(excel.COLUMNS),
        row("重复", first, g),
    ]


def _report(job):
    return list(load_workbook(job.error_report.path).active.iter_rows(values_only=True)) if job.error_report else []


def _openpyxl_rows(self):
    """SheetValues.rows as openpyxl reads the sheet (the reference the fast reader must match)."""
    wb = load_workbook(self.archive.filename, read_only=True, data_only=False)
    ws = wb.worksheets[0]
    ws.reset_dimensions()
    yield from ws.iter_rows(values_only=True)
    wb.close()


@pytest.mark.parametrize("shared", [False, True], ids=["inline strings", "shared strings"])
def test_dry_run_is_the_same_as_with_openpyxl_reading(world, media, monkeypatch, tmp_path, shared):
    from yiwang.registry.tests.test_xlsx import as_shared_strings
    from yiwang.registry.xlsx import SheetValues

    content = xlsx(golden_rows(world))
    if shared:
        (tmp_path / "inline.xlsx").write_bytes(content)
        content = as_shared_strings(tmp_path / "inline.xlsx", tmp_path / "shared.xlsx").read_bytes()
    fast = upload(world.people.staff, content)
    monkeypatch.setattr(SheetValues, "rows", _openpyxl_rows)
    reference = upload(world.people.staff, content)
    assert (fast.rows_total, fast.rows_valid, fast.rows_invalid) == (7, 3, 4)
    assert (fast.rows_total, fast.rows_valid, fast.rows_invalid, fast.rows_duplicate, fast.preview) == \
        (reference.rows_total, reference.rows_valid, reference.rows_invalid, reference.rows_duplicate,
         reference.preview)
    assert _report(fast) == _report(reference)
    assert [r[:2] for r in _report(fast)[1:]] == [(5, "身份证号"), (6, "职业"), (7, "出生日期"), (9, "身份证号")]


def test_import_stores_each_kind_of_cell_as_before(world, media, django_capture_on_commit_callbacks):
    job = upload(world.people.staff, xlsx(golden_rows(world)))
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=job, duplicate_mode="skip")
    job.refresh_from_db()
    assert job.state == "done" and job.created_count == 3
    stored = {r.name: r for r in Resident.objects.all()}
    assert set(stored) == {"张三", "李四", "Wang五"}
    g = world.tree.grid_a1
    common = {"grid_id": g.pk, "area_path": g.path, "id_type": "id_card", "status": "active", "note": "",
              "version": 1, "dwelling_id": None}
    expected = {
        "张三": {"name_pinyin": "zhangsan", "name_initials": "zs", "gender": "F", "birth_date": dt.date(1950, 3, 8),
                "ethnicity": "汉族", "hukou_type": "registered", "education": "bachelor", "occupation": "教师",
                "political_status": "cpc", "address": "永宁路1号", "phone_masked": "138****5678",
                "id_masked": "141102********" + _born(1950, 3, 8, 11, "F")[-4:]},
        "李四": {"name_pinyin": "lisi", "name_initials": "ls", "gender": "M", "birth_date": dt.date(1980, 5, 17),
                "ethnicity": "回族", "hukou_type": "floating", "education": "", "occupation": "",
                "political_status": "masses", "address": "", "phone_masked": "139****5678"},
        "Wang五": {"name_pinyin": "wangwu", "name_initials": "ww", "gender": "M", "birth_date": dt.date(2001, 12, 30),
                  "ethnicity": "汉族", "hukou_type": "registered", "phone_masked": "", "phone_hash": "",
                  "phone_cipher": ""},
    }
    for name, fields in expected.items():
        resident = stored[name]
        assert {k: getattr(resident, k) for k in {**common, **fields}} == {**common, **fields}, name
        number = pii.decrypt(resident.id_cipher)
        assert resident.id_hash == pii.search_hash(number, kind="id") and resident.created_at is not None
    assert pii.decrypt(stored["张三"].id_cipher) == _born(1950, 3, 8, 11, "F")
    assert pii.decrypt(stored["李四"].phone_cipher) == "13912345678"
    assert stored["李四"].phone_hash == pii.search_hash("13912345678", kind="phone")
    tags = sorted(ResidentTag.objects.values_list("resident__name", "group__name", "area_path"))
    assert tags == [("张三", "独居老人", g.path), ("李四", "残疾人", g.path), ("李四", "独居老人", g.path)]


def _numbered_file(tmp_path, world, count: int, *, tags_every: int = 7):
    g = world.tree.grid_a1
    path = tmp_path / f"rows-{count}.xlsx"
    path.write_bytes(xlsx([row(f"人{i}", _born(1960 + i % 40, 1 + i % 12, 1 + i % 28, i % 100, "MF"[i % 2]), g,
                               phone=f"139{i:08d}", tags="独居老人" if i % tags_every == 0 else "")
                           for i in range(count)]))
    return str(path)


def test_import_queries_grow_with_chunks_not_rows(world, tmp_path, monkeypatch):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    def queries(count: int) -> int:
        path = _numbered_file(tmp_path, world, count)
        with CaptureQueriesContext(db) as captured:
            result = excel.import_residents_from_path(path, actor=world.people.staff)
        assert result.created == count
        Resident.objects.all().delete()
        return len(captured)

    queries(5)  # the actor's memberships are loaded once
    assert queries(500) == queries(50)  # one chunk each
    monkeypatch.setattr(excel, "BATCH_SIZE", 100)
    one, three, five = queries(100), queries(300), queries(500)
    per_chunk = (five - one) / 4
    assert three - one == 2 * per_chunk and 0 < per_chunk <= 5  # lookup, insert, tagged ids, current tags, tags


def test_a_problem_found_by_the_reader_thread_stops_the_import_and_stores_nothing(world, tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "BATCH_SIZE", 10)
    path = _numbered_file(tmp_path, world, 60)
    with override_settings(YIWANG_IMPORT_MAX_ROWS=45), pytest.raises(excel.FileProblem) as exc:
        excel.import_residents_from_path(path, actor=world.people.staff)
    assert "45" in exc.value.messages[0]
    assert Resident.objects.count() == 0 and ResidentTag.objects.count() == 0


@pytest.mark.parametrize("language,needle", [("zh-hans", "校验位"), ("en", "check digit")])
def test_reader_thread_speaks_the_users_language(world, media, language, needle):
    from django.utils import translation

    with translation.override(language):
        job = upload(world.people.staff, xlsx([row("坏号", "141102198001010010", world.tree.grid_a1)]))
    assert needle in _report(job)[1][2]


def test_sheet_damaged_further_in_gets_a_clear_message(world, media):
    content = xlsx([row(f"人{i}", id_number(), world.tree.grid_a1) for i in range(3)])
    source = zipfile.ZipFile(io.BytesIO(content))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: data.index(b'<row r="3"')] + b'<row r="3"><c r="A3" t="inlineStr"><is>'
            target.writestr(item, data)
    job = upload(world.people.staff, damaged.getvalue())
    assert job.state == "failed" and "damaged" in job.message or "损坏" in job.message


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner")
def test_duplicate_lookup_of_a_full_chunk_can_use_the_id_hash_index(world):
    """The unique index on id_hash is partial; with more than 100 values in an IN list PostgreSQL no
    longer proves the list implies its predicate, and scanned the whole table per chunk."""
    hashes = [f"{i:064x}" for i in range(excel.BATCH_SIZE)]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # on a small test table a scan could win anyway
    assert "resident_id_hash_unique" in excel._registered(hashes).explain()
    assert "resident_id_hash_unique" not in Resident.objects.filter(id_hash__in=hashes).order_by().explain()
