"""The staff page for a household's own visit interval: scoped, validated, audited, and used by the
schedule (the phone's due lists and coverage)."""

import datetime as dt

import pytest
from django.utils import timezone

from yiwang.audit.models import AuditEvent
from yiwang.fieldwork.models import VisitSchedule
from yiwang.fieldwork.selectors import visits_due
from yiwang.fieldwork.services import visit_record


def _url(household) -> str:
    return f"/m/households/{household.pk}/interval/"


def _visit(world, household, days_ago):
    return visit_record(actor=world.people.grid_worker, grid=household.grid, household_id=household.pk,
                        household_label=household.number, visited_at=timezone.now() - dt.timedelta(days=days_ago))


def _due(world, household):
    return next(r for r in visits_due(world.people.grid_worker, grid_ids=[household.grid_id])
                if r.household_id == household.pk)


def test_staff_set_an_interval_and_the_schedule_uses_it(world, field, client_for, settings):
    settings.YIWANG_DEFAULT_VISIT_INTERVAL_DAYS = 90
    household = field.households[0]
    _visit(world, household, 10)
    assert _due(world, household).status == "ok"  # 10 days after a visit, on the default 90 days
    client = client_for(world.people.staff)
    page = client.get(_url(household)).content.decode()
    assert "默认周期" in page and "按期" in page and household.number in page

    response = client.post(_url(household), {"interval_days": "7", "note": "独居，子女在外地"})
    assert response.status_code == 302 and response["Location"] == _url(household)
    schedule = VisitSchedule.objects.get(household=household)
    assert schedule.interval_days == 7 and schedule.set_by == world.people.staff and schedule.note == "独居，子女在外地"
    row = _due(world, household)
    assert row.interval_days == 7 and row.reason == "schedule" and row.status == "overdue"

    page = client.get(_url(household)).content.decode()
    assert "已保存：每 7 天走访一次。" in page and "该户单独设定" in page and "超期" in page
    event = AuditEvent.objects.get(action="visit_schedule.set")
    assert event.changes == {"interval_days": [None, 7], "note": ["", "独居，子女在外地"]}
    assert event.actor == world.people.staff and event.area_path == household.area_path

    client.post(_url(household), {"interval_days": "30"})
    assert VisitSchedule.objects.get(household=household).interval_days == 30
    assert AuditEvent.objects.filter(action="visit_schedule.set").latest("pk").changes["interval_days"] == [7, 30]


@pytest.mark.parametrize("value,message", [
    ("0", "请选择 1 到 365 天之间的周期。"),
    ("366", "请选择 1 到 365 天之间的周期。"),
    ("七", "请输入整数天数。"),
    ("", "请填写每隔多少天走访一次。"),
])
def test_an_interval_outside_1_to_365_days_is_refused_in_chinese(world, field, client_for, value, message):
    household = field.households[0]
    response = client_for(world.people.staff).post(_url(household), {"interval_days": value})
    assert response.status_code == 200 and message in response.content.decode()
    assert not VisitSchedule.objects.exists()
    assert not AuditEvent.objects.filter(action="visit_schedule.set").exists()


def test_removing_the_own_interval_brings_back_the_default_and_is_audited(world, field, client_for):
    household = field.households[0]
    client = client_for(world.people.staff)
    client.post(_url(household), {"interval_days": "7"})
    response = client.post(_url(household), {"clear": "1"})
    assert response.status_code == 302 and not VisitSchedule.objects.exists()
    assert _due(world, household).reason == ""
    assert AuditEvent.objects.get(action="visit_schedule.clear").changes == {"interval_days": [7, None]}


def test_outsiders_get_404_and_other_roles_are_refused_without_saving(world, field, client_for):
    household = field.households[0]
    assert client_for(world.people.outsider).post(_url(household), {"interval_days": "7"}).status_code == 404
    assert client_for(world.people.outsider).post(_url(household), {"clear": "1"}).status_code == 404
    for who in ("grid_worker", "dispatcher_comm", "resident"):
        assert client_for(getattr(world.people, who)).post(_url(household), {"interval_days": "7"}).status_code == 403
    assert not VisitSchedule.objects.exists()


def test_the_coverage_page_lists_due_households_with_a_link_to_their_interval(world, field, client_for):
    overdue = field.households[0]
    _visit(world, overdue, 100)
    for household in field.households[1:]:
        _visit(world, household, 1)
    staff_page = client_for(world.people.staff).get("/m/coverage/").content.decode()
    assert f'href="{_url(overdue)}"' in staff_page and "超期" in staff_page
    assert f'href="{_url(field.households[1])}">' in staff_page  # from the latest visits
    # Dispatchers see the due list but may not set intervals: no links.
    dispatcher_page = client_for(world.people.dispatcher_comm).get("/m/coverage/").content.decode()
    assert overdue.number in dispatcher_page and _url(overdue) not in dispatcher_page
