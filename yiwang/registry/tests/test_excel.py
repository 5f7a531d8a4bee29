import datetime as dt
import io

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
