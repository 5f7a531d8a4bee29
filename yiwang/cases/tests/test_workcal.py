from datetime import datetime
from zoneinfo import ZoneInfo

from yiwang.cases import workcal

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
