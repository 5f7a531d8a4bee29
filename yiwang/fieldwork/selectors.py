"""Reads of the fieldwork app, always scoped with visible_to(actor, perm)."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Sum
from django.utils import timezone

from yiwang.geography.models import Area, AreaLevel, Building

from . import permissions as P
from .models import Patrol, PhotoUpload, SyncKind, SyncRecord, Visit
from .schedule import household_schedule, schedule_summary


def patrol_list_visible_to(actor, *, within: str | None = None):
    patrols = Patrol.objects.visible_to(actor, P.VIEW_PATROL).select_related("worker", "grid")
    return patrols.within(within) if within else patrols


def visit_list_visible_to(actor, *, within: str | None = None):
    visits = Visit.objects.visible_to(actor, P.VIEW_VISIT).select_related("worker", "grid")
    return visits.within(within) if within else visits


def upload_get_own(actor, upload_id) -> PhotoUpload | None:
    return PhotoUpload.objects.filter(owner=actor, upload_id=upload_id).first()


def worker_grids(actor) -> list[Area]:
    """The grids where the actor records fieldwork (their grid-worker memberships)."""
    return list(Area.objects.visible_to(actor, P.ADD_VISIT).filter(level=AreaLevel.GRID).order_by("path"))


def _group_label_for(actor):
    from yiwang.registry import permissions as RP

    restricted = actor.has_perm_anywhere(RP.VIEW_RESTRICTED_GROUP)
    may_see = actor.has_perm_anywhere(RP.VIEW_SPECIAL_GROUP)

    def label(name: str, sensitivity: int) -> str:
        if may_see and (sensitivity < 3 or restricted):
            return name
        return "重点关注"

    return label


def households_visible(actor, *, grid_ids):
    from yiwang.registry.models import Household
    from yiwang.registry.permissions import VIEW_RESIDENT

    return Household.objects.visible_to(actor, VIEW_RESIDENT).filter(grid_id__in=grid_ids)


def visits_due(actor, *, grid_ids, today: dt.date | None = None) -> list:
    return household_schedule(households_visible(actor, grid_ids=grid_ids), today=today,
                              group_label=_group_label_for(actor))


def follow_ups_open(actor, *, grid_ids) -> list[Visit]:
    return list(visit_list_visible_to(actor).filter(grid_id__in=grid_ids, follow_up__gt="",
                                                    follow_up_done_at__isnull=True)
                .order_by("follow_up_due", "visited_at")[:100])


def today_range(today: dt.date | None = None) -> tuple[dt.datetime, dt.datetime]:
    today = today or timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def my_records_today(actor) -> dict:
    start, end = today_range()
    return {
        "patrols": list(Patrol.objects.filter(worker=actor, started_at__gte=start, started_at__lt=end)
                        .values("id", "client_uuid", "started_at", "ended_at", "distance_m", "duration_s")),
        "visits": list(Visit.objects.filter(worker=actor, visited_at__gte=start, visited_at__lt=end)
                       .values("id", "client_uuid", "household_label", "visited_at", "purpose", "version")),
        "receipts": list(SyncRecord.objects.filter(actor=actor, received_at__gte=start, received_at__lt=end)
                         .values("client_uuid", "kind", "object_id", "received_at")),
    }


def buildings_of(actor, grid_ids) -> list[dict]:
    return list(Building.objects.visible_to(actor, "geography.view_building").filter(grid_id__in=grid_ids)
                .values("id", "grid_id", "number", "name", "address", "lon", "lat"))


# -- coverage --------------------------------------------------------------------------------------

def coverage(actor, *, within: str, start: dt.date, end: dt.date, today: dt.date | None = None,
             due_rows: int = 50) -> dict:
    """Per grid and per worker: households visited within their interval, patrol days and hours,
    visits made and events reported in [start, end]. Only areas where the actor may view coverage."""
    today = today or timezone.localdate()
    grids = list(Area.objects.visible_to(actor, P.VIEW_COVERAGE).within(within)
                 .filter(level=AreaLevel.GRID).order_by("path"))
    grid_ids = [g.pk for g in grids]
    t0 = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    t1 = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))

    from yiwang.registry.models import Household

    summary = schedule_summary(Household.objects.filter(grid_id__in=grid_ids), today=today,
                               group_label=_group_label_for(actor), first=due_rows)
    households = defaultdict(int, summary.households)
    in_interval = defaultdict(int, summary.in_interval)

    patrols = Patrol.objects.filter(grid_id__in=grid_ids, day__gte=start, day__lte=end)
    visits = Visit.objects.filter(grid_id__in=grid_ids, visited_at__gte=t0, visited_at__lt=t1)
    events = SyncRecord.objects.filter(kind=SyncKind.EVENT, received_at__gte=t0, received_at__lt=t1).within(within)

    def per(qs, key, **aggregates):
        return {row[key]: row for row in qs.values(key).annotate(**aggregates)}

    patrol_grid = per(patrols, "grid_id", days=Count("day", distinct=True), seconds=Sum("duration_s"),
                      n=Count("id"), metres=Sum("distance_m"))
    visit_grid = per(visits, "grid_id", n=Count("id"), households=Count("household_id", distinct=True))
    event_path = defaultdict(int)
    for row in events.values("area_path").annotate(n=Count("id")):
        event_path[row["area_path"]] += row["n"]

    grid_rows = []
    for grid in grids:
        pg, vg = patrol_grid.get(grid.pk, {}), visit_grid.get(grid.pk, {})
        total = households[grid.pk]
        grid_rows.append({
            "grid": grid, "households": total, "visited_in_interval": in_interval[grid.pk],
            "coverage_pct": round(100.0 * in_interval[grid.pk] / total, 1) if total else None,
            "visits": vg.get("n", 0), "patrol_days": pg.get("days", 0), "patrols": pg.get("n", 0),
            "patrol_hours": round((pg.get("seconds") or 0) / 3600, 1),
            "patrol_km": round((pg.get("metres") or 0) / 1000, 1), "events": event_path[grid.path],
        })

    patrol_worker = per(patrols, "worker_id", days=Count("day", distinct=True), seconds=Sum("duration_s"))
    visit_worker = per(visits, "worker_id", n=Count("id"), households=Count("household_id", distinct=True))
    event_worker = per(events, "actor_id", n=Count("id"))
    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role

    worker_rows = []
    memberships = (Membership.objects.filter(area_id__in=grid_ids, role=Role.GRID_WORKER, active=True)
                   .select_related("user", "area").order_by("area__path", "user__username"))
    for m in memberships:
        pw, vw = patrol_worker.get(m.user_id, {}), visit_worker.get(m.user_id, {})
        total = households[m.area_id]
        worker_rows.append({
            "user": m.user, "grid": m.area, "households": total,
            "visited_in_interval": in_interval[m.area_id],
            "coverage_pct": round(100.0 * in_interval[m.area_id] / total, 1) if total else None,
            "visits": vw.get("n", 0), "households_visited": vw.get("households", 0),
            "patrol_days": pw.get("days", 0), "patrol_hours": round((pw.get("seconds") or 0) / 3600, 1),
            "events": event_worker.get(m.user_id, {}).get("n", 0),
        })
    totals = {
        "households": sum(households.values()), "visited_in_interval": sum(in_interval.values()),
        "visits": sum(r["visits"] for r in grid_rows), "patrol_days": sum(r["patrol_days"] for r in grid_rows),
        "patrol_hours": round(sum(r["patrol_hours"] for r in grid_rows), 1),
        "events": sum(r["events"] for r in grid_rows),
    }
    totals["coverage_pct"] = (round(100.0 * totals["visited_in_interval"] / totals["households"], 1)
                              if totals["households"] else None)
    return {"grids": grid_rows, "workers": worker_rows, "totals": totals, "start": start, "end": end,
            # overdue and due soon, earliest first: the first `due_rows` of them, and how many there are
            "due": summary.due, "due_count": summary.due_count}
