"""Reads of the dashboards: always scoped to the viewer, figures from the rollups (never a scan of cases).

`dashboard_area` resolves the area a viewer asked for (404 outside their scope); `Period` parses and
bounds the period; the rest return plain dicts the pages, the API, the exports and the PDF share.
"""

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases.models import Case, Category
from yiwang.cases.selectors import case_list_visible_to
from yiwang.cases.workflow import OPEN_STATES
from yiwang.core.prepared import PreparedQuery
from yiwang.core.scoping import scope_prefixes
from yiwang.geography.models import Area, AreaLevel

from .grading import grade, grading, score
from .models import COUNTERS, DailyRollup, DailyTotal, OpenCount, WorkerDaily
from .permissions import VIEW_DASHBOARD

MAX_DAYS = 366
CATEGORY_CACHE_SECONDS = 6 * 3600  # entries are exact (keyed by version); the expiry only bounds memory
LEVEL_NAMES = {1: "district", 2: "subdistrict", 3: "community", 4: "grid"}


# -- area and period ---------------------------------------------------------------------------
def _own_areas(actor) -> dict[str, Area]:
    """The areas of the viewer's memberships that grant the dashboards, by path. They were loaded with the
    memberships that scope every request, so asking for one of them (the usual case: a dispatcher's own
    district or subdistrict) costs no query."""
    paths = set(actor.scope_paths(VIEW_DASHBOARD) or ())
    return {m.area.path: m.area for m in actor.active_memberships() if m.area.path in paths}


def dashboard_roots(actor) -> list[Area]:
    """The highest areas where the viewer may see dashboards."""
    paths = actor.scope_paths(VIEW_DASHBOARD) if actor and actor.is_authenticated else []
    if paths is None:
        return list(Area.objects.filter(level=AreaLevel.DISTRICT))
    if not paths:
        return []
    own = _own_areas(actor)
    return [own[path] for path in sorted(scope_prefixes(paths))]


def dashboard_area(actor, path: str | None = None) -> Area:
    """The area the viewer asked for (default: their highest one); 404 if they may not see it."""
    if not path:
        roots = dashboard_roots(actor)
        if not roots:
            raise Http404
        return roots[0]
    path = str(path)[:15]
    own = _own_areas(actor) if actor and actor.is_authenticated else {}
    if path in own:
        return own[path]
    try:
        return Area.objects.visible_to(actor, VIEW_DASHBOARD).select_related("parent").get(path=path)
    except Area.DoesNotExist as exc:
        raise Http404 from exc


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} — {self.end:%Y-%m-%d}"

    @classmethod
    def parse(cls, params, *, today: dt.date | None = None, default_days: int = 30) -> "Period":
        """From ?start=&end= (YYYY-MM-DD), ?month=YYYY-MM or ?days=N; refuses more than MAX_DAYS."""
        today = today or timezone.localdate()
        start, end = params.get("start"), params.get("end")
        month, days = params.get("month"), params.get("days")
        try:
            if month:
                first = dt.date.fromisoformat(f"{month}-01")
                last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
                period = cls(first, last)
            elif start or end:
                e = dt.date.fromisoformat(end) if end else today
                s = dt.date.fromisoformat(start) if start else e - dt.timedelta(days=default_days - 1)
                period = cls(s, e)
            else:
                n = int(days) if days else default_days
                if n < 1:
                    raise ValueError
                period = cls(today - dt.timedelta(days=n - 1), today)
        except (TypeError, ValueError):
            raise ValidationError({"period": [_("Give the period as start and end dates (YYYY-MM-DD), a month "
                                                "(YYYY-MM) or a number of days.")]}) from None
        if period.end < period.start:
            raise ValidationError({"period": [_("The period ends before it starts.")]})
        if period.days > MAX_DAYS:
            raise ValidationError({"period": [_("A period may span at most %(max)d days; this one spans %(days)d. "
                                                "Choose a shorter period (for longer comparisons, use the monthly "
                                                "reports).") % {"max": MAX_DAYS, "days": period.days}]})
        return period


# -- rates ---------------------------------------------------------------------------------------
def _pct(num, den):
    return round(100.0 * num / den, 1) if den else None


def rates(c: dict) -> dict:
    """The indicators from counters (formulas as yiwang.cases.selectors.IndicatorRow, see yiwang/dashboards/README.md)."""
    return {
        "response_rate": _pct(c["responded"], c["intake"]),
        "resolution_rate": _pct(c["solved"], c["rated"]),
        "satisfaction_rate": _pct(c["satisfied"] + 0.9 * c["basically_satisfied"], c["rated"]),
        "on_time_closure_rate": _pct(c["closed_on_time"], c["closed"] - c["deferred"]),
        "rework_rate": _pct(c["reworked"], c["handled"]),
        "overdue_rate": _pct(c["overdue_closed"], c["closed"]),
    }


# -- the endpoints' reads, compiled once per process ----------------------------------------------
# Building a queryset's SQL costs the ORM about 0.6 ms, more than these indexed reads take to run; they
# run on every dashboard request (core.prepared). Markers are values no real request uses.
_PATH = (DailyTotal._meta.get_field("area_path"), "#area#")
_START, _END, _TODAY = ((DailyTotal._meta.get_field("day"), dt.date(1901, 1, day)) for day in (2, 3, 4))

_TOTALS = PreparedQuery(  # trend: one row per day
    lambda path, start, end: DailyTotal.objects.filter(area_path=path, day__gte=start, day__lte=end)
    .order_by().values("day", *COUNTERS), path=_PATH, start=_START, end=_END)
_TOTALS_AND_TODAY = PreparedQuery(  # tiles: the period's days and today
    lambda path, start, end, today: DailyTotal.objects.filter(Q(day__gte=start, day__lte=end) | Q(day=today),
                                                              area_path=path).order_by().values("day", *COUNTERS),
    path=_PATH, start=_START, end=_END, today=_TODAY)
_OPEN = PreparedQuery(  # tiles: at most six rows (overdue x supervision mark), index-only
    lambda path: OpenCount.objects.filter(area_path=path).values("overdue", "supervision").annotate(n=Sum("n"))
    .order_by(), path=_PATH)
_VERSIONS = PreparedQuery(  # PostgreSQL only (xmin): see _past_days_version
    lambda path, start, end: DailyTotal.objects.filter(area_path=path, day__gte=start, day__lte=end)
    .annotate(version=RawSQL("xmin::text", [])).order_by("day").values("day", "version"),
    path=_PATH, start=_START, end=_END)
_CATEGORY_SUMS = PreparedQuery(  # index-only through dailyrollup_area_day_cat on PostgreSQL
    lambda path, start, end: DailyRollup.objects.filter(area_path=path, day__gte=start, day__lte=end)
    .values("category_id").annotate(intake=Sum("intake"), closed=Sum("closed"), overdue_closed=Sum("overdue_closed"))
    .order_by(), path=_PATH, start=_START, end=_END)
_CATEGORY_TREE = PreparedQuery(lambda: Category.objects.order_by().values("id", "parent_id", "code", "name"))


# -- tiles, trend, categories ---------------------------------------------------------------------
def indicators(area: Area, period: Period, *, today: dt.date | None = None) -> dict:
    """Two queries whatever the area or period: the period's counters and today's intake from the area's
    DailyTotal rows (one row per day, read through dailytotal_key), and the open / overdue / supervised
    counts from its OpenCount rows in one pass (index-only through opencount_area_cover on PostgreSQL)."""
    today = today or timezone.localdate()
    # At most MAX_DAYS + 1 rows; summed here because thirteen FILTER aggregates cost the ORM more to
    # build than the database takes to answer (measured: 27 ms against 14 ms per call).
    counts, today_intake = dict.fromkeys(COUNTERS, 0), 0
    for row in _TOTALS_AND_TODAY.rows(path=area.path, start=period.start, end=period.end, today=today):
        if period.start <= row["day"] <= period.end:
            for counter in COUNTERS:
                counts[counter] += row[counter]
        if row["day"] == today:
            today_intake = row["intake"]
    opens = {"open_now": 0, "overdue_now": 0, "supervised_now": 0}
    for row in _OPEN.rows(path=area.path):
        opens["open_now"] += row["n"]
        opens["overdue_now"] += row["n"] if row["overdue"] else 0
        opens["supervised_now"] += row["n"] if row["supervision"] else 0
    return {
        "area": area_summary(area), "period": {"start": period.start, "end": period.end, "days": period.days},
        "counts": counts, "rates": rates(counts),
        "today_intake": today_intake,
        **opens,
        "empty": not any(counts.values()),
    }


def trend(area: Area, period: Period) -> dict:
    rows = {r["day"]: r for r in _TOTALS.rows(path=area.path, start=period.start, end=period.end)}
    days, series = [], {k: [] for k in ("intake", "closed", "overdue_closed", "response_rate", "satisfaction_rate")}
    day = period.start
    while day <= period.end:
        r = rows.get(day) or dict.fromkeys(COUNTERS, 0)
        rr = rates(r)
        days.append(day.isoformat())
        series["intake"].append(r["intake"])
        series["closed"].append(r["closed"])
        series["overdue_closed"].append(r["overdue_closed"])
        series["response_rate"].append(rr["response_rate"])
        series["satisfaction_rate"].append(rr["satisfaction_rate"])
        day += dt.timedelta(days=1)
    return {"days": days, "series": series, "empty": not rows}


def _category_tops() -> dict[int, tuple[int, str, str]]:
    """Each category's top-level ancestor (itself for a top): id -> (top id, code, name)."""
    cats = {r["id"]: (r["parent_id"], r["code"], r["name"]) for r in _CATEGORY_TREE.rows()}
    tops = {}
    for pk in cats:
        node = pk
        while cats[node][0] in cats:
            node = cats[node][0]
        tops[pk] = (node, cats[node][1], cats[node][2])
    return tops


def _category_sums(area: Area, start: dt.date, end: dt.date) -> list[tuple[int, int, int, int]]:
    """(category id, intake, closed, closed late) of the area over the days [start, end]."""
    return [(r["category_id"], r["intake"], r["closed"], r["overdue_closed"])
            for r in _CATEGORY_SUMS.rows(path=area.path, start=start, end=end)]


def _past_days_version(area: Area, start: dt.date, end: dt.date) -> str | None:
    """A version of the area's rollups over past days [start, end], or None where there is none to read.

    On PostgreSQL: the transaction ids (`xmin`) of the area's DailyTotal rows for those days. A day's
    DailyTotal row is the sum of its DailyRollup rows, and every writer (the incremental refresh, the
    rebuild) rewrites it in the transaction that changes them, so a changed day gives a new xmin and a
    new version (a vanished row changes the list too). Cheap: at most one index row per day."""
    if connection.vendor != "postgresql":
        return None
    rows = [(r["day"], r["version"]) for r in _VERSIONS.rows(path=area.path, start=start, end=end)]
    return hashlib.blake2b(repr(rows).encode(), digest_size=16).hexdigest()


def categories(area: Area, period: Period, *, limit: int = 12, today: dt.date | None = None) -> dict:
    """Intake, closed and closed-late per top-level category over the period, largest intake first.

    Past days are summed once and kept in the cache under their version (`_past_days_version`), so the
    district chart does not re-read thousands of rollup rows per request; today (and any later day) is
    always read live, which keeps the cache valid while cases move today."""
    today = today or timezone.localdate()
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = []
    past_end = min(period.end, today - dt.timedelta(days=1))
    if period.start <= past_end:
        version = _past_days_version(area, period.start, past_end)
        key = f"dashboards:categories:{area.path}:{period.start}:{past_end}:{version}"
        past = cache.get(key) if version else None
        if past is None:
            past = _category_sums(area, period.start, past_end)
            if version:
                cache.set(key, past, CATEGORY_CACHE_SECONDS)
        rows += past
    if period.end >= today:
        rows += _category_sums(area, max(period.start, today), period.end)
    for category_id, *values in rows:
        total = sums[category_id]
        for i, value in enumerate(values):
            total[i] += value or 0
    tops = _category_tops()
    grouped: dict[int, dict] = {}
    for category_id, (intake, closed, overdue_closed) in sums.items():
        key, code, name = tops.get(category_id, (0, "", "—"))
        entry = grouped.setdefault(key, {"id": key, "code": code, "name": name,
                                         "intake": 0, "closed": 0, "overdue_closed": 0})
        entry["intake"] += intake
        entry["closed"] += closed
        entry["overdue_closed"] += overdue_closed
    items = sorted(grouped.values(), key=lambda e: (-e["intake"], e["code"]))
    return {"items": items[:limit], "other": sum(e["intake"] for e in items[limit:]), "empty": not items}


# -- rankings -------------------------------------------------------------------------------------
def area_summary(area: Area) -> dict:
    return {"id": area.pk, "path": area.path, "name": area.name, "level": LEVEL_NAMES[area.level],
            "code": area.code}


def rank_areas(area: Area, period: Period) -> list[dict]:
    """The areas one level below, scored (weights `area`) and graded."""
    if area.level >= AreaLevel.GRID:
        return []
    children = {a.path: a for a in Area.objects.filter(parent=area).only("id", "path", "name", "level",
                                                                         "division_code", "street_no",
                                                                         "community_no", "grid_no")}
    sums = {r["area_path"]: r for r in DailyTotal.objects.filter(level=area.level + 1, area_path__startswith=area.path,
                                                                  day__gte=period.start, day__lte=period.end)
            .values("area_path").annotate(**{c: Sum(c) for c in COUNTERS})}
    overdue = dict(OpenCount.objects.filter(level=area.level + 1, area_path__startswith=area.path, overdue=True)
                   .values("area_path").annotate(n=Sum("n")).values_list("area_path", "n"))
    out = []
    for path, child in children.items():
        counts = {c: (sums.get(path) or {}).get(c) or 0 for c in COUNTERS}
        r = rates(counts)
        s = score(r, "area")
        out.append({**area_summary(child), "counts": counts, "rates": r, "score": s, "grade": grade(s),
                    "overdue_now": overdue.get(path, 0)})
    return _ranked(out)


def _ranked(items: list[dict]) -> list[dict]:
    items.sort(key=lambda e: (e["score"] is None, -(e["score"] or 0), e.get("path", ""), e.get("name", "")))
    for i, item in enumerate(items, 1):
        item["rank"] = i if item["score"] is not None else None
    return items


def rank_departments(area: Area, period: Period) -> list[dict]:
    from yiwang.accounts.models import Department

    rows = (DailyRollup.objects.filter(area_path=area.path, day__gte=period.start, day__lte=period.end)
            .exclude(department_id=0).values("department_id").annotate(**{c: Sum(c) for c in COUNTERS}))
    names = dict(Department.objects.values_list("id", "name"))
    out = []
    for r in rows:
        counts = {c: r[c] or 0 for c in COUNTERS}
        rr = rates(counts)
        s = score(rr, "department")
        out.append({"id": r["department_id"], "name": names.get(r["department_id"], "—"), "counts": counts,
                    "rates": rr, "score": s, "grade": grade(s)})
    return _ranked(out)


def rank_workers(area: Area, period: Period, *, limit: int = 50) -> list[dict]:
    from yiwang.accounts.models import Membership, User

    rows = (WorkerDaily.objects.filter(area_path__startswith=area.path, day__gte=period.start, day__lte=period.end)
            .values("user_id").annotate(reported=Sum("reported"), verified=Sum("verified"),
                                        verified_on_time=Sum("verified_on_time"), on_the_spot=Sum("on_the_spot")))
    workers = set(Membership.objects.filter(role="grid_worker", active=True, area__path__startswith=area.path)
                  .values_list("user_id", flat=True))
    figures = {r["user_id"]: r for r in rows if r["user_id"] in workers}
    users = {u.pk: u for u in User.objects.filter(pk__in=workers)}
    target = grading()["worker_report_target"] * max(period.days, 1) / 30
    out = []
    for user_id, user in users.items():
        r = figures.get(user_id) or {"reported": 0, "verified": 0, "verified_on_time": 0, "on_the_spot": 0}
        wr = {"verification_on_time_rate": _pct(r["verified_on_time"], r["verified"]),
              "report_score": round(min(100.0, 100.0 * r["reported"] / target), 1) if target else None}
        s = score(wr, "worker")
        out.append({"id": user_id, "name": str(user), "username": user.username, "rates": wr, "score": s,
                    "grade": grade(s), "reported": r["reported"], "verified": r["verified"],
                    "on_the_spot": r["on_the_spot"]})
    return _ranked(out)[:limit]


# -- case lists (reads cases, bounded) -----------------------------------------------------------
def case_list(actor, area: Area, which: str, *, limit: int | None = 50):
    """Open overdue or supervised cases under the area that the viewer may see, most urgent first."""
    qs = (case_list_visible_to(actor).filter(area_path__startswith=area.path,
                                             state__in=[s.value for s in OPEN_STATES])
          .select_related("category", "grid", "department"))
    if which == "overdue":
        qs = qs.filter(overdue=True).order_by("deadline", "id")
    elif which == "supervised":
        qs = qs.exclude(supervision="").order_by("-supervision", "deadline", "id")
    elif which == "open":
        qs = qs.order_by("deadline", "id")
    else:
        raise Http404
    return qs[:limit] if limit else qs


def case_row(case: Case) -> dict:
    return {"id": case.pk, "tracking_code": case.tracking_code, "category": case.category.name,
            "grid": case.grid.name, "state": case.get_state_display(), "department": str(case.department or ""),
            "deadline": case.deadline, "supervision": case.supervision, "overdue": case.overdue,
            "created_at": case.created_at, "address": case.address}


# -- population and field work -------------------------------------------------------------------
def population(actor, area: Area) -> dict:
    from yiwang.registry import permissions as RP
    from yiwang.registry.models import Household, Resident, SpecialGroup

    residents = Resident.objects.visible_to(actor, RP.VIEW_RESIDENT).within(area.path)
    result = {"residents": residents.filter(status="active").count(),
              "households": Household.objects.visible_to(actor, RP.VIEW_RESIDENT).within(area.path).count(),
              "groups": []}
    if actor.has_perm_anywhere(RP.VIEW_SPECIAL_GROUP):
        from yiwang.registry.selectors import tag_list_visible_to

        tags = tag_list_visible_to(actor).filter(area_path__startswith=area.path, until__isnull=True)
        counts = dict(tags.values("group_id").annotate(n=Count("id")).values_list("group_id", "n"))
        result["groups"] = [{"code": g.code, "name": g.name, "n": counts.get(g.pk, 0)}
                            for g in SpecialGroup.objects.all() if counts.get(g.pk)]
    return result


def fieldwork(actor, area: Area, period: Period) -> dict:
    from yiwang.fieldwork import permissions as FP
    from yiwang.fieldwork.models import Patrol, Visit

    if not actor.has_perm_anywhere(FP.VIEW_PATROL):
        return {"patrols": None, "visits": None, "grids_patrolled": None, "grids": None}
    t0 = dt.datetime.combine(period.start, dt.time.min, tzinfo=timezone.get_current_timezone())
    t1 = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time.min, tzinfo=timezone.get_current_timezone())
    patrols = Patrol.objects.visible_to(actor, FP.VIEW_PATROL).within(area.path).filter(
        day__gte=period.start, day__lte=period.end)
    visits = Visit.objects.visible_to(actor, FP.VIEW_VISIT).within(area.path).filter(
        visited_at__gte=t0, visited_at__lt=t1)
    grids = Area.objects.filter(level=AreaLevel.GRID, path__startswith=area.path).count()
    patrolled = patrols.values("grid_id").distinct().count()
    return {"patrols": patrols.count(), "visits": visits.count(), "grids_patrolled": patrolled, "grids": grids,
            "coverage_pct": _pct(patrolled, grids),
            "patrol_hours": round((patrols.aggregate(s=Sum("duration_s"))["s"] or 0) / 3600, 1)}


# -- map --------------------------------------------------------------------------------------------
def map_data(actor, area: Area, period: Period, *, category: str = "", state: str = "", marker_limit: int = 500):
    """Grid polygons with intake and overdue counts over the period (rollups) and open-case markers."""
    grids = Area.objects.visible_to(actor, VIEW_DASHBOARD).filter(level=AreaLevel.GRID, path__startswith=area.path,
                                                                   boundary__isnull=False)
    rollups = DailyRollup.objects.filter(level=AreaLevel.GRID, area_path__startswith=area.path,
                                         day__gte=period.start, day__lte=period.end)
    opens = OpenCount.objects.filter(level=AreaLevel.GRID, area_path__startswith=area.path)
    category_ids = None
    if category:
        cat = Category.objects.filter(Q(code=category) | Q(pk=int(category) if category.isdigit() else 0)).first()
        if cat is None:
            raise ValidationError({"category": [_("Unknown category.")]})
        category_ids = list(Category.objects.filter(code__startswith=cat.code).values_list("id", flat=True))
        rollups = rollups.filter(category_id__in=category_ids)
        opens = opens.filter(category_id__in=category_ids)
    if state:
        if state not in {s.value for s in OPEN_STATES}:
            raise ValidationError({"state": [_("Choose an open state.")]})
        opens = opens.filter(state=state)
    intake = dict(rollups.values("area_path").annotate(n=Sum("intake")).values_list("area_path", "n"))
    overdue = dict(opens.filter(overdue=True).values("area_path").annotate(n=Sum("n")).values_list("area_path", "n"))
    open_n = dict(opens.values("area_path").annotate(n=Sum("n")).values_list("area_path", "n"))
    features = []
    for g in grids.only("id", "path", "name", "boundary", "division_code", "street_no", "community_no", "grid_no",
                        "level"):
        features.append({"type": "Feature", "geometry": g.boundary,
                         "properties": {"path": g.path, "name": g.name, "intake": intake.get(g.path, 0),
                                        "overdue": overdue.get(g.path, 0), "open": open_n.get(g.path, 0)}})
    markers_qs = case_list_visible_to(actor).filter(area_path__startswith=area.path,
                                                    state__in=[state] if state else [s.value for s in OPEN_STATES])
    if category_ids is not None:
        markers_qs = markers_qs.filter(category_id__in=category_ids)
    markers = [{"id": c["id"], "lon": c["lon"], "lat": c["lat"], "overdue": c["overdue"], "code": c["tracking_code"],
                "category": c["category__name"], "state": c["state"]}
               for c in markers_qs.order_by("-overdue", "deadline").values(
                   "id", "lon", "lat", "overdue", "tracking_code", "category__name", "state")[:marker_limit]]
    return {"type": "FeatureCollection", "features": features, "markers": markers,
            "period": {"start": period.start, "end": period.end}}


def children_of(actor, area: Area) -> list[Area]:
    return list(Area.objects.visible_to(actor, VIEW_DASHBOARD).filter(parent=area).order_by("path"))


STATE_CHOICES = [(s.value, s.label) for s in OPEN_STATES]
