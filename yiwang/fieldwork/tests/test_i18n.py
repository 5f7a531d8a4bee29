"""The phone app follows the platform's language: Chinese by default, English when chosen with the
language switch (its cookie) or asked for by the browser. Labels come from the page template, the
strings drawn by app.js from the djangojs catalog at /m/jsi18n/, server messages from the sync API."""

import json
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.trans_real import DjangoTranslation

from .factories import visit_record

APP_DIR = Path(__file__).resolve().parents[1]
JS_FILES = sorted((APP_DIR / "static" / "fieldwork").glob("*.js"))
# Han ideographs, CJK punctuation and full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
SYNC_URL = "/api/v1/fieldwork/sync/"


def _client(client_for, world, language: str | None):
    client = client_for(world.people.grid_worker)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language  # what the top bar's language switch sets
    return client


def test_the_app_is_in_chinese_by_default(world, client_for):
    html = _client(client_for, world, None).get("/m/").content.decode()
    assert '<html lang="zh-hans">' in html
    for label in ("开始巡查", "登记走访", "上报事件", "今日待办", "例行走访", "同步"):
        assert label in html
    # Words other apps translate otherwise (取消 is not 撤销 here): the phone app's own context.
    for button in (">今日</button>", ">居民</button>", ">取消</button>"):
        assert button in html
    assert "Start patrol" not in html


def test_the_app_is_in_english_when_english_is_chosen(world, client_for):
    html = _client(client_for, world, "en").get("/m/").content.decode()
    assert '<html lang="en">' in html
    for label in ("Start patrol", "Record a visit", "Report an event", "To do today", "Routine visit", "Sync"):
        assert label in html
    assert not CJK.findall(html), "Chinese left in the English page: " + "".join(CJK.findall(html))


def test_the_browser_language_is_followed_without_a_choice(world, client_for):
    client = client_for(world.people.grid_worker)
    assert "Start patrol" in client.get("/m/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "开始巡查" in client.get("/m/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()


def test_the_page_loads_the_catalog_before_the_app(world, client_for):
    html = _client(client_for, world, None).get("/m/").content.decode()
    assert html.index('src="/m/jsi18n/"') < html.index("fieldwork/app.js")


def _catalog(client) -> tuple[str, dict]:
    """The catalog script (JSON inside is ASCII with \\u escapes, decoded here) and its msgid -> text map."""
    response = client.get("/m/jsi18n/")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/javascript")
    body = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), response.content.decode("ascii"))
    found = re.search(r"const newcatalog = (\{.*?\});", response.content.decode(), re.S)
    return body, json.loads(found.group(1)) if found else {}


def test_the_catalog_holds_the_app_strings_in_chinese(client):
    _body, catalog = _catalog(client)
    assert catalog["Waiting to upload"] == "等待上传"
    assert catalog["On patrol"] == "巡查中"
    assert catalog["Offline"] == "离线"
    assert catalog["%(n)s track point"] == ["%(n)s 个轨迹点"]  # one plural form in Chinese


def test_the_catalog_in_english_has_no_chinese_and_english_plurals(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body, catalog = _catalog(client)
    assert not CJK.search(body) and "Waiting to upload" not in catalog
    assert "const v = (n != 1);" in body


def _js_msgids() -> set[str]:
    """Every msgid app.js passes to gettext()/ngettext() (string literals, decoded like JSON)."""
    literal = r'"((?:[^"\\]|\\.)*)"'
    ids = set()
    for path in JS_FILES:
        source = path.read_text()
        ids |= {json.loads(f'"{m}"') for m in re.findall(r"\bgettext\(\s*" + literal, source)}
        ids |= {json.loads(f'"{m}"') for m in re.findall(r"\bngettext\(\s*" + literal, source)}
    return ids


def test_every_string_of_the_app_has_a_chinese_translation():
    ids = _js_msgids()
    assert len(ids) > 50  # the scan found the app's strings
    zh = DjangoTranslation("zh-hans", domain="djangojs", localedirs=[str(APP_DIR / "locale")])
    missing = sorted(i for i in ids if zh.gettext(i) == i and zh.ngettext(i, i + "s", 1) == i)
    assert not missing, f"add these to locale/zh_Hans/LC_MESSAGES/djangojs.po and compile: {missing}"


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_no_chinese_is_written_in_the_app_scripts(path):
    """Chinese belongs in the catalog (djangojs.po); a string typed into the script would show in
    Chinese to an English user."""
    found = [(n, line.strip()) for n, line in enumerate(path.read_text().splitlines(), 1) if CJK.search(line)]
    assert not found, f"{path.name}: {found[:5]}"


def test_the_service_worker_precaches_the_catalog_and_fetches_it_network_first(client):
    source = client.get("/m/sw.js").content.decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", source).group(1))
    localised = json.loads(re.search(r"const LOCALISED = (\[.*?\]);", source).group(1))
    assert "/m/jsi18n/" in shell and "/m/jsi18n/" in localised and "/m/" in localised


def test_the_manifest_follows_the_language(client):
    assert client.get("/m/manifest.webmanifest").json()["short_name"] == "网格员"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    manifest = client.get("/m/manifest.webmanifest").json()
    assert manifest["short_name"] == "Grid worker" and manifest["lang"] == "en"


def _sync(api, records, language):
    response = api.post(SYNC_URL, {"records": records}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.parametrize("language,unknown,received,conflict", [
    ("zh-hans", "服务器暂不能接收此类记录。", "已接收。", "该走访已在别处被修改"),
    ("en", "This kind of record cannot be received by the server yet.", "Received.",
     "This visit was changed elsewhere"),
])
def test_sync_messages_are_in_the_request_language(world, field, api_for, language, unknown, received, conflict):
    api = api_for(world.people.grid_worker)
    visit = visit_record(field.households[0], follow_up="送药", follow_up_due="2030-01-01")
    strange = {"uuid": str(uuid.uuid4()), "kind": "teleport", "client_time": visit["client_time"], "data": {}}
    results = _sync(api, [visit, strange], language)
    assert results[0]["message"] == received and results[1]["message"] == unknown
    edits = [{"uuid": str(uuid.uuid4()), "kind": "visit_edit", "base_version": 1,
              "data": {"visit_uuid": visit["uuid"], "changes": {"findings": text}}} for text in ("一", "二")]
    results = _sync(api, edits, language)
    assert results[1]["status"] == "conflict" and conflict in results[1]["message"]
