"""Faster sources for the case indicators' counters (the indicators page and its API read through here).

`selectors.indicators_for` counts the raw steps: it is the reference, and it runs thirteen COUNT
DISTINCTs over a period's steps (seconds over a million cases). An app above cases that keeps the same
counters per local day (the dashboards' rollups) registers a source in its AppConfig.ready():

    register_indicator_source(fn)   # fn(CounterQuery) -> {key: {counter: n}} or None

`indicators()` asks the sources in turn and falls back to `indicators_for` when none is registered or
none answers. What a source never has to answer: the scope (the actor's `cases.view_indicators` areas
are turned into `CounterQuery.paths` here, as `indicators_for` scopes its steps), grouping by person,
a period not on local-day bounds, and 应结案, which depends on each case's current deadline and is
always counted from the dispatch and closing steps (`selectors.due_open_counts`).

A source's counters must equal indicators_for's for the same areas and days; the dashboards prove it
for theirs (yiwang/dashboards/tests/test_indicator_source.py).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from yiwang.core.scoping import scope_prefixes

from . import selectors
from .permissions import VIEW_INDICATORS


@dataclass(frozen=True)
class CounterQuery:
    """What the page asks a source for.

    paths: disjoint area subtrees whose steps count (None: every area; never empty).
    first_day, last_day: local days (settings.TIME_ZONE), both included.
    group: None (one row, key ""), "area:<n>" (key: the first n characters of the step's area path,
           n a level's path length) or "department" (key: the step's department id, None without one).
    """

    paths: tuple[str, ...] | None
    first_day: date
    last_day: date
    group: str | None


# fn(query) -> {key: {counter name of selectors.ROW_COUNTERS: count}} (keys with no counts may be left
# out, extra counters are ignored), or None when the source cannot answer this query.
IndicatorSource = Callable[[CounterQuery], dict | None]
_SOURCES: list[IndicatorSource] = []


def register_indicator_source(source: IndicatorSource) -> None:
    """Ask `source` before counting the raw steps (called from an AppConfig.ready(); registering twice
    keeps one)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def unregister_indicator_source(source: IndicatorSource) -> None:
    if source in _SOURCES:
        _SOURCES.remove(source)


def _local_day(moment: datetime) -> date | None:
    """The local day starting at `moment`, or None if it is not a local midnight."""
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return local.date() if local.time() == time.min else None


def _paths(actor, area) -> tuple[str, ...] | None | bool:
    """The area subtrees the actor may count within `area` (None: every area; empty: none of `area`;
    False: the actor may count nothing anywhere)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    scope = actor.scope_paths(VIEW_INDICATORS)
    if scope is None:
        return None if area is None else (area.path,)
    roots = sorted(scope_prefixes(scope))
    if area is None:
        return tuple(roots) or False
    if any(area.path.startswith(root) for root in roots):
        return (area.path,)
    return tuple(root for root in roots if root.startswith(area.path))


def counter_query(actor, *, area=None, period_start: datetime, period_end: datetime,
                  group_by: str | None = None) -> CounterQuery | None:
    """The query a source could answer for this request, or None if only the raw steps can."""
    if group_by not in (None, "area", "department"):
        return None
    first, end = _local_day(period_start), _local_day(period_end)
    if first is None or end is None or end <= first:
        return None
    paths = _paths(actor, area)
    if paths is False:
        return None  # indicators_for answers it without reading a step that counts
    group = {None: None, "department": "department",
             "area": f"area:{selectors.area_group_length(area)}"}[group_by]
    return CounterQuery(paths=paths, first_day=first, last_day=date.fromordinal(end.toordinal() - 1), group=group)


def _labels(query: CounterQuery, keys) -> dict:
    if query.group is None or not keys:
        return {}
    if query.group == "department":
        from yiwang.accounts.models import Department

        return dict(Department.objects.values_list("id", "name"))
    from yiwang.geography.models import Area

    return dict(Area.objects.filter(path__in=[k for k in keys if k]).values_list("path", "name"))


def _rows(query: CounterQuery, answer: dict, due_open: dict) -> list[selectors.IndicatorRow]:
    counts: dict[str, dict] = {name: {} for name in selectors.ROW_COUNTERS}
    for key, values in answer.items():
        for name in selectors.ROW_COUNTERS:
            if values.get(name, 0):
                counts[name][key] = values[name]
    group = "department_id" if query.group == "department" else query.group
    keys = set(due_open).union(*(values.keys() for values in counts.values()))
    return selectors.indicator_rows(counts, due_open, group, _labels(query, keys))


def _empty(query: CounterQuery) -> list[selectors.IndicatorRow]:
    """indicators_for's rows for an area outside the actor's (nothing to count): a zero total, no groups."""
    return _rows(query, {}, {"": 0} if query.group is None else {})


def _answers(*queries: CounterQuery) -> list[dict] | None:
    """The first registered source's answers to all `queries`, or None if no source answers them all."""
    for source in _SOURCES:
        answers = [source(query) for query in queries]
        if all(answer is not None for answer in answers):
            return answers
    return None


def _due_open(actor, area, period_start, period_end, group: str | None) -> tuple[int, dict]:
    """Cases of selectors.due_open_steps in total and per group key, read in one query."""
    steps = selectors.indicator_steps(actor, area=area, period_start=period_start, period_end=period_end)
    due = selectors.due_open_steps(steps, period_end)
    if group is None:
        total = due.values("case_id").distinct().count()
        return total, {"": total}
    key = selectors.group_expr("department_id" if group == "department" else group)
    pairs = set(due.values_list("case_id", key).distinct())
    per_key: dict = {}
    for _case, k in pairs:
        per_key[k] = per_key.get(k, 0) + 1
    return len({case for case, _k in pairs}), per_key


def indicators(actor, *, area=None, period_start: datetime, period_end: datetime,
               group_by: str | None = None) -> list[selectors.IndicatorRow]:
    """`selectors.indicators_for(actor, area=, period_start=, period_end=, group_by=)`, the same rows,
    from the first registered source that can answer (else from the raw steps)."""
    query = counter_query(actor, area=area, period_start=period_start, period_end=period_end,
                          group_by=group_by) if _SOURCES else None
    if query is not None and query.paths == ():
        return _empty(query)
    answers = _answers(query) if query is not None else None
    if answers is not None:
        _total, due_open = _due_open(actor, area, period_start, period_end, query.group)
        return _rows(query, answers[0], due_open)
    return selectors.indicators_for(actor, area=area, period_start=period_start, period_end=period_end,
                                    group_by=group_by)


def indicator_table(actor, *, area=None, period_start: datetime, period_end: datetime,
                    group_by: str = "area") -> tuple[selectors.IndicatorRow | None, list[selectors.IndicatorRow]]:
    """What the indicators page shows: the total row (None if the actor may count nothing) and the rows
    by `group_by`, each equal to indicators_for's; from a source with the cases due (应结案) of both read
    in one query when it can answer, else as `indicators()` gives them."""
    total_query, query = (counter_query(actor, area=area, period_start=period_start, period_end=period_end,
                                        group_by=g) if _SOURCES else None for g in (None, group_by))
    if total_query is not None and query is not None:
        if query.paths == ():
            return _empty(total_query)[0], _empty(query)
        answers = _answers(total_query, query)
        if answers is not None:
            total_due, due_open = _due_open(actor, area, period_start, period_end, query.group)
            return _rows(total_query, answers[0], {"": total_due})[0], _rows(query, answers[1], due_open)
    total = indicators(actor, area=area, period_start=period_start, period_end=period_end)
    return (total[0] if total else None), indicators(actor, area=area, period_start=period_start,
                                                     period_end=period_end, group_by=group_by)
