"""Visit schedules: when each household is next due for a visit, and which are overdue.

A household's interval is, in order: its own VisitSchedule (set by staff); else the shortest interval
among its current members' special-group tags (for example every 7 days for elderly people living
alone); else settings.YIWANG_DEFAULT_VISIT_INTERVAL_DAYS. Due date = last visit + interval; a
household never visited is due today. Overdue = due date before today.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max, Q
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


def household_schedule(households, *, today: dt.date | None = None, group_label=_group_label) -> list[HouseholdDue]:
    """Schedule rows for a queryset of registry Households (already scoped by the caller).

    Three aggregate queries whatever the number of households: tag intervals, own schedules, last
    visits. `group_label(name, sensitivity)` says how a special group may be named to this viewer.
    """
    from yiwang.registry.models import ResidentTag

    from .models import Visit, VisitSchedule

    today = today or timezone.localdate()
    ids = households.values("pk")
    rows = list(households.values_list("pk", "grid_id", "number", "address"))
    tag_interval: dict[int, tuple[int, str]] = {}
    tags = (ResidentTag.objects.filter(Q(until__isnull=True) | Q(until__gte=today),
                                       resident__memberships__left_on__isnull=True,
                                       resident__memberships__household_id__in=ids)
            .values_list("resident__memberships__household_id", "visit_interval_days", "group__name",
                         "group__sensitivity"))
    for household_id, interval, name, sensitivity in tags:
        current = tag_interval.get(household_id)
        if current is None or interval < current[0]:
            tag_interval[household_id] = (interval, group_label(name, sensitivity))
    own = dict(VisitSchedule.objects.filter(household_id__in=ids).values_list("household_id", "interval_days"))
    last = {hid: timezone.localtime(at).date() for hid, at in
            Visit.objects.filter(household_id__in=ids).values("household_id")
            .annotate(last=Max("visited_at")).values_list("household_id", "last")}
    fallback = default_interval()
    result = []
    for pk, grid_id, number, address in rows:
        if pk in own:
            interval, reason = own[pk], "schedule"
        elif pk in tag_interval:
            interval, reason = tag_interval[pk]
        else:
            interval, reason = fallback, ""
        last_visit = last.get(pk)
        due = last_visit + dt.timedelta(days=interval) if last_visit else today
        result.append(HouseholdDue(pk, grid_id, address or number or f"#{pk}", interval, reason, last_visit, due,
                                   status_for(due, today)))
    result.sort(key=lambda r: (r.due_date, r.interval_days, r.household_id))
    return result


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
