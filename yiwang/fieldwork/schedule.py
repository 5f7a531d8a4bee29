"""Visit schedules: when each household is next due for a visit, and which are overdue.

A household's interval is, in order: its own VisitSchedule (set by staff); else the shortest interval
among its current members' special-group tags (for example every 7 days for elderly people living
alone); else settings.YIWANG_DEFAULT_VISIT_INTERVAL_DAYS. Due date = last visit + interval; a
household never visited is due today. Overdue = due date before today.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone

DUE_SOON_DAYS = 3


def default_interval() -> int:
    return int(getattr(settings, "YIWANG_DEFAULT_VISIT_INTERVAL_DAYS", 90))


@dataclass
class HouseholdDue:
    household_id: int
    grid_id: int
    label: str
    interval_days: int
    reason: str
    last_visit: dt.date | None
    due_date: dt.date
    status: str  # "overdue", "due" or "ok"

    def as_json(self) -> dict:
        return {"household_id": self.household_id, "grid_id": self.grid_id, "label": self.label,
                "interval_days": self.interval_days, "reason": self.reason,
                "last_visit": self.last_visit.isoformat() if self.last_visit else None,
                "due_date": self.due_date.isoformat(), "status": self.status}


def status_for(due_date: dt.date, today: dt.date) -> str:
    if due_date < today:
        return "overdue"
    if due_date <= today + dt.timedelta(days=DUE_SOON_DAYS):
        return "due"
    return "ok"


def _group_label(name: str, sensitivity: int) -> str:
    return name


def _current_tags(today: dt.date):
    from yiwang.registry.models import ResidentTag

    return ResidentTag.objects.filter(Q(until__isnull=True) | Q(until__gte=today),
                                      resident__memberships__left_on__isnull=True)


def _intervals(ids, today: dt.date, group_label) -> tuple[dict, dict]:
    """(own interval by household, (shortest tag interval, label) by household) for the households `ids`."""
    from .models import VisitSchedule

    tag_interval: dict[int, tuple[int, str]] = {}
    tags = (_current_tags(today).filter(resident__memberships__household_id__in=ids)
            .values_list("resident__memberships__household_id", "visit_interval_days", "group__name",
                         "group__sensitivity"))
    for household_id, interval, name, sensitivity in tags:
        current = tag_interval.get(household_id)
        if current is None or interval < current[0]:
            tag_interval[household_id] = (interval, group_label(name, sensitivity))
    own = dict(VisitSchedule.objects.filter(household_id__in=ids).values_list("household_id", "interval_days"))
    return own, tag_interval


def _last_visits(ids) -> tuple[dict[int, dt.date], dict[int, int]]:
    """(local date of the last visit, grid) of each visited household among `ids`, in one query."""
    from .models import Visit

    last, grid_of = {}, {}
    for household_id, grid_id, at in (Visit.objects.filter(household_id__in=ids)
                                      .values("household_id", "household__grid_id").annotate(last=Max("visited_at"))
                                      .values_list("household_id", "household__grid_id", "last")):
        last[household_id], grid_of[household_id] = timezone.localtime(at).date(), grid_id
    return last, grid_of


def _row(pk, grid_id, label, own, tag_interval, fallback, last, today) -> HouseholdDue:
    if pk in own:
        interval, reason = own[pk], "schedule"
    elif pk in tag_interval:
        interval, reason = tag_interval[pk]
    else:
        interval, reason = fallback, ""
    last_visit = last.get(pk)
    due = last_visit + dt.timedelta(days=interval) if last_visit else today
    return HouseholdDue(pk, grid_id, label, interval, reason, last_visit, due, status_for(due, today))


def _label(pk, number, address) -> str:
    return address or number or f"#{pk}"


def _order(row: HouseholdDue) -> tuple:
    return row.due_date, row.interval_days, row.household_id


def household_schedule(households, *, today: dt.date | None = None, group_label=_group_label) -> list[HouseholdDue]:
    """Schedule rows for a queryset of registry Households (already scoped by the caller).

    Three aggregate queries whatever the number of households: tag intervals, own schedules, last
    visits. `group_label(name, sensitivity)` says how a special group may be named to this viewer.
    """
    today = today or timezone.localdate()
    ids = households.values("pk")
    own, tag_interval = _intervals(ids, today, group_label)
    last, _grids = _last_visits(ids)
    fallback = default_interval()
    result = [_row(pk, grid_id, _label(pk, number, address), own, tag_interval, fallback, last, today)
              for pk, grid_id, number, address in households.values_list("pk", "grid_id", "number", "address")]
    result.sort(key=_order)
    return result


@dataclass
class ScheduleSummary:
    households: dict  # grid id -> households
    in_interval: dict  # grid id -> households visited and not overdue
    due: list  # the first rows of household_schedule that are not "ok", in its order
    due_count: int  # how many rows of household_schedule are not "ok"


def schedule_summary(households, *, today: dt.date | None = None, group_label=_group_label,
                     first: int = 50) -> ScheduleSummary:
    """What coverage shows of household_schedule(households), without a row per household: counts per grid,
    how many are due or overdue, and the first `first` of those. A district has ~400,000 households, of
    which the visited ones (those with a last visit) and the ones with their own or a tag's interval are
    few; every other household is due today with the default interval, so only the lowest keys of those
    can be among the first rows. Tests: fieldwork/tests/test_schedule.py compares it with household_schedule."""
    from .models import Visit

    today = today or timezone.localdate()
    households = households.order_by()
    ids = households.values("pk")
    per_grid = dict(households.values("grid_id").annotate(n=Count("pk")).values_list("grid_id", "n"))
    own, tag_interval = _intervals(ids, today, group_label)
    fallback = default_interval()
    last, grid_of = _last_visits(ids)
    in_interval: dict[int, int] = {}
    candidates = []
    for pk in last:
        row = _row(pk, grid_of[pk], "", own, tag_interval, fallback, last, today)
        if row.status != "overdue":
            in_interval[row.grid_id] = in_interval.get(row.grid_id, 0) + 1
        if row.status != "ok":
            candidates.append(row)
    visited_due = len(candidates)
    # Never visited: due today. Those with their own or a tag's interval may sort anywhere among them; every
    # other one has the default interval, so only the lowest keys of those can come first. (The grid and
    # label are read for the rows chosen.)
    special = (set(own) | set(tag_interval)) - set(last)
    candidates += [_row(pk, None, "", own, tag_interval, fallback, last, today) for pk in special]
    lowest = households.exclude(pk__in=Visit.objects.values("household_id")).order_by("pk").values_list("pk", flat=True)
    plain = [pk for pk in lowest[:first + len(special)] if pk not in special][:first]
    candidates += [_row(pk, None, "", own, tag_interval, fallback, last, today) for pk in plain]
    chosen = sorted(candidates, key=_order)[:first]
    found = {pk: (grid_id, _label(pk, number, address)) for pk, grid_id, number, address in
             households.filter(pk__in=[row.household_id for row in chosen])
             .values_list("pk", "grid_id", "number", "address")}
    for row in chosen:
        row.grid_id, row.label = found[row.household_id]
    return ScheduleSummary(households=per_grid, in_interval=in_interval, due=chosen,
                           due_count=visited_due + sum(per_grid.values()) - len(last))


def household_interval(actor, household, *, today: dt.date | None = None, group_label=_group_label) -> dict:
    """One household's schedule for the staff page: the interval in force and where it comes from,
    its own interval if staff set one, last visit, due date and status, and its latest visits."""
    from yiwang.registry.models import Household

    from . import permissions as P
    from .models import Visit, VisitSchedule

    row = household_schedule(Household.objects.filter(pk=household.pk), today=today, group_label=group_label)[0]
    own = VisitSchedule.objects.filter(household=household).select_related("set_by").first()
    visits = list(Visit.objects.visible_to(actor, P.VIEW_VISIT).filter(household=household)
                  .select_related("worker").order_by("-visited_at")[:10])
    return {"row": row, "own": own, "visits": visits, "default_days": default_interval()}
