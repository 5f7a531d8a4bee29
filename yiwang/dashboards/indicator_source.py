"""The case indicators page's counters from the daily rollups (a source for yiwang.cases.indicator_sources,
registered in DashboardsConfig.ready()).

Each rollup column is one of `cases.selectors.STEP_COUNTERS` counted per (case, local day, department)
(rollups.METRICS), so its sum over a period's days is indicators_for's counter over that period
(tests/test_consistency.py): the page reads a few hundred rollup rows instead of counting every step of
the period. Cases turns the viewer's scope into the area paths asked for; 应结案 and grouping by person
are not kept here and stay with cases.

The rollups hold what the refreshes have written: in production those run after the step's commit
(queued, drained every few seconds), so a figure may trail the case records by that much.
"""

from django.conf import settings
from django.db.models import Q, Sum

from yiwang.cases.indicator_sources import CounterQuery
from yiwang.cases.selectors import ROW_COUNTERS, STEP_COUNTERS

from .models import DailyRollup, DailyTotal
from .rollups import COLUMN_OF, LEVEL_LENGTHS, LOCAL, METRICS

# Counter of indicators_for -> rollup column (the same step filter, checked here).
COLUMN = {name: COLUMN_OF.get(name, name) for name in ROW_COUNTERS}
assert all(METRICS[column] is STEP_COUNTERS[name] for name, column in COLUMN.items())
LEVEL_OF_LENGTH = {length: level for level, length in LEVEL_LENGTHS}


def rollup_indicator_counts(query: CounterQuery) -> dict | None:
    """indicators_for's counters for `query` from DailyTotal (total, by area) or DailyRollup (by
    department); None if the rollups' days are not the page's (another TIME_ZONE)."""
    if settings.TIME_ZONE != LOCAL.key:
        return None
    length = int(query.group.split(":")[1]) if query.group and query.group.startswith("area:") else None
    if query.paths is None:
        where = Q(level=LEVEL_OF_LENGTH[length] if length else 1)
    else:
        where = Q(pk__in=[])
        for path in query.paths:
            if length and len(path) < length:  # the path's children (or grids) are the rows
                where |= Q(level=LEVEL_OF_LENGTH[length], area_path__startswith=path)
            else:
                where |= Q(area_path=path)
    sums = {column: Sum(column) for column in COLUMN.values()}
    if query.group == "department":
        rows = (DailyRollup.objects.filter(where, day__gte=query.first_day, day__lte=query.last_day)
                .order_by().values("department_id").annotate(**sums))
        return {row["department_id"] or None: {name: row[column] for name, column in COLUMN.items()} for row in rows}
    rows = (DailyTotal.objects.filter(where, day__gte=query.first_day, day__lte=query.last_day)
            .order_by().values("area_path").annotate(**sums))
    answer: dict = {}
    for row in rows:
        key = row["area_path"][:length] if length else ""
        counts = answer.setdefault(key, dict.fromkeys(COLUMN, 0))
        for name, column in COLUMN.items():
            counts[name] += row[column]
    return answer
