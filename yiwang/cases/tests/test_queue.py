"""The dispatcher's queue page: what a row shows, escaping, keyset paging both ways, the overdue filter,
the filter form keeping its choices, and one lean SELECT for the rows."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from yiwang.cases import views
from yiwang.cases.models import Case, Channel
from yiwang.cases.workflow import State, SupervisionMark

from .test_views import make_case

QUEUE = reverse("cases:queue")


def _row(page: str, code: str) -> str:
    """The <tr> of the case with this tracking code (empty if the page does not list it)."""
    match = re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(code)}</a>.*?</tr>", page, re.S)
    return match.group(0) if match else ""


def _codes(page: str) -> list[str]:
    return re.findall(r'<a href="/cases/\d+/">([^<]+)</a>', page)


def _pager(page: str) -> str:
    return re.search(r'<p class="pager">.*?</p>', page, re.S).group(0)


def _links(page: str) -> dict[str, str]:
    """The pager's links: their text (arrows stripped) and query strings."""
    return {text.strip(" ←→"): href.replace("&amp;", "&")
            for href, text in re.findall(r'<a href="\?([^"]*)">([^<]*)</a>', _pager(page))}


def _link(page: str, label: str) -> str:
    return _links(page)[label]


def test_row_shows_state_mark_department_and_late_deadline(world, cats, client_for):
    case = make_case(world, cats)
    Case.objects.filter(pk=case.pk).update(supervision=SupervisionMark.RED,
                                           deadline=timezone.now() - timedelta(hours=1))
    on_time = make_case(world, cats, description="另一处垃圾")
    page = client_for(world.people.dispatcher_comm).get(QUEUE).content.decode()
    row = _row(page, case.tracking_code)
    with translation.override("zh-hans"):
        state, mark, channel = (str(State.DISPATCHED.label), str(SupervisionMark.RED.label),
                                str(Channel.GRID_WORKER.label))
    assert f'href="{reverse("cases:detail", args=[case.pk])}"' in row
    assert f'value="{case.pk}"' in row and state in row and channel in row and cats.garbage.name in row
    assert f'class="case-mark mark-red" title="{mark}"' in row
    assert world.people.department.name in row and case.grid.name in row
    assert '<td class="overdue">' in row
    other = _row(page, on_time.tracking_code)
    assert other and 'class="overdue"' not in other and "case-mark" not in other


def test_row_escapes_names(world, cats, client_for):
    cats.garbage.name = '<img src=x onerror="alert(1)">'
    cats.garbage.save()
    case = make_case(world, cats)
    page = client_for(world.people.dispatcher_comm).get(QUEUE).content.decode()
    assert case.tracking_code in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_keyset_pages_older_then_newer_and_back_to_newest(world, cats, client_for, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    codes = [make_case(world, cats, description=f"第{i}起").tracking_code for i in range(5)]
    newest_first = codes[::-1]
    client = client_for(world.people.dispatcher_comm)
    first = client.get(QUEUE + "?channel=grid_worker").content.decode()
    assert _codes(first) == newest_first[:2]
    assert set(_links(first)) == {"更早的案件"}  # nothing newer than the newest page
    assert "before=" in _link(first, "更早的案件") and "channel=grid_worker" in _link(first, "更早的案件")
    second = client.get(QUEUE + "?" + _link(first, "更早的案件")).content.decode()
    assert _codes(second) == newest_first[2:4]
    last = client.get(QUEUE + "?" + _link(second, "更早的案件")).content.decode()
    assert _codes(last) == newest_first[4:]
    assert set(_links(last)) == {"最新", "更新的案件"}  # the oldest page has no older link
    back = client.get(QUEUE + "?" + _link(last, "更新的案件")).content.decode()
    assert _codes(back) == newest_first[2:4]
    assert set(_links(back)) == {"最新", "更新的案件", "更早的案件"}
    top = client.get(QUEUE + "?" + _link(back, "最新")).content.decode()
    assert _codes(top) == newest_first[:2] and _link(top, "更早的案件") == _link(first, "更早的案件")


def test_overdue_filter_lists_open_late_cases_only(world, cats, client_for):
    past = timezone.now() - timedelta(hours=2)
    flagged = make_case(world, cats, description="已标超期")
    Case.objects.filter(pk=flagged.pk).update(overdue=True)
    late = make_case(world, cats, description="期限已过")
    Case.objects.filter(pk=late.pk).update(deadline=past)
    closed = make_case(world, cats, description="已结案")
    Case.objects.filter(pk=closed.pk).update(state=State.CLOSED, deadline=past)
    on_time = make_case(world, cats, description="未到期")
    client = client_for(world.people.dispatcher_comm)
    overdue = _codes(client.get(QUEUE + "?overdue=true").content.decode())
    assert sorted(overdue) == sorted([flagged.tracking_code, late.tracking_code])
    not_overdue = _codes(client.get(QUEUE + "?overdue=false").content.decode())
    assert sorted(not_overdue) == sorted([closed.tracking_code, on_time.tracking_code])


def test_filter_form_keeps_the_choices_made(world, cats, client_for):
    make_case(world, cats)
    page = client_for(world.people.dispatcher_comm).get(
        QUEUE + "?state=dispatched&state=to_verify&channel=hotline&review=true&code=abc").content.decode()
    assert re.search(r'<option value="hotline" selected>', page)
    assert not re.search(r'<option value="grid_worker" selected>', page)
    assert re.search(r'<select name="review">.*?<option value="true" selected>', page, re.S)
    assert re.search(r'<option value="dispatched" selected>', page)
    assert re.search(r'<option value="to_verify" selected>', page)
    assert not re.search(r'<option value="closed" selected>', page)
    assert '<input type="text" name="code" value="abc">' in page


def test_yes_no_filters_offer_any_not_unknown_and_any_lists_everything(world, cats, client_for):
    late = make_case(world, cats, description="已标超期")
    Case.objects.filter(pk=late.pk).update(overdue=True)
    on_time = make_case(world, cats, description="未到期")
    client = client_for(world.people.dispatcher_comm)
    with translation.override("zh-hans"):
        page = client.get(QUEUE + "?overdue=unknown", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    overdue_select = re.search(r'<select name="overdue">(.*?)</select>', page, re.S).group(1)
    assert '<option value="unknown" selected>不限</option>' in overdue_select
    assert "未知" not in page
    assert sorted(_codes(page)) == sorted([late.tracking_code, on_time.tracking_code])
    assert 'class="nav-toggle' in page  # the phone's menu button
    assert 'id="queue-filters"' in page


@pytest.mark.parametrize("query", ["", "?overdue=true", "?state=in_progress&channel=hotline", "?area=141102001"])
def test_rows_come_from_one_select_of_the_shown_columns(world, cats, client_for, query):
    for i in range(3):
        make_case(world, cats, description=f"第{i}起")
    client = client_for(world.people.dispatcher_district)
    client.get(QUEUE + query)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(QUEUE + query)
    assert response.status_code == 200
    sql = [q["sql"] for q in captured.captured_queries if "cases_case" in q["sql"]]
    assert len(sql) == 1 and "COUNT(" not in sql[0].upper()
    # the row's columns only: not the description, the area boundaries or the category's JSON settings
    for column in ('"description"', '"boundary"', '"handling_modes"', '"reporter_phone_cipher"'):
        assert column not in sql[0]
