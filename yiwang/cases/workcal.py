"""Working-time arithmetic on the official Chinese calendar (holidays and 调休 make-up days).

Holidays come from the maintained `chinesecalendar` package, after the days administrators set by hand
(`CalendarOverride`, in the admin: a holiday, or a make-up working day on a weekend). For years the
package does not cover yet (it raises NotImplementedError) and days without an override, weekends-only
is the fallback and a warning is logged once per year; upgrading the package picks up the State
Council's new schedule, and until then administrators enter it as overrides. `calendar_gaps()` names
the current or next year that has neither (shown by /healthz and on the admin's calendar page).

The overrides are read once per process and kept (a core.refcache.RefCache); saving or deleting one clears
this process's copy at once and bumps a version in Django's cache, the signature the other processes (app
servers, workers; the cache is shared in production, CACHE_URL) check at most every
YIWANG_WORKCAL_RECHECK_SECONDS (default 5).

Working hours are YIWANG_WORK_PERIODS (default 09:00-12:00 and 13:30-17:30, Asia/Shanghai, 7 hours).
A limit of N working days is N x the working hours of a day, so a case received at 10:00 on a Friday
with "1 working day" is due at 10:00 on the next working day.
"""

import logging
import uuid
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from yiwang.core.refcache import RefCache

logger = logging.getLogger(__name__)
_warned_years: set[int] = set()

OVERRIDES_VERSION_KEY = "yiwang:workcal:overrides-version"

DEFAULT_PERIODS = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))


def _periods():
    return getattr(settings, "YIWANG_WORK_PERIODS", DEFAULT_PERIODS)


def hours_per_day() -> float:
    return sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).seconds / 3600 for a, b in _periods())


def _tz():
    return ZoneInfo(settings.TIME_ZONE)


def _load_overrides() -> dict[date, bool]:
    from .models import CalendarOverride

    return dict(CalendarOverride.objects.values_list("day", "is_working_day"))


_OVERRIDES = RefCache("cases.workcal", _load_overrides, lambda: cache.get(OVERRIDES_VERSION_KEY),
                      recheck_seconds=lambda: getattr(settings, "YIWANG_WORKCAL_RECHECK_SECONDS", 5))


def _day_overrides() -> dict[date, bool]:
    """{day: is_working_day} of every CalendarOverride, this process's copy (see the module docstring)."""
    return _OVERRIDES.get()


def overrides_changed(**kwargs) -> None:
    """Forget the overrides read so far, here at once and in other processes at their next check
    (post_save / post_delete receiver of CalendarOverride)."""
    _OVERRIDES.forget(using=kwargs.get("using"))
    cache.set(OVERRIDES_VERSION_KEY, uuid.uuid4().hex, timeout=None)


def library_covers(year: int) -> bool:
    """Whether chinesecalendar knows the holidays of `year`."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def calendar_gaps(today: date | None = None) -> list[int]:
    """The current and next year when neither chinesecalendar nor any CalendarOverride covers them."""
    today = today or timezone.localdate()
    overridden = {day.year for day in _day_overrides()}
    return [year for year in (today.year, today.year + 1) if not library_covers(year) and year not in overridden]


def calendar_warnings(today: date | None = None) -> list[str]:
    """Messages for /healthz and the admin (English: operators' text), logged as warnings too."""
    messages = [f"working calendar: chinesecalendar has no holiday data for {year} and no CalendarOverride "
                f"days are entered for it; deadlines in {year} count weekends only (enter the State Council's "
                f"schedule in the admin or upgrade chinesecalendar)" for year in calendar_gaps(today)]
    for message in messages:
        logger.warning(message)
    return messages


@lru_cache(maxsize=8192)
def _library_says(day: date) -> bool | None:
    """chinesecalendar's answer for `day`, None when it has no data for the year. Its data is fixed for the
    installed version, so the answer is kept per process (every deadline walks a few days through it)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def is_working_day(day: date) -> bool:
    override = _day_overrides().get(day)
    if override is not None:
        return override
    answer = _library_says(day)
    if answer is not None:
        return answer
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
