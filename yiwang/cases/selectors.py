"""Reads for cases: scoped lists and lookups, work queues, duplicate suggestions and indicators.

`indicators_for` is the one place the KPIs are computed (formulas in docs/indicators.md); the
dashboards app reuses it.
"""

import math
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat, Substr, TruncDate
from django.http import Http404
from django.utils import timezone

from yiwang.core.scoping import scope_q

from .models import Case, CaseStep, Category
from .permissions import VIEW_CASE, VIEW_INDICATORS, handler_department_ids
from .workflow import LEVEL_PATH_LENGTH, OPEN_STATES, Action, State


def _visibility_q(actor, perm: str = VIEW_CASE) -> Q | None:
    """None: the actor sees nothing. Area scope plus, for handlers, cases dispatched to their department."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    paths = actor.scope_paths(perm)
    if paths is None:
        return Q()
    condition = scope_q("area_path", paths) if paths else Q(pk__in=[])
    departments = handler_department_ids(actor) if perm == VIEW_CASE else set()
    if departments:
        condition |= Q(department_id__in=departments)
    if not paths and not departments:
        return None
    return condition


def case_list_visible_to(actor):
    condition = _visibility_q(actor)
    if condition is None:
        return Case.objects.none()
    return Case.objects.filter(condition)


def case_get_visible(actor, pk) -> Case:
    try:
        return case_list_visible_to(actor).select_related("category", "grid", "department", "building",
                                                          "merged_into").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def case_by_tracking_code(code: str) -> Case | None:
    return (Case.objects.select_related("category", "grid", "department")
            .filter(tracking_code=(code or "").strip().upper()).first())


def case_queue(actor):
    """The queue page's base queryset: the cases the actor may see (filters and paging come on top)."""
    return case_list_visible_to(actor)


# What a queue row shows: one SELECT with its three joins, no model instances.
QUEUE_COLUMNS = ("id", "tracking_code", "category__name", "grid__name", "state", "supervision", "level",
                 "department__name", "deadline", "channel", "created_at")


@dataclass
class KeysetPage:
    """One page of rows, newest first, and the ids to page from (None: no such page)."""

    rows: list[dict]
    older_than: int | None  # pass as ?before=
    newer_than: int | None  # pass as ?after=


def case_queue_page(cases, *, before: int | None = None, after: int | None = None, size: int = 50) -> KeysetPage:
    """A page of `cases` by id (keyset): the newest, those older than `before`, or those newer than `after`.

    Never counts the matching rows: on a million cases a COUNT(*) costs more than the page itself, so the
    page only knows whether there is a next one (it fetches size + 1 rows).
    """
    if after is not None:
        rows = list(cases.filter(id__gt=after).order_by("id").values(*QUEUE_COLUMNS)[:size + 1])
        has_newer = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(rows, rows[-1]["id"] if rows else None, rows[0]["id"] if rows and has_newer else None)
    if before is not None:
        cases = cases.filter(id__lt=before)
    rows = list(cases.order_by("-id").values(*QUEUE_COLUMNS)[:size + 1])
    has_older = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, rows[-1]["id"] if has_older else None,
                      rows[0]["id"] if rows and before is not None else None)


def case_steps(case: Case, *, public_only: bool = False):
    steps = case.steps.select_related("department").prefetch_related("attachments").order_by("at", "id")
    return steps.filter(public=True) if public_only else steps


def category_leaves(*, public_only: bool = False):
    qs = Category.objects.filter(active=True, children__isnull=True).select_related("parent")
    return qs.filter(public=True) if public_only else qs


def category_tree():
    """Active categories as a flat list ordered by code (parents before children)."""
    return Category.objects.filter(active=True).order_by("code")


# -- duplicates ---------------------------------------------------------------------------------------
def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in (text or "") if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def duplicate_candidates(actor, *, category, lon: float, lat: float, text: str = "", radius_m: float = 300,
                         days: int = 7, limit: int = 5, exclude_pk=None) -> list[Case]:
    """Open cases in the same or a sibling category near (lon, lat) within `days`, most similar text first."""
    if category is None:
        return []
    related = Q(category=category)
    if category.parent_id:
        related |= Q(category__parent_id=category.parent_id)
    dlat = radius_m / 111_000
    dlon = radius_m / (111_000 * max(math.cos(math.radians(lat)), 0.1))
    since = timezone.now() - timedelta(days=days)
    qs = (case_list_visible_to(actor).open().filter(related, created_at__gte=since,
                                                     lon__range=(lon - dlon, lon + dlon),
                                                     lat__range=(lat - dlat, lat + dlat))
          .select_related("category"))
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    words = _bigrams(text)
    scored = []
    for case in qs[:200]:
        other = _bigrams(case.description)
        similarity = len(words & other) / len(words | other) if words and other else 0.0
        distance = math.hypot((case.lon - lon) / dlon, (case.lat - lat) / dlat)
        case.similarity = round(similarity, 2)
        scored.append((-similarity, distance, case))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [c for _s, _d, c in scored[:limit]]


# -- indicators ----------------------------------------------------------------------------------------
@dataclass
class IndicatorRow:
    key: str
    label: str
    received: int = 0
    responded_on_time: int = 0
    rated: int = 0
    solved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0
    should_close: int = 0
    closed: int = 0
    closed_on_time: int = 0
    deferred: int = 0
    handled: int = 0
    rework: int = 0
    overdue_closed: int = 0
    rates: dict = field(default_factory=dict)

    def compute(self, *, one_person: bool = False) -> "IndicatorRow":
        """The rates from the counts; for a row of one person's steps (`one_person`), only those whose two
        counts are that person's steps (see PERSON_RATES)."""
        def pct(num, den):
            return round(100.0 * num / den, 1) if den else None

        self.rates = {
            "response_rate": pct(self.responded_on_time, self.received),
            "resolution_rate": pct(self.solved, self.rated),
            "satisfaction_rate": pct(self.satisfied + 0.9 * self.basically_satisfied, self.rated),
            "on_time_closure_rate": pct(self.closed_on_time, self.closed - self.deferred),
            "closure_rate": pct(self.closed, self.should_close),
            "rework_rate": pct(self.rework, self.handled),
            "overdue_rate": pct(self.overdue_closed, self.closed),
        }
        if one_person:
            self.rates = {name: rate if name in PERSON_RATES else None for name, rate in self.rates.items()}
        return self


# Grouped by person (the step's actor), a rate is shown only where both of its counts are that person's
# steps: closures on time and late of the closures they made, and ratings (the rater's). The others
# divide one person's steps by another's: responses (the acceptor's) by reports (the reporter's), rework
# (the verifier's) by report-backs (the handler's), closures (the closer's) by cases due (the dispatcher's):
# a grid worker's response rate would read 0 %, the system's 180 %.
PERSON_RATES = {"on_time_closure_rate", "overdue_rate", "resolution_rate", "satisfaction_rate"}


RATE_LABELS = {
    "response_rate": "响应率", "resolution_rate": "解决率", "satisfaction_rate": "满意率",
    "on_time_closure_rate": "按期结案率", "closure_rate": "结案率", "rework_rate": "返工率", "overdue_rate": "超期率",
}


def _counted_key():
    """What a counter counts once: a case, on one local day, under one department (the step's). Rollups
    can add that up day by day and department by department (the dashboards keep one row per area,
    category, department and day), so the dashboards' figures equal these over any period."""
    day = TruncDate("at", tzinfo=ZoneInfo(settings.TIME_ZONE))
    return Concat(Cast("case_id", CharField()), Value("|"), Cast(day, CharField()), Value("|"),
                  Cast(Coalesce("department_id", 0), CharField()), output_field=CharField())


# What each counter counts among a period's steps: distinct (case, local day, department) whose step
# passes the filter (docs/indicators.md). The one definition: indicators_for counts these from the raw
# steps, and the dashboards' rollups (yiwang.dashboards.rollups.METRICS) keep them day by day.
CLOSING = [Action.CLOSE, Action.RESOLVE_ON_SPOT]
STEP_COUNTERS: dict[str, Q] = {
    "received": Q(action=Action.CREATE),
    "responded_on_time": Q(action__in=[Action.ACCEPT, Action.REJECT, Action.RESOLVE_ON_SPOT],
                           from_state=State.REPORTED) & ~Q(on_time=False),
    "dispatched": Q(action=Action.DISPATCH),
    "handled": Q(action=Action.REPORT_BACK),
    "rework": Q(action__in=[Action.VERIFY_FAIL, Action.REOPEN]),
    "closed": Q(action__in=CLOSING),
    "closed_on_time": Q(action__in=CLOSING, on_time=True),
    "overdue_closed": Q(action=Action.CLOSE, on_time=False),
    "deferred": Q(action=Action.CLOSE, data__deferred=True),
    "rated": Q(action=Action.RATE),
    "solved": Q(action=Action.RATE, rating__gte=2),
    "satisfied": Q(action=Action.RATE, rating=3),
    "basically_satisfied": Q(action=Action.RATE, rating=2),
}
# The counters an IndicatorRow shows (dispatches are a dashboard figure only).
ROW_COUNTERS = [name for name in STEP_COUNTERS if name in {f.name for f in fields(IndicatorRow)}]


def _count_all_by(steps, group: str | None, names: list[str]) -> dict[str, dict]:
    """Each counter of `names` per group key (only keys it counts something for; one "" key without a
    group), read in one pass over the steps: COUNT(DISTINCT ...) FILTER (WHERE counter) per counter."""
    aggregates = {name: Count(_counted_key(), distinct=True, filter=STEP_COUNTERS[name]) for name in names}
    if group is None:
        totals = steps.aggregate(**aggregates)
        return {name: {"": totals[name]} for name in names}
    counts: dict[str, dict] = {name: {} for name in names}
    for row in steps.values(g=group_expr(group)).annotate(**aggregates):
        for name in names:
            if row[name]:
                counts[name][row["g"]] = row[name]
    return counts


def _count_cases_by(steps, group: str | None) -> dict:
    if group is None:
        return {"": steps.values("case_id").distinct().count()}
    return {row["g"]: row["n"] for row in steps.values(g=group_expr(group)).annotate(n=Count("case_id", distinct=True))}


def group_expr(group: str):
    if group.startswith("area:"):
        return Substr("area_path", 1, int(group.split(":")[1]))
    return F(group)


def indicator_steps(actor, *, area=None, department=None, person=None, period_start: datetime,
                    period_end: datetime):
    """The steps recorded in [period_start, period_end) on cases the actor may count (VIEW_INDICATORS),
    narrowed to an area subtree / department / person; None when the actor may count nothing."""
    condition = _visibility_q(actor, VIEW_INDICATORS)
    if condition is None:
        return None
    cases = Case.objects.filter(condition)
    steps = CaseStep.objects.filter(at__gte=period_start, at__lt=period_end, case__in=cases)
    if area is not None:
        steps = steps.filter(area_path__startswith=area.path)
    if department is not None:
        steps = steps.filter(Q(department=department) | Q(case__department=department))
    if person is not None:
        steps = steps.filter(actor=person)
    return steps


def area_group_length(area) -> int:
    """Grouped by area, the rows are the children of `area` (of the district without one; a grid's own)."""
    return LEVEL_PATH_LENGTH[min((area.level if area else 1) + 1, 4)]


def due_open_steps(steps, period_end: datetime):
    """Of 应结案, what the closures leave out: the dispatches among `steps` (a period's) of cases whose
    handling deadline falls before the period's end and that were not closed in it. Depends on each
    case's current deadline, so it is always counted from the steps (no daily rollup can keep it)."""
    closed = steps.filter(STEP_COUNTERS["closed"], case_id=OuterRef("case_id"))
    return steps.filter(action=Action.DISPATCH, case__due_at__lt=period_end).exclude(Exists(closed))


def due_open_counts(steps, group: str | None, period_end: datetime) -> dict:
    """Cases of due_open_steps per group key."""
    return _count_cases_by(due_open_steps(steps, period_end), group)


def indicator_rows(counts: dict[str, dict], due_open: dict, group: str | None, labels: dict) -> list[IndicatorRow]:
    """Rows from counters per group key (`counts[name][key]`, ROW_COUNTERS) and due_open_counts: one
    per key any of them has, 应结案 = closures + due_open, in key order (no key last)."""
    counts = dict(counts)
    counts["should_close"] = {key: counts["closed"].get(key, 0) + due_open.get(key, 0)
                              for key in set(counts["closed"]) | set(due_open)}
    keys = set()
    for values in counts.values():
        keys.update(values)
    rows = []
    for key in sorted(keys, key=lambda k: (k is None, str(k))):
        if key is None and group is not None:
            label = "—"
        else:
            label = labels.get(key, "" if group is None else str(key))
        row = IndicatorRow(key=str(key), label=label)
        for name, values in counts.items():
            setattr(row, name, values.get(key, 0))
        rows.append(row.compute(one_person=group == "actor_id"))
    return rows


def indicators_for(actor, *, area=None, department=None, person=None, period_start: datetime, period_end: datetime,
                   group_by: str | None = None) -> list[IndicatorRow]:
    """The seven indicators over steps recorded in [period_start, period_end), scoped to what the actor
    may see, optionally narrowed to an area subtree / department / person, grouped by
    None (one total row), "area" (children of `area` or of the actor's top area), "department" or "person".
    The reference: counted from the raw steps (the indicators page asks `indicator_sources` first).
    """
    steps = indicator_steps(actor, area=area, department=department, person=person, period_start=period_start,
                            period_end=period_end)
    if steps is None:
        return []
    group = None
    labels: dict = {}
    if group_by == "area":
        length = area_group_length(area)
        group = f"area:{length}"
        from yiwang.geography.models import Area

        labels = dict(Area.objects.filter(path__in=steps.values_list(Substr("area_path", 1, length), flat=True)
                                          .distinct()).values_list("path", "name"))
    elif group_by == "department":
        group = "department_id"
        from yiwang.accounts.models import Department

        labels = dict(Department.objects.values_list("id", "name"))
    elif group_by == "person":
        group = "actor_id"
        from yiwang.accounts.models import User

        labels = {u.pk: str(u) for u in User.objects.filter(pk__in=steps.values("actor_id").distinct())}

    counts = _count_all_by(steps, group, ROW_COUNTERS)
    return indicator_rows(counts, due_open_counts(steps, group, period_end), group, labels)


def overdue_open_count(actor) -> int:
    return case_list_visible_to(actor).filter(state__in=[s.value for s in OPEN_STATES], overdue=True).count()
