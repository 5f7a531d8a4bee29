"""Keeping the rollups in step with the cases.

Decision (see yiwang/dashboards/README.md): every committed CaseStep enqueues, on commit, a recomputation of
the one (grid, local day) it touched plus the grid's open-case counts (`rollup_refresh`, a Celery
task: inline in the embedded default, on a worker in production). The grid-level rows are
*recomputed from the raw steps*, never incremented blindly, so a replayed or duplicated refresh is
harmless; the difference between the old and new grid rows is then added to the subdistrict,
community and district rows with one atomic `INSERT ... ON CONFLICT DO UPDATE SET x = x + delta`.

Two steps landing at once: each refresh of a (grid, day) runs under a transaction-scoped lock on that
key (a PostgreSQL advisory lock; SQLite serialises writers anyway), reads the steps committed so far
and writes the difference to what the previous refresh wrote. Whichever runs last sees both steps;
the ancestors receive exactly the sum of the differences. A periodic safety net (`rollup_recent`,
every 15 minutes) rebuilds today and yesterday in full, which also covers rows written with
bulk_create (demo and benchmark loaders), and `manage.py rollup_rebuild` rebuilds any period.

Cost: a refresh is one transaction of about a dozen short statements. Its queries are compiled once
per process (core.prepared: building the recount's thirteen filtered aggregates cost 6 ms, running it
1 ms), the shared ancestor rows (district, subdistrict) are written last and in
key order, so concurrent refreshes hold their row locks briefly and never wait on each other in a cycle.
"""

import datetime as dt
import logging
import zlib
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from yiwang.cases.models import Case, CaseStep
from yiwang.cases.workflow import OPEN_STATES, Action, State
from yiwang.core.prepared import PreparedQuery

from .models import COUNTERS, DailyRollup, DailyTotal, OpenCount, WorkerDaily

logger = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Shanghai")
LEVEL_LENGTHS = ((1, 6), (2, 9), (3, 12), (4, 15))

# Step filters of each counter: the same as yiwang.cases.selectors.indicators_for, counted as
# distinct cases per (grid, category, department, day).
CLOSING = [Action.CLOSE, Action.RESOLVE_ON_SPOT]
METRICS: dict[str, Q] = {
    "intake": Q(action=Action.CREATE),
    "responded": Q(action__in=[Action.ACCEPT, Action.REJECT, Action.RESOLVE_ON_SPOT], from_state=State.REPORTED)
    & ~Q(on_time=False),
    "dispatched": Q(action=Action.DISPATCH),
    "handled": Q(action=Action.REPORT_BACK),
    "reworked": Q(action__in=[Action.VERIFY_FAIL, Action.REOPEN]),
    "closed": Q(action__in=CLOSING),
    "closed_on_time": Q(action__in=CLOSING, on_time=True),
    "overdue_closed": Q(action=Action.CLOSE, on_time=False),
    "deferred": Q(action=Action.CLOSE, data__deferred=True),
    "rated": Q(action=Action.RATE),
    "solved": Q(action=Action.RATE, rating__gte=2),
    "satisfied": Q(action=Action.RATE, rating=3),
    "basically_satisfied": Q(action=Action.RATE, rating=2),
}
assert set(METRICS) == set(COUNTERS)
RELEVANT_ACTIONS = [Action.CREATE, Action.ACCEPT, Action.REJECT, Action.RESOLVE_ON_SPOT, Action.DISPATCH,
                    Action.REPORT_BACK, Action.VERIFY_FAIL, Action.REOPEN, Action.CLOSE, Action.RATE]
WORKER_METRICS = {
    "reported": Q(action=Action.CREATE),
    "verified": Q(action__in=[Action.VERIFY_PASS, Action.VERIFY_FAIL]),
    "verified_on_time": Q(action__in=[Action.VERIFY_PASS, Action.VERIFY_FAIL]) & ~Q(on_time=False),
    "on_the_spot": Q(action=Action.RESOLVE_ON_SPOT),
}
WORKER_ACTIONS = [Action.CREATE, Action.VERIFY_PASS, Action.VERIFY_FAIL, Action.RESOLVE_ON_SPOT]


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment, LOCAL).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=LOCAL)
    return start, start + dt.timedelta(days=1)


def ancestors(path: str) -> list[tuple[int, str]]:
    """(level, path) of the area and every area above it."""
    return [(level, path[:n]) for level, n in LEVEL_LENGTHS if n <= len(path)]


def _lock_key(parts) -> int:
    return zlib.crc32("|".join(str(p) for p in parts).encode()) - 2**31


def _lock(*parts, shared: bool = False) -> None:
    """A transaction-scoped lock on a key (PostgreSQL advisory lock; SQLite serialises writers)."""
    _locks((parts, shared))


def _locks(*keys: tuple[tuple, bool], lazy_commit: bool = False) -> None:
    """Several transaction-scoped locks ((parts, shared) each) taken in this order by one statement.
    `lazy_commit`: this transaction's COMMIT does not wait for its WAL flush (PostgreSQL's
    synchronous_commit off, for this transaction only)."""
    if connection.vendor == "postgresql":
        calls = [f"pg_advisory_xact_lock{'_shared' if shared else ''}(%s)" for _parts, shared in keys]
        if lazy_commit:
            calls.insert(0, "set_config('synchronous_commit', 'off', true)")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(calls)}", [_lock_key(parts) for parts, _shared in keys])


# -- counting from the raw rows ------------------------------------------------------------------
def _count_query(steps, group: list[str]):
    aggregates = {name: Count("case_id", distinct=True, filter=q) for name, q in METRICS.items()}
    return steps.filter(action__in=RELEVANT_ACTIONS).values(*group).annotate(**aggregates)


def _nonzero(rows, group: list[str]) -> dict[tuple, dict[str, int]]:
    result = {}
    for row in rows:
        counts = {name: row[name] for name in COUNTERS}
        if any(counts.values()):
            result[tuple(row[g] for g in group)] = counts
    return result


def count_steps(steps, group: list[str]) -> dict[tuple, dict[str, int]]:
    """Counters of `steps` grouped by `group` (field names or aliases), distinct cases per metric."""
    return _nonzero(_count_query(steps, group), group)


_PATH = (CaseStep._meta.get_field("area_path"), "\x1fgrid\x1f")
_START = (CaseStep._meta.get_field("at"), dt.datetime(1901, 1, 1, tzinfo=dt.UTC))
_END = (CaseStep._meta.get_field("at"), dt.datetime(1902, 2, 2, tzinfo=dt.UTC))
_DAY = (DailyRollup._meta.get_field("day"), dt.date(1903, 3, 3))
OPEN_KEY = ["category_id", "department_id", "state", "overdue", "supervision"]

_GRID_DAY_COUNTS = PreparedQuery(
    lambda path, start, end: _count_query(CaseStep.objects.filter(area_path=path, at__gte=start, at__lt=end),
                                          ["case__category_id", "department_id"]),
    path=_PATH, start=_START, end=_END)
_GRID_WORKER_COUNTS = PreparedQuery(
    lambda path, start, end: CaseStep.objects.filter(area_path=path, at__gte=start, at__lt=end, actor__isnull=False,
                                                     action__in=WORKER_ACTIONS)
    .values("actor_id").annotate(**{name: Count("id", filter=q) for name, q in WORKER_METRICS.items()}),
    path=_PATH, start=_START, end=_END)
_GRID_OPEN_COUNTS = PreparedQuery(
    lambda path: Case.objects.filter(area_path=path, state__in=[s.value for s in OPEN_STATES])
    .values(*OPEN_KEY).annotate(n=Count("id")),
    path=_PATH)
_STORED_GRID_DAY = PreparedQuery(
    lambda path, day: DailyRollup.objects.filter(area_path=path, day=day).values("category_id", "department_id",
                                                                                  *COUNTERS),
    path=_PATH, day=_DAY)
_STORED_GRID_OPEN = PreparedQuery(lambda path: OpenCount.objects.filter(area_path=path).values(*OPEN_KEY, "n"),
                                  path=_PATH)


def _open_key(row: dict) -> tuple:
    return (row["category_id"], row["department_id"] or 0, row["state"], bool(row["overdue"]),
            row["supervision"] or "")


def _grid_day_counts(grid_path: str, day: dt.date) -> dict[tuple, dict[str, int]]:
    start, end = day_bounds(day)
    raw = _nonzero(_GRID_DAY_COUNTS.rows(path=grid_path, start=start, end=end), ["case__category_id", "department_id"])
    return {(cat, dept or 0): counts for (cat, dept), counts in raw.items()}


def _grid_worker_counts(grid_path: str, day: dt.date) -> dict[int, dict[str, int]]:
    start, end = day_bounds(day)
    return {row["actor_id"]: {k: row[k] for k in WORKER_METRICS}
            for row in _GRID_WORKER_COUNTS.rows(path=grid_path, start=start, end=end)}


def _grid_open_counts(grid_path: str) -> dict[tuple, int]:
    return {_open_key(r): r["n"] for r in _GRID_OPEN_COUNTS.rows(path=grid_path)}


# -- writing differences ------------------------------------------------------------------------
def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _add(table: str, key_cols: list[str], value_cols: list[str], rows: list[tuple]) -> None:
    """Add the value columns of `rows` to the matching rows (creating them): one atomic upsert.
    Rows go in key order, so two refreshes touching the same rows lock them in the same order."""
    if not rows:
        return
    qn = connection.ops.quote_name
    cols = key_cols + value_cols
    placeholders = "(" + ", ".join(["%s"] * len(cols)) + ")"
    updates = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + EXCLUDED.{qn(c)}" for c in value_cols)
    sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) VALUES "
           + ", ".join([placeholders] * len(rows))
           + f" ON CONFLICT ({', '.join(qn(c) for c in key_cols if c != 'level')}) DO UPDATE SET {updates}")
    _execute(sql, [value for row in sorted(rows) for value in row])


def _diff(old: dict, new: dict) -> dict:
    diff = {}
    for key in set(old) | set(new):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) or isinstance(b, dict):
            a, b = a or {}, b or {}
            delta = {c: b.get(c, 0) - a.get(c, 0) for c in set(a) | set(b)}
            if any(delta.values()):
                diff[key] = delta
        elif (b or 0) - (a or 0):
            diff[key] = (b or 0) - (a or 0)
    return diff


def _daily_rows(grid_path: str, day, diff: dict[tuple, dict[str, int]]) -> tuple[list[tuple], list[tuple]]:
    """The DailyRollup and DailyTotal rows to add for a grid's difference, at the grid and every level above."""
    rollup_rows, total_rows = [], defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for (cat, dept), delta in diff.items():
        for level, path in ancestors(grid_path):
            rollup_rows.append((path, level, day, cat, dept) + tuple(delta.get(c, 0) for c in COUNTERS))
            for c in COUNTERS:
                total_rows[(path, level)][c] += delta.get(c, 0)
    return rollup_rows, [(path, level, day) + tuple(v[c] for c in COUNTERS) for (path, level), v in total_rows.items()]


def _open_rows(grid_path: str, diff: dict[tuple, int]) -> list[tuple]:
    return [(path, level, cat, dept, state, overdue, mark, delta)
            for (cat, dept, state, overdue, mark), delta in diff.items() for level, path in ancestors(grid_path)]


def _stored_grid_day(grid_path: str, day: dt.date) -> dict:
    return {(r["category_id"], r["department_id"]): {c: r[c] for c in COUNTERS}
            for r in _STORED_GRID_DAY.rows(path=grid_path, day=day)}


def _stored_grid_open(grid_path: str) -> dict:
    return {_open_key(r): r["n"] for r in _STORED_GRID_OPEN.rows(path=grid_path)}


def rollup_refresh(grid_path: str, day: dt.date) -> None:
    """Bring the rollups of one grid and day, and the grid's open-case counts, in line with the raw rows
    (and, by difference, every area above the grid), in one transaction."""
    qn = connection.ops.quote_name
    db_day = DailyRollup._meta.get_field("day").get_db_prep_value(day, connection)
    with transaction.atomic():
        # A full rebuild of the day (or of the open counts) waits for us, and we for it. Rollups are
        # derived data, so the commit need not wait for the disk: a refresh lost in a crash is redone
        # by the next one of the grid, by rollup_recent (every 15 minutes) or by rollup_rebuild.
        _locks((("rebuild", day), True), (("rebuild-open",), True), (("day", grid_path, day), False),
               (("open", grid_path), False), lazy_commit=True)
        old_day, new_day = _stored_grid_day(grid_path, day), _grid_day_counts(grid_path, day)
        old_open, new_open = _stored_grid_open(grid_path), _grid_open_counts(grid_path)
        workers = _grid_worker_counts(grid_path, day)
        # The grid's own rows first; the rows shared with other grids (community and above) last, so
        # their row locks are held for as short a time as possible.
        _execute(f"DELETE FROM {qn(WorkerDaily._meta.db_table)} WHERE area_path = %s AND day = %s", [grid_path, db_day])
        _add(WorkerDaily._meta.db_table, ["user_id", "area_path", "day"], list(WORKER_METRICS),
             [(user_id, grid_path, db_day) + tuple(counts[k] for k in WORKER_METRICS)
              for user_id, counts in workers.items()])
        rollup_rows, total_rows = _daily_rows(grid_path, db_day, _diff(old_day, new_day))
        rollup_rows.sort()
        for start in range(0, len(rollup_rows), 200):
            _add(DailyRollup._meta.db_table, ["area_path", "level", "day", "category_id", "department_id"],
                 list(COUNTERS), rollup_rows[start:start + 200])
        _add(DailyTotal._meta.db_table, ["area_path", "level", "day"], list(COUNTERS), total_rows)
        _add(OpenCount._meta.db_table, ["area_path", "level", *OPEN_KEY], ["n"],
             _open_rows(grid_path, _diff(old_open, new_open)))
        # Grid rows whose key is gone are zero now: drop them.
        if set(old_day) - set(new_day):
            zero = " AND ".join(f"{qn(c)} = 0" for c in COUNTERS)
            _execute(f"DELETE FROM {qn(DailyRollup._meta.db_table)} WHERE area_path = %s AND day = %s AND {zero}",
                     [grid_path, db_day])
        if set(old_open) - set(new_open):
            _execute(f"DELETE FROM {qn(OpenCount._meta.db_table)} WHERE area_path = %s AND n = 0", [grid_path])


# -- full rebuilds --------------------------------------------------------------------------------
def rollup_rebuild(start: dt.date, end: dt.date, *, open_counts: bool = True) -> dict:
    """Recompute every rollup row of the local days [start, end] from the raw steps (and, with
    `open_counts`, all open-case counts from the cases). Safe to run while cases move: each day is
    replaced in one transaction under the same locks the incremental refresh takes."""
    days = 0
    rows = 0
    day = start
    while day <= end:
        rows += _rebuild_day(day)
        days += 1
        day += dt.timedelta(days=1)
    if open_counts:
        _rebuild_open()
    return {"days": days, "rows": rows}


def _rebuild_day(day: dt.date) -> int:
    start, end = day_bounds(day)
    steps = CaseStep.objects.filter(at__gte=start, at__lt=end)
    grid_counts = count_steps(steps, ["area_path", "case__category_id", "department_id"])
    rollups: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    totals: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    for (path, cat, dept), counts in grid_counts.items():
        for level, ancestor in ancestors(path):
            r, t = rollups[(ancestor, level, cat, dept or 0)], totals[(ancestor, level)]
            for c in COUNTERS:
                r[c] += counts[c]
                t[c] += counts[c]
    worker_steps = steps.filter(actor__isnull=False, action__in=WORKER_ACTIONS)
    workers = worker_steps.values("actor_id", "area_path").annotate(
        **{name: Count("id", filter=q) for name, q in WORKER_METRICS.items()})
    with transaction.atomic():
        _lock("rebuild", day)
        DailyRollup.objects.filter(day=day).delete()
        DailyTotal.objects.filter(day=day).delete()
        WorkerDaily.objects.filter(day=day).delete()
        DailyRollup.objects.bulk_create(
            [DailyRollup(area_path=p, level=lv, day=day, category_id=cat, department_id=dept, **counts)
             for (p, lv, cat, dept), counts in rollups.items()], batch_size=1000)
        DailyTotal.objects.bulk_create([DailyTotal(area_path=p, level=lv, day=day, **counts)
                                        for (p, lv), counts in totals.items()], batch_size=1000)
        WorkerDaily.objects.bulk_create(
            [WorkerDaily(user_id=w["actor_id"], area_path=w["area_path"], day=day,
                         **{k: w[k] for k in WORKER_METRICS}) for w in workers], batch_size=1000)
    return len(rollups)


def _rebuild_open() -> None:
    rows = (Case.objects.filter(state__in=[s.value for s in OPEN_STATES])
            .values("area_path", "category_id", "department_id", "state", "overdue", "supervision")
            .annotate(n=Count("id")))
    merged: dict[tuple, int] = defaultdict(int)
    for r in rows:
        for level, path in ancestors(r["area_path"]):
            merged[(path, level, r["category_id"], r["department_id"] or 0, r["state"], r["overdue"],
                    r["supervision"] or "")] += r["n"]
    with transaction.atomic():
        _lock("rebuild-open")
        OpenCount.objects.all().delete()
        OpenCount.objects.bulk_create([OpenCount(area_path=k[0], level=k[1], category_id=k[2], department_id=k[3],
                                                 state=k[4], overdue=k[5], supervision=k[6], n=n)
                                       for k, n in merged.items() if n], batch_size=1000)


def step_day_range() -> tuple[dt.date, dt.date] | None:
    """The local days spanned by all recorded steps (for a full rebuild)."""
    first = CaseStep.objects.order_by("at").values_list("at", flat=True).first()
    last = CaseStep.objects.order_by("-at").values_list("at", flat=True).first()
    if first is None:
        return None
    return local_day(first), local_day(last)


