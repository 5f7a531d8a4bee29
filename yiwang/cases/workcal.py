"""Working-time arithmetic on the official Chinese calendar (holidays and 调休 make-up days).

Holidays come from the maintained `chinesecalendar` package. For years it does not cover yet (it
raises NotImplementedError), weekends-only is the fallback and a warning is logged once per year;
upgrading the package picks up the State Council's new schedule.

Working hours are YIWANG_WORK_PERIODS (default 09:00-12:00 and 13:30-17:30, Asia/Shanghai, 7 hours).
A limit of N working days is N x the working hours of a day, so a case received at 10:00 on a Friday
with "1 working day" is due at 10:00 on the next working day.
"""

import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()

DEFAULT_PERIODS = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))


def _periods():
    return getattr(settings, "YIWANG_WORK_PERIODS", DEFAULT_PERIODS)


def hours_per_day() -> float:
    return sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds / 3600 for a, b in _periods())


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            logger.warning("chinesecalendar has no data for %s; counting weekends only", day.year)
        return day.weekday() < 5


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (aware datetime; result in the local zone)."""
    tz = _tz()
    current = start.astimezone(tz)
    remaining = timedelta(hours=hours)
    day = current.date()
    for _ in range(3660):  # at most ten years of days; a limit that long is a configuration error
        if is_working_day(day):
            for begin, end in _periods():
                b = datetime.combine(day, begin, tz)
                e = datetime.combine(day, end, tz)
                if current >= e:
                    continue
                cursor = max(current, b)
                available = e - cursor
                if remaining <= available:
                    return cursor + remaining
                remaining -= available
                current = e
        day += timedelta(days=1)
        current = datetime.combine(day, time.min, tz)
    raise ValueError("working-time limit too long")


def add_limit(start: datetime, amount: float, unit: str) -> datetime:
    """Deadline for a limit in working hours ("hours") or working days ("days")."""
    if unit == "days":
        return add_working_hours(start, amount * hours_per_day())
    return add_working_hours(start, amount)


def warning_time(start: datetime, deadline: datetime, share: float | None = None) -> datetime:
    """When the yellow warning starts: after (1 - share) of the wall-clock span (default 20% left)."""
    share = getattr(settings, "YIWANG_CASE_WARNING_SHARE", 0.2) if share is None else share
    return deadline - (deadline - start) * share
