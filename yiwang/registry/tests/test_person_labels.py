"""A person's name is 姓名 in Chinese (a thing's is 名称); English keeps "name". Forms, pages, the
phone's correction form, the import template and exports say 姓名; files headed 名称 still import."""

import io
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.translation import override
from openpyxl import load_workbook

from yiwang.registry import excel
from yiwang.registry.forms import ResidentForm
from yiwang.registry.models import Organisation, Resident
from yiwang.registry.tests.factories import id_number, make_household, make_resident
from yiwang.registry.tests.test_excel import HEADERS, row, upload, xlsx

pytestmark = pytest.mark.django_db


def test_a_persons_name_is_xingming_a_things_is_mingcheng():
    with override("zh-hans"):
        assert str(Resident._meta.get_field("name").verbose_name) == "姓名"
        assert str(ResidentForm().fields["name"].label) == "姓名"
        assert str(Organisation._meta.get_field("name").verbose_name) == "名称"
        assert str(Organisation._meta.get_field("legal_representative").verbose_name) == "法定代表人"
        assert str(Organisation._meta.get_field("contact_name").verbose_name) == "联系人"
    with override("en"):
        assert str(Resident._meta.get_field("name").verbose_name) == "name"
        assert str(ResidentForm().fields["name"].label) == "name"


def test_pages_label_people_with_xingming(world, client_for):
    head = make_resident(world.tree.grid_a1, "标签户主")
    household = make_household(world.tree.grid_a1, head)
    client = client_for(world.people.staff)
    for url in (reverse("registry:resident_list"), reverse("registry:household_detail", args=[household.pk])):
        html = client.get(url).content.decode()
        assert "<th>姓名</th>" in html and "<th>名称</th>" not in html, url
    edit = client.get(reverse("registry:resident_edit", args=[head.pk])).content.decode()
    assert re.search(r"<label[^>]*>姓名[:：]?</label>", edit)
    assert "<th>名称</th>" in client.get(reverse("registry:organisation_list")).content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get(reverse("registry:resident_list")).content.decode()
    assert "<th>name</th>" in html and "姓名" not in html.split("<thead>")[1].split("</thead>")[0]


def test_the_phone_correction_form_says_xingming(world, client_for):
    html = client_for(world.people.grid_worker).get("/m/").content.decode()
    fields = json.loads(re.search(r'<script id="correction-fields" type="application/json">(.*?)</script>',
                                  html, re.S).group(1))
    assert {f["name"]: f["label"] for f in fields["resident"]}["name"] == "姓名"


def test_template_and_export_headers_say_xingming(world):
    assert load_workbook(io.BytesIO(excel.resident_template())).active["A1"].value == "姓名"
    make_resident(world.tree.grid_a1, "导出人甲")
    book = load_workbook(io.BytesIO(excel.resident_export(actor=world.people.staff, residents=Resident.objects.all())))
    assert [c.value for c in book.active[2]][0] == "姓名"


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_file_headed_mingcheng_still_imports(world, media, django_capture_on_commit_callbacks):
    old_headers = ["名称" if h == "姓名" else h for h in HEADERS]
    job = upload(world.people.staff, xlsx([row("旧表头人", id_number(), world.tree.grid_a1)], headers=old_headers))
    assert job.state == "checked" and (job.rows_valid, job.rows_invalid) == (1, 0), job.message
    assert job.preview[0]["name"] == "旧表头人"
    with django_capture_on_commit_callbacks(execute=True):
        excel.import_job_confirm(actor=world.people.staff, job=job, duplicate_mode="skip")
    assert list(Resident.objects.values_list("name", flat=True)) == ["旧表头人"]
    # Both headers at once name the same column twice: refused with a clear message, nothing stored.
    both = upload(world.people.staff, xlsx([row("两列人", id_number(), world.tree.grid_a1) + ["两列人"]],
                                           headers=HEADERS + ["名称"]))
    assert both.state == "failed" and "名称" in both.message
    assert Resident.objects.count() == 1
