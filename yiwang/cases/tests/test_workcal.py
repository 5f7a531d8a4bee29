import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from yiwang.cases import workcal
from yiwang.cases.models import CalendarOverride

pytestmark = pytest.mark.django_db  # administrators' overrides are read first

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def test_working_hours_skip_lunch():
    assert workcal.add_working_hours(at(2026, 9, 30, 10, 0), 4) == at(2026, 9, 30, 15, 30)


def test_working_days_skip_the_national_day_holiday():
    # 30 Sep has 6 working hours left; 1-7 Oct are holidays; 8 Oct is a full day; 1 more hour on 9 Oct.
    assert workcal.add_limit(at(2026, 9, 30, 10, 0), 2, "days") == at(2026, 10, 9, 10, 0)


def test_make_up_saturday_counts_as_a_working_day():
    # Saturday 10 Oct 2026 is a 调休 working day.
    assert workcal.add_working_hours(at(2026, 10, 9, 16, 30), 2) == at(2026, 10, 10, 10, 0)


def test_ordinary_weekend_is_skipped():
    # Sunday 11 Oct is off: 10 Oct 17:00 + 1h -> Monday 12 Oct 09:30.
    assert workcal.add_working_hours(at(2026, 10, 10, 17, 0), 1) == at(2026, 10, 12, 9, 30)


def test_start_outside_hours_begins_next_morning():
    assert workcal.add_working_hours(at(2026, 9, 29, 20, 0), 1) == at(2026, 9, 30, 10, 0)


def test_years_beyond_the_library_fall_back_to_weekends():
    assert workcal.is_working_day(datetime(2030, 1, 7).date()) is True  # a Monday
    assert workcal.is_working_day(datetime(2030, 1, 6).date()) is False  # a Sunday


# -- administrators' overrides (chinesecalendar has no data for 2027) ------------------------------------
@pytest.fixture
def overrides():
    """Each test starts and ends with this process's copy of the overrides forgotten (the test database
    rolls back without a post_delete)."""
    workcal.overrides_changed()
    yield CalendarOverride.objects
    workcal.overrides_changed()


def test_2027_is_not_in_the_library_so_only_weekends_count(overrides):
    assert not workcal.library_covers(2027) and workcal.library_covers(2026)
    # Wed 3 Feb 2027 10:00 + 2 working days = Fri 5 Feb 10:00 with no holiday known.
    assert workcal.add_limit(at(2027, 2, 3, 10, 0), 2, "days") == at(2027, 2, 5, 10, 0)


def test_a_2027_holiday_entered_in_the_admin_moves_a_deadline(overrides, admin_client):
    start = at(2027, 2, 3, 10, 0)
    assert workcal.add_limit(start, 2, "days") == at(2027, 2, 5, 10, 0)  # read (and kept) before the change
    response = admin_client.post("/admin/cases/calendaroverride/add/",
                                 {"day": "2027-02-04", "name": "春节", "is_working_day": ""})
    assert response.status_code == 302, response.content.decode()[:500]
    assert CalendarOverride.objects.get().is_working_day is False
    assert workcal.add_limit(start, 2, "days") == at(2027, 2, 8, 10, 0)  # Thursday off, weekend off
    admin_client.post(f"/admin/cases/calendaroverride/{CalendarOverride.objects.get().pk}/delete/", {"post": "yes"})
    assert not CalendarOverride.objects.exists()
    assert workcal.add_limit(start, 2, "days") == at(2027, 2, 5, 10, 0)


def test_a_make_up_saturday_entered_by_an_administrator_counts(overrides):
    friday_afternoon = at(2027, 2, 12, 16, 30)
    assert workcal.add_working_hours(friday_afternoon, 2) == at(2027, 2, 15, 10, 0)  # Monday
    overrides.create(day=date(2027, 2, 13), is_working_day=True, name="春节调休")
    assert workcal.is_working_day(date(2027, 2, 13)) is True
    assert workcal.add_working_hours(friday_afternoon, 2) == at(2027, 2, 13, 10, 0)  # the Saturday


def test_an_override_wins_over_the_library(overrides):
    national_day = date(2026, 10, 1)
    assert workcal.is_working_day(national_day) is False
    overrides.create(day=national_day, is_working_day=True, name="本地值班")
    assert workcal.is_working_day(national_day) is True


def test_a_deadline_of_a_case_reported_in_2027_follows_the_override(overrides, world, cats):
    from yiwang.cases.models import Channel
    from yiwang.cases.services import case_create

    from .factories import BIN_LAT, BIN_LON

    def due(now):  # 4 working hours (暴露垃圾), dispatched by rule at intake
        return case_create(actor=world.people.grid_worker, channel=Channel.GRID_WORKER, category=cats.garbage,
                           lon=BIN_LON, lat=BIN_LAT, description="垃圾桶满溢", now=now).due_at

    wednesday_4pm = at(2027, 2, 3, 16, 0)
    assert due(wednesday_4pm) == at(2027, 2, 4, 11, 30)  # 1.5 h on Wednesday, 2.5 h on Thursday
    overrides.create(day=date(2027, 2, 4), is_working_day=False, name="春节")
    assert due(wednesday_4pm) == at(2027, 2, 5, 11, 30)


def test_other_processes_pick_up_a_change_through_the_shared_version(overrides, settings):
    settings.YIWANG_WORKCAL_RECHECK_SECONDS = 0
    day = date(2027, 3, 3)  # a Wednesday
    assert workcal.is_working_day(day) is True
    CalendarOverride.objects.bulk_create([CalendarOverride(day=day, name="另一进程写入")])  # no signal here
    assert workcal.is_working_day(day) is True  # this process still has its copy
    cache.set(workcal.OVERRIDES_VERSION_KEY, "bumped-by-another-process")  # what that process's save did
    assert workcal.is_working_day(day) is False


def test_a_missing_year_is_warned_about_in_the_log_healthz_and_admin(overrides, admin_client, client, caplog,
                                                                      monkeypatch):
    assert workcal.calendar_gaps(date(2026, 6, 1)) == [2027]
    assert workcal.calendar_gaps(date(2027, 6, 1)) == [2027, 2028]
    assert workcal.calendar_gaps(date(2025, 6, 1)) == []
    monkeypatch.setattr(workcal.timezone, "localdate", lambda *args, **kwargs: date(2026, 11, 1))
    with caplog.at_level(logging.WARNING, logger="yiwang.cases.workcal"):
        body = client.get("/healthz").json()
    assert body["status"] == "ok" and any("2027" in w for w in body["warnings"])
    assert "2027" in caplog.text
    page = admin_client.get("/admin/cases/calendaroverride/").content.decode()
    assert "2027" in page and "chinesecalendar" in page
    overrides.create(day=date(2027, 1, 1), name="元旦")  # administrators start entering the schedule
    assert workcal.calendar_gaps(date(2026, 6, 1)) == []
    assert client.get("/healthz").json()["warnings"] == []
