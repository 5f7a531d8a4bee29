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

from django.db import connection, models, transaction
from django.db.models import Count, F, Max, Q, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from yiwang.cases.models import Case, CaseStep
from yiwang.cases.selectors import STEP_COUNTERS
from yiwang.cases.workflow import OPEN_STATES, Action
from yiwang.core.prepared import PreparedQuery, hot_cursor

from .models import COUNTERS, DailyRollup, DailyTotal, OpenCount, RollupPending, WorkerDaily

logger = logging.getLogger(__name__)
LOCAL = ZoneInfo("Asia/Shanghai")
LEVEL_LENGTHS = ((1, 6), (2, 9), (3, 12), (4, 15))

# Step filters of each counter: the case loop's own (yiwang.cases.selectors.STEP_COUNTERS), under the
# rollup tables' column names, counted as distinct cases per (grid, category, department, day).
COLUMN_OF = {"received": "intake", "responded_on_time": "responded", "rework": "reworked"}
METRICS: dict[str, Q] = {COLUMN_OF.get(name, name): q for name, q in STEP_COUNTERS.items()}
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


def _add(table: str, key_cols: list[str], value_cols: list[str], rows: list[tuple], chunk: int = 200) -> None:
    """Add the value columns of `rows` to the matching rows (creating them): atomic upserts of `chunk`
    rows. Rows go in key order, so two refreshes touching the same rows lock them in the same order."""
    qn = connection.ops.quote_name
    cols = key_cols + value_cols
    placeholders = "(" + ", ".join(["%s"] * len(cols)) + ")"
    updates = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + EXCLUDED.{qn(c)}" for c in value_cols)
    rows = sorted(rows)
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) VALUES "
               + ", ".join([placeholders] * len(part))
               + f" ON CONFLICT ({', '.join(qn(c) for c in key_cols if c != 'level')}) DO UPDATE SET {updates}")
        _execute(sql, [value for row in part for value in row])


def _keys_in(pairs: list[tuple]) -> tuple[str, list]:
    """`(area_path, day) IN (...)` for these (path, database day) pairs, and its parameters."""
    return (f"(area_path, day) IN ({', '.join(['(%s, %s)'] * len(pairs))})",
            [value for pair in pairs for value in pair])


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


def _lock_keys(keys: list[tuple[str, dt.date]]) -> None:
    """The locks of refreshing these (grid, day) keys, in one order for every writer: the rebuild locks of
    their days (shared), then each key's day lock, then each grid's open-count lock, all sorted. A full
    rebuild of a day (or of the open counts) waits for us, and we for it. Rollups are derived data, so the
    commit need not wait for the disk: a refresh lost in a crash is redone by the grid's next refresh, by
    rollup_recent (every 15 minutes) or by rollup_rebuild."""
    keys = sorted(set(keys))
    _locks(*[(("rebuild", day), True) for day in sorted({day for _grid, day in keys})], (("rebuild-open",), True),
           *[(("day", grid, day), False) for grid, day in keys],
           *[(("open", grid), False) for grid in sorted({grid for grid, _day in keys})], lazy_commit=True)


def rollup_refresh(grid_path: str, day: dt.date) -> None:
    """Bring the rollups of one grid and day, and the grid's open-case counts, in line with the raw rows
    (and, by difference, every area above the grid), in one transaction. Its reads are compiled once per
    process (the immediate mode runs one after each move)."""
    key = (grid_path, day)
    with transaction.atomic():
        _lock_keys([key])
        _write_differences([key], old_day={key: _stored_grid_day(grid_path, day)},
                           new_day={key: _grid_day_counts(grid_path, day)},
                           workers={key: _grid_worker_counts(grid_path, day)},
                           old_open={grid_path: _stored_grid_open(grid_path)},
                           new_open={grid_path: _grid_open_counts(grid_path)})


def rollup_refresh_many(keys: list[tuple[str, dt.date]]) -> None:
    """rollup_refresh for many (grid, day) keys in one transaction, with a few set-based reads per day
    instead of five per key, and each shared row above the grids written once with the sum of its
    grids' differences (the drain's work: a refresh of one key alone costs about 10 ms of CPU)."""
    keys = sorted(set(keys))
    if not keys:
        return
    with transaction.atomic():
        _lock_keys(keys)
        _refresh_locked(keys)


def _refresh_locked(keys: list[tuple[str, dt.date]]) -> None:
    """rollup_refresh_many's work, in a transaction that already holds the keys' locks (sorted keys)."""
    grids = sorted({grid for grid, _day in keys})
    by_day = defaultdict(list)
    for grid, day in keys:
        by_day[day].append(grid)
    old_day, new_day, workers = defaultdict(dict), defaultdict(dict), defaultdict(dict)
    for day, paths in by_day.items():
        start, end = day_bounds(day)
        for row in DailyRollup.objects.filter(day=day, area_path__in=paths).values(
                "area_path", "category_id", "department_id", *COUNTERS):
            old_day[(row["area_path"], day)][(row["category_id"], row["department_id"])] = {
                c: row[c] for c in COUNTERS}
        steps = CaseStep.objects.filter(area_path__in=paths, at__gte=start, at__lt=end)
        for (path, cat, dept), counts in count_steps(steps, ["area_path", "case__category_id",
                                                             "department_id"]).items():
            new_day[(path, day)][(cat, dept or 0)] = counts
        for row in (steps.filter(actor__isnull=False, action__in=WORKER_ACTIONS).values("area_path", "actor_id")
                    .annotate(**{name: Count("id", filter=q) for name, q in WORKER_METRICS.items()})):
            workers[(row["area_path"], day)][row["actor_id"]] = {k: row[k] for k in WORKER_METRICS}
    old_open, new_open = defaultdict(dict), defaultdict(dict)
    for row in OpenCount.objects.filter(area_path__in=grids).values("area_path", *OPEN_KEY, "n"):
        old_open[row["area_path"]][_open_key(row)] = row["n"]
    for row in (Case.objects.filter(area_path__in=grids, state__in=[s.value for s in OPEN_STATES])
                .values("area_path", *OPEN_KEY).annotate(n=Count("id"))):
        new_open[row["area_path"]][_open_key(row)] = row["n"]
    _write_differences(keys, old_day=old_day, new_day=new_day, workers=workers, old_open=old_open,
                       new_open=new_open)


def _summed(rows: list[tuple], key_length: int) -> list[tuple]:
    """Rows with the same key (their first `key_length` values) added up, in key order: one upsert may not
    touch a row twice, and rows locked in key order never wait on each other in a cycle."""
    sums: dict[tuple, list[int]] = {}
    for row in rows:
        key, values = row[:key_length], row[key_length:]
        if key in sums:
            sums[key] = [a + b for a, b in zip(sums[key], values, strict=True)]
        else:
            sums[key] = list(values)
    return [key + tuple(values) for key, values in sorted(sums.items()) if any(values)]


def _write_differences(keys: list[tuple[str, dt.date]], *, old_day: dict, new_day: dict, workers: dict,
                       old_open: dict, new_open: dict) -> None:
    """Write what the recounts found: each key's grid worker rows anew, and the differences between the
    stored grid rows and the recount to the grid and every area above it."""
    qn = connection.ops.quote_name
    day_value = DailyRollup._meta.get_field("day").get_db_prep_value
    db_days = {day: day_value(day, connection) for _grid, day in keys}
    grids = sorted({grid for grid, _day in keys})
    rollup_rows, total_rows, open_rows, emptied_days, emptied_grids = [], [], [], [], []
    for grid, day in keys:
        old, new = old_day.get((grid, day), {}), new_day.get((grid, day), {})
        rows, totals = _daily_rows(grid, db_days[day], _diff(old, new))
        rollup_rows += rows
        total_rows += totals
        if set(old) - set(new):
            emptied_days.append((grid, db_days[day]))
    for grid in grids:
        old, new = old_open.get(grid, {}), new_open.get(grid, {})
        open_rows += _open_rows(grid, _diff(old, new))
        if set(old) - set(new):
            emptied_grids.append(grid)
    # The grids' own rows first; the rows shared with other grids (community and above) last, so their
    # row locks are held for as short a time as possible. (At most 200 keys: rollup_drain's chunks.)
    where, params = _keys_in([(grid, db_days[day]) for grid, day in keys])
    _execute(f"DELETE FROM {qn(WorkerDaily._meta.db_table)} WHERE {where}", params)
    _add(WorkerDaily._meta.db_table, ["user_id", "area_path", "day"], list(WORKER_METRICS),
         [(user_id, grid, db_days[day]) + tuple(counts[k] for k in WORKER_METRICS)
          for (grid, day) in keys for user_id, counts in workers.get((grid, day), {}).items()])
    _add(DailyRollup._meta.db_table, ["area_path", "level", "day", "category_id", "department_id"],
         list(COUNTERS), _summed(rollup_rows, 5))
    _add(DailyTotal._meta.db_table, ["area_path", "level", "day"], list(COUNTERS), _summed(total_rows, 3))
    _add(OpenCount._meta.db_table, ["area_path", "level", *OPEN_KEY], ["n"], _summed(open_rows, 7))
    # Grid rows whose key is gone are zero now: drop them.
    if emptied_days:
        where, params = _keys_in(emptied_days)
        zero = " AND ".join(f"{qn(c)} = 0" for c in COUNTERS)
        _execute(f"DELETE FROM {qn(DailyRollup._meta.db_table)} WHERE {where} AND {zero}", params)
    if emptied_grids:
        marks = ", ".join(["%s"] * len(emptied_grids))
        _execute(f"DELETE FROM {qn(OpenCount._meta.db_table)} WHERE area_path IN ({marks}) AND n = 0", emptied_grids)


# -- the queue of refreshes (settings.YIWANG_ROLLUPS == "queued") ------------------------------------
def queue_refresh(grid_path: str, day: dt.date) -> None:
    """Record, in the caller's transaction, that the (grid, day) needs a refresh: one short INSERT into an
    append-only table, so the request holds no lock another request could want."""
    table = connection.ops.quote_name(RollupPending._meta.db_table)
    db_day = RollupPending._meta.get_field("day").get_db_prep_value(day, connection)
    with hot_cursor(connection) as cursor:  # on every step: prepared once per connection (core.prepared)
        cursor.execute(f"INSERT INTO {table} (area_path, day) VALUES (%s, %s)", [grid_path, db_day])


def rollup_drain(limit: int = 2000, chunk: int = 200) -> int:
    """Refresh every queued (grid, day) once, however many steps queued it; returns the keys refreshed.

    Keys go `chunk` at a time, each chunk one transaction: take the keys' locks, delete their queued rows,
    then recount the keys whose rows it deleted (rollup_refresh_many). A queued row is visible to that
    DELETE only once its step has committed, and the recount runs after the DELETE, so it counts every
    step whose row was taken; a step committing later leaves its row for the next drain. Two drains at
    once: the second waits for the first's locks and then takes nothing (or only newer rows), so a key is
    never counted twice and no row is lost. A crash before the commit leaves the rows queued. At most
    `limit` keys per call, oldest grid paths first (the next call takes the rest)."""
    table = connection.ops.quote_name(RollupPending._meta.db_table)
    day_value = RollupPending._meta.get_field("day").get_db_prep_value
    keys = list(RollupPending.objects.values_list("area_path", "day").order_by("area_path", "day").distinct()[:limit])
    done = 0
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        where, params = _keys_in([(grid, day_value(day, connection)) for grid, day in part])
        with transaction.atomic():
            _lock_keys(part)
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE {where} RETURNING area_path, day", params)
                taken = {(grid, day if isinstance(day, dt.date) else dt.date.fromisoformat(day))
                         for grid, day in cursor.fetchall()}
            if taken:
                _refresh_locked(sorted(taken))
        done += len(taken)
    return done


STALE_QUEUE_SECONDS = 300


def pending_warnings() -> list[str]:
    """/healthz: refreshes queued for more than five minutes mean the drain is not running (no Celery
    beat or worker), so the dashboards stand still while cases move."""
    oldest = RollupPending.objects.aggregate(oldest=models.Min("queued_at"))["oldest"]
    if oldest is None or (timezone.now() - oldest).total_seconds() < STALE_QUEUE_SECONDS:
        return []
    n = RollupPending.objects.count()
    return [f"dashboards: {n} rollup refreshes queued since {timezone.localtime(oldest):%Y-%m-%d %H:%M}; "
            "is Celery beat running the task dashboards.rollup_drain?"]


# -- a new case, counted in the transaction that writes it ---------------------------------------------
def _holds(q: Q, step) -> bool:
    """Whether a step passes a counter's filter (METRICS, WORKER_METRICS), decided in Python the way the
    database decides it: a comparison with NULL is not true, and so its negation is."""
    return _predicate(q)(step)


_PREDICATES: dict[int, object] = {}


def _predicate(q: Q):
    """`q` as a Python function of a step, built once per filter (they are module constants)."""
    found = _PREDICATES.get(id(q))
    if found is not None and found[0] is q:
        return found[1]
    parts = [_predicate(child) if isinstance(child, Q) else _comparison(*child) for child in q.children]
    combine = all if q.connector == Q.AND else any
    if q.negated:
        def test(step, parts=parts, combine=combine):
            return not combine(part(step) for part in parts)
    else:
        def test(step, parts=parts, combine=combine):
            return combine(part(step) for part in parts)
    _PREDICATES[id(q)] = (q, test)
    return test


def _comparison(lookup: str, expected):
    name, _sep, op = lookup.partition("__")
    key = None
    if name == "data":  # data__<key>[__op]: a key of the JSON column
        key, _sep, op = op.partition("__")
    if op in ("", "exact"):
        def compare(value):
            return value == expected
    elif op == "in":
        def compare(value):
            return value in expected
    elif op == "gte":
        def compare(value):
            return value >= expected
    else:
        raise ValueError(f"no Python form for the lookup {lookup!r}")

    def test(step):
        value = getattr(step, name)
        if key is not None:
            value = (value or {}).get(key)
        return value is not None and compare(value)
    return test


def _add_up(table: str, grid_path: str, key_cols: list[str], value_cols: list[str], groups: list[tuple]) -> None:
    """Add each group (its key_cols values, then its value_cols values) to the rows of the grid and of every
    area above it, creating them: one upsert whose parameters do not multiply by the levels (psycopg parses
    a statement once and reuses it only up to 50 parameters). Rows are locked in the order _add uses."""
    if not groups:
        return
    levels = ancestors(grid_path)
    shape = (connection.vendor, table, tuple(key_cols), tuple(value_cols), len(levels), len(groups))
    sql = _ADD_UP_SQL.get(shape)
    if sql is None:
        sql = _ADD_UP_SQL[shape] = _add_up_sql(table, key_cols, value_cols, len(levels), len(groups))
    _execute(sql, [v for level, path in levels for v in (path, level)] + [v for g in sorted(groups) for v in g])


_ADD_UP_SQL: dict[tuple, str] = {}


def _add_up_sql(table: str, key_cols: list[str], value_cols: list[str], levels: int, groups: int) -> str:
    qn = connection.ops.quote_name
    width = len(key_cols) + len(value_cols)
    cols = ["area_path", "level", *key_cols, *value_cols]
    picked = ["a.column1", "a.column2", *(f"g.column{i}" for i in range(1, width + 1))]
    updates = ", ".join(f"{qn(c)} = {qn(table)}.{qn(c)} + EXCLUDED.{qn(c)}" for c in value_cols)
    return (f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in cols)}) SELECT {', '.join(picked)} "
            f"FROM (VALUES {', '.join(['(%s, %s)'] * levels)}) a "
            f"CROSS JOIN (VALUES {', '.join(['(' + ', '.join(['%s'] * width) + ')'] * groups)}) g "
            # WHERE: without it SQLite takes the ON of ON CONFLICT for the join's
            f"WHERE true ORDER BY {', '.join(picked[:2 + len(key_cols)])} "
            f"ON CONFLICT ({', '.join(qn(c) for c in ['area_path', *key_cols])}) DO UPDATE SET {updates}")


def count_new_case(case: Case, steps: list[CaseStep]) -> bool:
    """Add a case created in the current transaction, with all its steps so far, to the rollups of its
    grid and every area above it: the increments a recount would find, found without recounting. Returns
    False, writing nothing, when the steps do not share one grid and day (intake's always do): the
    refresh after commit counts those.

    A new case has no earlier steps, so "distinct cases" per counter is 1 in each (category, department)
    where one of its steps passes the counter's filter. Runs under the locks the refresh takes: a refresh
    can never see these steps committed without these increments (it would count them a second time),
    and a rebuild of the day waits for the commit. The rows above the grid, shared with every other
    grid, stay locked until the caller's transaction ends: call this last in a short transaction."""
    keys = {(step.area_path, local_day(step.at)) for step in steps}
    if len(keys) != 1 or not case.area_path:
        return False
    [(grid_path, day)] = keys
    if grid_path != case.area_path:
        return False
    groups: dict[tuple, dict[str, int]] = {}
    workers: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(WORKER_METRICS, 0))
    for step in steps:
        counts = groups.setdefault((case.category_id, step.department_id or 0), dict.fromkeys(COUNTERS, 0))
        for name, q in METRICS.items():
            if _holds(q, step):
                counts[name] = 1  # distinct cases: this one, once
        if step.actor_id is not None:
            for name, q in WORKER_METRICS.items():
                if _holds(q, step):
                    workers[step.actor_id][name] += 1  # steps, as the recount counts them
    groups = {group: counts for group, counts in groups.items() if any(counts.values())}
    opened = case.state in OPEN_STATES
    db_day = DailyRollup._meta.get_field("day").get_db_prep_value(day, connection)
    _locks((("rebuild", day), True), (("rebuild-open",), True), (("day", grid_path, day), False),
           (("open", grid_path), False))
    # The grid's own rows first, the rows shared with other grids last, table by table as rollup_refresh
    # writes them (two transactions lock shared rows in one order, so neither waits for the other in a cycle).
    _add(WorkerDaily._meta.db_table, ["user_id", "area_path", "day"], list(WORKER_METRICS),
         [(user_id, grid_path, db_day) + tuple(c[k] for k in WORKER_METRICS)
          for user_id, c in workers.items() if any(c.values())])
    if groups:
        _add_up(DailyRollup._meta.db_table, grid_path, ["day", "category_id", "department_id"], list(COUNTERS),
                [(db_day, cat, dept) + tuple(counts[c] for c in COUNTERS) for (cat, dept), counts in groups.items()])
        _add_up(DailyTotal._meta.db_table, grid_path, ["day"], list(COUNTERS),
                [(db_day,) + tuple(sum(counts[c] for counts in groups.values()) for c in COUNTERS)])
    if opened:
        _add_up(OpenCount._meta.db_table, grid_path, OPEN_KEY, ["n"],
                [(case.category_id, case.department_id or 0, case.state, bool(case.overdue), case.supervision or "",
                  1)])
    return True


# -- full rebuilds --------------------------------------------------------------------------------
# A rebuild is set-based: each chunk of days (a month at most) is one transaction of a few
# INSERT ... SELECT statements that group the raw steps by (area, category, department, local day)
# and add every level above in SQL, instead of a round trip and a transaction per day (about 6 s a
# day at ten million cases). The rows are the ones the incremental refresh writes.
REBUILD_CHUNK_DAYS = 31
_LEVELS_SQL = " UNION ALL ".join(f"SELECT {level} AS level, {n} AS n" for level, n in LEVEL_LENGTHS)


def rollup_rebuild(start: dt.date, end: dt.date, *, open_counts: bool = True, chunk_days: int | None = None) -> dict:
    """Recompute every rollup row of the local days [start, end] from the raw steps (and, with
    `open_counts`, all open-case counts from the cases). Safe to run while cases move: each chunk of
    `chunk_days` days (default a month) is replaced in one transaction under the locks the
    incremental refresh waits for. Larger chunks read the steps fewer times (a loader whose steps
    are not stored in time order, such as the benchmark's, reads most of the table for every chunk)."""
    chunk = chunk_days or REBUILD_CHUNK_DAYS
    days = 0
    rows = 0
    first = start
    while first <= end:
        last = min(end, first + dt.timedelta(days=chunk - 1))
        rows += _rebuild_days(first, last)
        days += (last - first).days + 1
        first = last + dt.timedelta(days=1)
    if open_counts:
        _rebuild_open()
    return {"days": days, "rows": rows}


def _rebuild_day(day: dt.date) -> int:
    return _rebuild_days(day, day)


def _wrapped(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return f"({sql})", tuple(params)


def _grid_day_query(first: dt.date, last: dt.date):
    """Per (area_path, category, department, local day) of the steps in [first, last]: the counters,
    each the number of distinct cases with a matching step (one row per case first, then summed)."""
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    per_case = (CaseStep.objects.filter(at__gte=start, at__lt=end, action__in=RELEVANT_ACTIONS).order_by()
                .annotate(g_path=F("area_path"), g_cat=F("case__category_id"),
                          g_dept=Coalesce("department_id", Value(0)), g_day=TruncDate("at", tzinfo=LOCAL))
                .values("g_path", "g_cat", "g_dept", "g_day", "case_id")
                .annotate(**{f"m_{name}": Max(models.Case(models.When(q, then=Value(1)), default=Value(0)))
                             for name, q in METRICS.items()}))
    sql, params = _wrapped(per_case)
    sums = ", ".join(f"SUM(pc.m_{c}) AS {c}" for c in COUNTERS)
    any_nonzero = " + ".join(f"SUM(pc.m_{c})" for c in COUNTERS)
    return (f"SELECT pc.g_path, pc.g_cat, pc.g_dept, pc.g_day, {sums} FROM {sql} pc "
            f"GROUP BY pc.g_path, pc.g_cat, pc.g_dept, pc.g_day HAVING {any_nonzero} > 0"), params


def _rebuild_days(first: dt.date, last: dt.date) -> int:
    """Replace the rollup rows of the local days [first, last]; returns the DailyRollup rows written."""
    qn = connection.ops.quote_name
    rollup, total, worker = (qn(m._meta.db_table) for m in (DailyRollup, DailyTotal, WorkerDaily))
    day_field = DailyRollup._meta.get_field("day")
    bounds = [day_field.get_db_prep_value(first, connection), day_field.get_db_prep_value(last, connection)]
    counters = ", ".join(qn(c) for c in COUNTERS)
    grid_sql, grid_params = _grid_day_query(first, last)
    start, end = day_bounds(first)[0], day_bounds(last)[1]
    workers = (CaseStep.objects.filter(at__gte=start, at__lt=end, actor__isnull=False, action__in=WORKER_ACTIONS)
               .order_by().annotate(g_user=F("actor_id"), g_path=F("area_path"), g_day=TruncDate("at", tzinfo=LOCAL))
               .values("g_user", "g_path", "g_day")
               .annotate(**{f"m_{name}": Count("id", filter=q) for name, q in WORKER_METRICS.items()}))
    worker_sql, worker_params = _wrapped(workers)
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    with transaction.atomic(), connection.cursor() as cursor:
        _locks(*((("rebuild", day), False) for day in days))
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '512MB'")
        for table in (rollup, total, worker):
            cursor.execute(f"DELETE FROM {table} WHERE {qn('day')} >= %s AND {qn('day')} <= %s", bounds)
        sums = ", ".join(f"SUM(g.{c})" for c in COUNTERS)
        cursor.execute(
            f"INSERT INTO {rollup} ({qn('area_path')}, {qn('level')}, {qn('day')}, {qn('category_id')}, "
            f"{qn('department_id')}, {counters}) "
            f"SELECT substr(g.g_path, 1, lv.n), lv.level, g.g_day, g.g_cat, g.g_dept, {sums} "
            f"FROM ({grid_sql}) g JOIN ({_LEVELS_SQL}) lv ON lv.n <= length(g.g_path) "
            f"GROUP BY substr(g.g_path, 1, lv.n), lv.level, g.g_day, g.g_cat, g.g_dept", grid_params)
        rows = cursor.rowcount
        sums = ", ".join(f"SUM({qn(c)})" for c in COUNTERS)
        cursor.execute(
            f"INSERT INTO {total} ({qn('area_path')}, {qn('level')}, {qn('day')}, {counters}) "
            f"SELECT {qn('area_path')}, {qn('level')}, {qn('day')}, {sums} FROM {rollup} "
            f"WHERE {qn('day')} >= %s AND {qn('day')} <= %s GROUP BY {qn('area_path')}, {qn('level')}, {qn('day')}",
            bounds)
        metrics = ", ".join(f"w.m_{k}" for k in WORKER_METRICS)
        cursor.execute(
            f"INSERT INTO {worker} ({qn('user_id')}, {qn('area_path')}, {qn('day')}, "
            f"{', '.join(qn(k) for k in WORKER_METRICS)}) "
            f"SELECT w.g_user, w.g_path, w.g_day, {metrics} FROM {worker_sql} w", worker_params)
    return rows


def _rebuild_open() -> None:
    qn = connection.ops.quote_name
    rows = (Case.objects.filter(state__in=[s.value for s in OPEN_STATES]).order_by()
            .annotate(g_path=F("area_path"), g_cat=F("category_id"), g_dept=Coalesce("department_id", Value(0)),
                      g_state=F("state"), g_overdue=F("overdue"), g_mark=Coalesce("supervision", Value("")))
            .values("g_path", "g_cat", "g_dept", "g_state", "g_overdue", "g_mark")
            .annotate(g_n=Count("id")))
    sql, params = _wrapped(rows)
    group = "substr(o.g_path, 1, lv.n), lv.level, o.g_cat, o.g_dept, o.g_state, o.g_overdue, o.g_mark"
    with transaction.atomic(), connection.cursor() as cursor:
        _lock("rebuild-open")
        table = qn(OpenCount._meta.db_table)
        cursor.execute(f"DELETE FROM {table}")
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(qn(c) for c in ['area_path', 'level', *OPEN_KEY, 'n'])}) "
            f"SELECT {group}, SUM(o.g_n) FROM {sql} o JOIN ({_LEVELS_SQL}) lv ON lv.n <= length(o.g_path) "
            f"GROUP BY {group}", params)


def step_day_range() -> tuple[dt.date, dt.date] | None:
    """The local days spanned by all recorded steps (for a full rebuild)."""
    first = CaseStep.objects.order_by("at").values_list("at", flat=True).first()
    last = CaseStep.objects.order_by("-at").values_list("at", flat=True).first()
    if first is None:
        return None
    return local_day(first), local_day(last)


