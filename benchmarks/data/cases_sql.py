"""City-scale cases generated inside PostgreSQL: the same shape as benchmarks/data/cases.py (its
comment describes the loop), written by three INSERT ... SELECT statements instead of COPYing rows
built one by one in Python (340-1,000 cases/s there; ten million cases would take hours).

Every random draw is a hash of (case id, draw number, seed) (`hashint8extended`), so a data set is
deterministic for a seed and does not depend on the order rows are produced. The weighted picks
(grids by households, categories by a skewed rank distribution) go through slot tables of 2^20
entries built in Python from the same weights, joined on floor(u * 2^20). A plan table (unlogged,
dropped afterwards) holds each case's draws and step times once; the case rows and the step rows are
projections of it. Tracking codes carry the keyed check pair of yiwang.cases.services (HMAC-SHA256
by pgcrypto, with the running settings' SECRET_KEY).

While loading, the two tables' secondary indexes and unique constraints are dropped and the
foreign-key triggers skipped (session_replication_role = replica, as bulk_load does); all of it is
one transaction, so a failed or interrupted run leaves the tables as they were.

Not identical to the Python generator (same distributions, different draws): the draws come from
hashes rather than random.Random, so the two generators give different data for the same seed; picks
are quantised to 2^-20 of the total weight; the handler of a department is the one with the lowest
user id."""

import datetime as dt
import time

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..db import reset_sequence, truncate
from .cases import ALPHABET, CHANNELS, PHRASES, ensure_categories

SLOTS = 1 << 20
TABLES = ("cases_case", "cases_casestep")


def _slots(weights: list[float]) -> list[int]:
    """For each of SLOTS slots, the index of the item whose cumulative weight covers the slot's middle."""
    total = sum(weights)
    out, edge, i = [], weights[0], 0
    for s in range(SLOTS):
        x = (s + 0.5) / SLOTS * total
        while x >= edge and i < len(weights) - 1:
            i += 1
            edge += weights[i]
        out.append(i)
    return out


def _copy(cursor, table: str, rows) -> None:
    with cursor.copy(f"COPY {table} FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)


def _defaults_sql(cursor, model, given: set[str]) -> tuple[list[str], list[str], list]:
    """Columns of `model` the generator does not set, as SQL casts of the model's own defaults."""
    from .common import ModelCopier

    copier = ModelCopier(model)
    copier._is_postgres = True
    sample = dict(zip(copier.attnames, copier.row({a: None for a in given if a in copier.attnames}), strict=True))
    cursor.execute("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                   "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped", [model._meta.db_table])
    types = dict(cursor.fetchall())
    cols, exprs, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.attname in given or field.column in given or field.primary_key:
            continue
        cols.append(f'"{field.column}"')
        if field.get_internal_type() == "UUIDField":
            exprs.append("gen_random_uuid()")
            continue
        exprs.append(f"CAST(%s AS {types[field.column]})")
        params.append(sample[field.attname])
    return cols, exprs, params


def _drop_indexes(cursor) -> list[str]:
    """Drop the secondary indexes and unique constraints of the case tables; returns the statements
    that recreate them."""
    recreate = []
    cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'x')", [list(TABLES)])
    constraint_indexes = set()
    for table, name, definition in cursor.fetchall():
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        recreate.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        constraint_indexes.add(name)
    cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                   "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary", [list(TABLES)])
    for name, definition in cursor.fetchall():
        if name.strip('"') in constraint_indexes:
            continue
        cursor.execute(f"DROP INDEX {name}")
        recreate.append(definition)
    return recreate


def generate(ctx, cases: int, years: int) -> dict:
    from yiwang.accounts.models import Department, Membership
    from yiwang.accounts.roles import Role
    from yiwang.cases.models import Case, CaseFollower, CaseStep, Category
    from yiwang.geography.models import Area, AreaLevel

    log = ctx.log
    ensure_categories()
    truncate(CaseFollower._meta.db_table, CaseStep._meta.db_table, Case._meta.db_table)
    rng = ctx.rng("cases")
    grids = list(Area.objects.filter(level=AreaLevel.GRID).order_by("path")
                 .values_list("id", "path", "centroid_lon", "centroid_lat", "households_estimate"))
    workers = dict(Membership.objects.filter(role=Role.GRID_WORKER).values_list("area_id", "user_id"))
    handlers: dict[int, int] = {}
    for dept_id, user_id in Membership.objects.filter(role=Role.HANDLER).values_list("department_id", "user_id"):
        handlers[dept_id] = min(user_id, handlers.get(dept_id, user_id))
    departments = list(Department.objects.values_list("id", flat=True))
    leaves = list(Category.objects.filter(children__isnull=True, active=True).order_by("code")
                  .values_list("id", "name", "default_department_id", "handling_modes"))
    rng.shuffle(leaves)
    now = timezone.now().replace(microsecond=0)
    seed = int.from_bytes(rng.randbytes(6), "big")  # a 48-bit seed for the hash draws, from the run's seed

    channel_case, edge = [], 0
    total = sum(w for _c, w in CHANNELS)
    for code, weight in CHANNELS:
        edge += weight
        channel_case.append(f"WHEN bench_u(id, 4) < {edge / total!r} THEN '{code}'")
    phrases = "ARRAY[" + ", ".join(f"'{p}'" for p in PHRASES) + "]"

    with transaction.atomic(), connection.cursor() as cur:
        c = cur.cursor
        c.execute("SET LOCAL session_replication_role = replica")
        c.execute("SET LOCAL work_mem = '256MB'")
        c.execute("SET LOCAL maintenance_work_mem = '1GB'")
        c.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")
        # bench_u(id, k): the k-th uniform draw in [0, 1) of case `id`.
        c.execute(f"CREATE OR REPLACE FUNCTION bench_u(id bigint, k int) RETURNS float8 LANGUAGE sql IMMUTABLE AS "
                  f"$$ SELECT ((hashint8extended(id * 64 + k, {seed}) >> 11) & 9007199254740991)::float8 "
                  f"/ 9007199254740992.0 $$")
        c.execute("CREATE TEMP TABLE bench_grid (slot int PRIMARY KEY, grid_id bigint, path text, lon float8, "
                  "lat float8, worker bigint) ON COMMIT DROP")
        c.execute("CREATE TEMP TABLE bench_cat (slot int PRIMARY KEY, cat_id bigint, name text, dept bigint, "
                  "mode_code text, limit_s float8) ON COMMIT DROP")
        t = time.perf_counter()
        grid_rows = [(g[0], g[1], g[2], g[3], workers.get(g[0])) for g in grids]
        _copy(c, "bench_grid", ((s, *grid_rows[i]) for s, i in enumerate(_slots([g[4] or 300 for g in grids]))))
        cat_rows = []
        for cat_id, name, dept, modes in leaves:
            mode = (modes or [{"code": "", "limit": 5, "unit": "days"}])[0]
            limit = mode.get("limit", 5) * (86400 if mode.get("unit") == "days" else 3600)
            cat_rows.append((cat_id, name, dept, mode.get("code", ""), float(limit)))
        _copy(c, "bench_cat", ((s, *cat_rows[i]) for s, i in
                               enumerate(_slots([1 / (rank + 1) ** 0.9 for rank in range(len(leaves))]))))
        c.execute("ANALYZE bench_grid")
        c.execute("ANALYZE bench_cat")
        recreate = _drop_indexes(c)
        log(f"    slot tables, {len(recreate)} indexes dropped: {time.perf_counter() - t:.1f} s")

        # -- the plan: one row per case with its draws and step times ------------------------------
        t = time.perf_counter()
        span = dt.timedelta(days=365 * years).total_seconds()
        c.execute(f"""
            CREATE UNLOGGED TABLE bench_case_plan AS
            WITH base AS (
                SELECT id, now0 - make_interval(secs => {span!r} * (1 - sqrt(bench_u(id, 0)))) AS created0,
                       now0, bench_u(id, 2) AS ug, bench_u(id, 3) AS uc
                FROM generate_series(1, %(cases)s::bigint) AS id, (SELECT %(now)s::timestamptz AS now0) n OFFSET 0
            ), drawn AS (
                SELECT b.id, b.now0,
                       LEAST(b.created0 + make_interval(hours => mod(7 + floor(bench_u(b.id, 1) * 13)::int, 24)
                                                        - extract(hour FROM b.created0 AT TIME ZONE 'UTC')::int),
                             CASE WHEN b.created0 + make_interval(hours => mod(7 + floor(bench_u(b.id, 1) * 13)::int, 24)
                                       - extract(hour FROM b.created0 AT TIME ZONE 'UTC')::int) > b.now0
                                  THEN b.now0 - interval '5 minutes' END) AS created,
                       extract(epoch FROM b.now0 - b.created0) / 86400 AS age_days,
                       g.grid_id, g.path, g.lon AS clon, g.lat AS clat, g.worker,
                       k.cat_id, k.name AS cat_name,
                       COALESCE(k.dept, (%(departments)s::bigint[])[1 + mod(b.id, %(n_departments)s)]) AS dept,
                       k.mode_code, k.limit_s,
                       CASE {' '.join(channel_case)} ELSE 'cctv' END AS channel,
                       bench_u(b.id, 5) AS x,
                       CASE WHEN bench_u(b.id, 6) < 0.8 THEN 3 ELSE 2 END AS level,
                       CASE WHEN bench_u(b.id, 7) < 0.9 THEN 1.2 ELSE 2.5 END AS spread
                FROM base b
                JOIN bench_grid g ON g.slot = floor(b.ug * {SLOTS})::int
                JOIN bench_cat k ON k.slot = floor(b.uc * {SLOTS})::int OFFSET 0
            ), fated AS (
                SELECT d.*,
                       CASE WHEN d.age_days > 30 THEN
                                CASE WHEN d.x < 0.94 THEN 'closed' WHEN d.x < 0.97 THEN 'rejected'
                                     WHEN d.x < 0.99 THEN 'cancelled' ELSE 'in_progress' END
                            ELSE CASE WHEN d.x < 0.05 THEN 'reported' WHEN d.x < 0.1 THEN 'accepted'
                                      WHEN d.x < 0.2 THEN 'dispatched' WHEN d.x < 0.45 THEN 'in_progress'
                                      WHEN d.x < 0.55 THEN 'to_verify' WHEN d.x < 0.6 THEN 'verified'
                                      ELSE 'closed' END
                       END AS final
                FROM drawn d OFFSET 0
            ), timed AS (
                SELECT f.*,
                       f.created + make_interval(secs => 3600 * CASE WHEN f.final IN ('rejected', 'cancelled')
                           THEN 1 ELSE 0.5 END * (0.3 + bench_u(f.id, 8) * f.spread)) AS t1,
                       3600 * 2 * (0.3 + bench_u(f.id, 9) * f.spread) AS d2,
                       3600 * 1.5 * (0.3 + bench_u(f.id, 10) * f.spread) AS d3,
                       f.limit_s * 0.6 * (0.3 + bench_u(f.id, 11) * f.spread) AS d4,
                       3600 * 5 * (0.3 + bench_u(f.id, 12) * f.spread) AS d5,
                       3600 * 0.5 * (0.3 + bench_u(f.id, 13) * f.spread) AS d6
                FROM fated f OFFSET 0
            ), stepped AS (
                SELECT m.*, m.t1 + make_interval(secs => m.d2) AS t2,
                       m.t1 + make_interval(secs => m.d2 + m.d3) AS t3,
                       m.t1 + make_interval(secs => m.d2 + m.d3 + m.d4) AS t4,
                       m.t1 + make_interval(secs => m.d2 + m.d3 + m.d4 + m.d5) AS t5,
                       m.t1 + make_interval(secs => m.d2 + m.d3 + m.d4 + m.d5 + m.d6) AS t6,
                       CASE m.final WHEN 'reported' THEN 0 WHEN 'accepted' THEN 1 WHEN 'dispatched' THEN 2
                            WHEN 'in_progress' THEN 3 WHEN 'to_verify' THEN 4 WHEN 'verified' THEN 5
                            WHEN 'closed' THEN 6 ELSE 1 END AS goal
                FROM timed m OFFSET 0
            ), counted AS (
                SELECT s.*,
                       CASE WHEN s.goal >= 1 AND s.t1 <= s.now0 THEN 1 ELSE 0 END
                       + CASE WHEN s.goal >= 2 AND s.final NOT IN ('rejected', 'cancelled') AND s.t2 <= s.now0
                              THEN 1 ELSE 0 END
                       + CASE WHEN s.goal >= 3 AND s.t3 <= s.now0 THEN 1 ELSE 0 END
                       + CASE WHEN s.goal >= 4 AND s.t4 <= s.now0 THEN 1 ELSE 0 END
                       + CASE WHEN s.goal >= 5 AND s.t5 <= s.now0 THEN 1 ELSE 0 END
                       + CASE WHEN s.goal >= 6 AND s.t6 <= s.now0 THEN 1 ELSE 0 END AS nflow
                FROM stepped s OFFSET 0
            )
            SELECT c.id, c.now0, c.created, c.grid_id, c.path, c.clon, c.clat, c.worker, c.cat_id, c.cat_name,
                   c.dept, c.mode_code, c.limit_s, c.channel, c.level, c.final, c.nflow,
                   c.t1, c.t2, c.t3, c.t4, c.t5, c.t6,
                   CASE WHEN c.channel = 'grid_worker' THEN c.worker END AS creator,
                   (%(handlers)s::jsonb ->> c.dept::text)::bigint AS handler,
                   CASE WHEN c.final IN ('rejected', 'cancelled') THEN
                            CASE WHEN c.nflow = 1 THEN c.final ELSE 'reported' END
                        ELSE (ARRAY['reported', 'accepted', 'dispatched', 'in_progress', 'to_verify', 'verified',
                                    'closed'])[c.nflow + 1] END AS state,
                   CASE c.nflow WHEN 0 THEN c.created WHEN 1 THEN c.t1 WHEN 2 THEN c.t2 WHEN 3 THEN c.t3
                        WHEN 4 THEN c.t4 WHEN 5 THEN c.t5 ELSE c.t6 END AS last_t
            FROM counted c
        """, {"cases": cases, "now": now, "departments": departments, "n_departments": len(departments),
              "handlers": __import__("json").dumps({str(k): v for k, v in handlers.items()})})
        log(f"    plan of {cases:,} cases: {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        # Ratings, deadlines and the rest, still per case.
        c.execute("""
            CREATE UNLOGGED TABLE bench_case_done AS
            SELECT p.*, r.rating, r.rate_at, COALESCE(r.rate_at < p.now0, false) AS rate_step,
                   COALESCE(r.rate_at, p.last_t) AS t_end,
                   CASE WHEN p.state IN ('closed', 'rejected', 'cancelled') THEN p.last_t END AS closed_at,
                   p.state NOT IN ('closed', 'rejected', 'cancelled') AS is_open,
                   CASE WHEN p.nflow = 0 THEN p.created + interval '2 hours'
                        WHEN p.final NOT IN ('rejected', 'cancelled') AND p.nflow IN (2, 3)
                        THEN p.last_t + make_interval(secs => p.limit_s)
                        ELSE p.last_t + interval '7 hours' END AS deadline0
            FROM bench_case_plan p
            LEFT JOIN LATERAL (
                SELECT CASE WHEN bench_u(p.id, 15) < 0.7 THEN 3
                            ELSE (ARRAY[1, 2, 2])[1 + floor(bench_u(p.id, 16) * 3)::int] END AS rating,
                       p.last_t + make_interval(secs => 3600 * (1 + bench_u(p.id, 17) * 30)) AS rate_at
                WHERE p.state = 'closed' AND bench_u(p.id, 14) < 0.55
            ) r ON true
        """)
        c.execute("DROP TABLE bench_case_plan")
        log(f"    ratings and deadlines: {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        given = {"id", "tracking_code", "channel", "category_id", "handling_mode", "grid_id", "area_path", "lon",
                 "lat", "address", "description", "created_by_id", "state", "level", "department_id",
                 "stage_started_at", "deadline", "warn_at", "due_at", "overdue", "rating", "created_at",
                 "updated_at", "closed_at", "version"}
        extra_cols, extra_exprs, extra_params = _defaults_sql(c, Case, given)
        code = " || ".join(f"substr('{ALPHABET}', 1 + mod(id / {31 ** k}, 31)::int, 1)" for k in range(5, -1, -1))
        rand4 = " || ".join(f"substr('{ALPHABET}', 1 + floor(bench_u(id, {24 + k}) * 31)::int, 1)" for k in range(4))
        c.execute(f"""
            INSERT INTO cases_case (id, tracking_code, channel, category_id, handling_mode, grid_id, area_path,
                                    lon, lat, address, description, created_by_id, state, level, department_id,
                                    stage_started_at, deadline, warn_at, due_at, overdue, rating, created_at,
                                    updated_at, closed_at, version{''.join(', ' + col for col in extra_cols)})
            SELECT id, base || substr('{ALPHABET}', 1 + mod(get_byte(mac, 0), 31), 1)
                            || substr('{ALPHABET}', 1 + mod(get_byte(mac, 1), 31), 1),
                   channel, cat_id, mode_code, grid_id, path,
                   round((clon + (bench_u(id, 20) - 0.5) * 0.0015)::numeric, 7),
                   round((clat + (bench_u(id, 21) - 0.5) * 0.0012)::numeric, 7), '',
                   cat_name || ({phrases})[1 + floor(bench_u(id, 22) * {len(PHRASES)})::int], creator, state, level, dept,
                   t_end, CASE WHEN is_open THEN deadline END, CASE WHEN is_open THEN deadline - interval '1 hour' END,
                   created + make_interval(secs => limit_s), is_open AND deadline < now0, rating, created, t_end,
                   closed_at, 1 + nflow + rate_step::int{''.join(', ' + e for e in extra_exprs)}
            FROM (
                SELECT d.*, hmac(base, %s, 'sha256') AS mac,
                       CASE WHEN is_open AND deadline0 < now0 AND bench_u(id, 18) < 0.85
                            THEN now0 + make_interval(secs => limit_s * bench_u(id, 19)) ELSE deadline0 END AS deadline
                FROM (SELECT b.*, {code} || {rand4} AS base FROM bench_case_done b OFFSET 0) d
                OFFSET 0
            ) q
        """, [*extra_params, settings.SECRET_KEY])
        n_cases = c.rowcount
        log(f"    {n_cases:,} cases inserted: {time.perf_counter() - t:.1f} s")

        t = time.perf_counter()
        given = {"action", "from_state", "to_state", "actor_id", "actor_label", "department_id", "level",
                 "area_path", "at", "deadline", "on_time", "rating", "public", "case_id"}
        extra_cols, extra_exprs, extra_params = _defaults_sql(c, CaseStep, given)
        flow = [("accept", "reported", "accepted", "NULL", "'调度员'", "NULL", "created + interval '2 hours'"),
                ("dispatch", "accepted", "dispatched", "NULL", "'调度员'", "dept", "t1 + interval '7 hours'"),
                ("sign_for", "dispatched", "in_progress", "handler", "'部门处置人员'", "dept",
                 "t2 + make_interval(secs => limit_s)"),
                ("report_back", "in_progress", "to_verify", "handler", "'部门处置人员'", "dept",
                 "t3 + make_interval(secs => limit_s)"),
                ("verify_pass", "to_verify", "verified", "worker", "'网格员'", "dept", "t4 + interval '7 hours'"),
                ("close", "verified", "closed", "NULL", "'调度员'", "dept", "t5 + interval '7 hours'")]
        rows = ["(0, 'create', '', 'reported', creator, CASE WHEN creator IS NULL THEN '系统' ELSE '网格员' END, "
                "NULL::bigint, 3, created, created + interval '2 hours', NULL::boolean, NULL::int, true)"]
        for k, (action, from_state, to_state, actor, label, dept, deadline) in enumerate(flow, start=1):
            at = f"t{k}"
            if k == 1:  # a rejected or cancelled case has one step after create
                action = "CASE WHEN final = 'rejected' THEN 'reject' WHEN final = 'cancelled' THEN 'cancel' " \
                         "ELSE 'accept' END"
                to_state = "CASE WHEN final IN ('rejected', 'cancelled') THEN final ELSE 'accepted' END"
                dept = "CASE WHEN final IN ('rejected', 'cancelled') THEN dept END"
            else:
                action, to_state = f"'{action}'", f"'{to_state}'"
            rows.append(f"({k}, {action}, '{from_state}', {to_state}, {actor}, {label}, {dept}, level, {at}, "
                        f"{deadline}, {at} <= {deadline}, NULL, nflow >= {k})")
        rows.append("(7, 'rate', 'closed', 'closed', NULL, '居民', dept, level, rate_at, NULL, NULL, rating, "
                    "coalesce(rate_step, false))")
        c.execute(f"""
            INSERT INTO cases_casestep (case_id, action, from_state, to_state, actor_id, actor_label, department_id,
                                        level, area_path, at, deadline, on_time, rating, public
                                        {''.join(', ' + col for col in extra_cols)})
            SELECT b.id, s.action, s.from_state, s.to_state, s.actor, s.label, s.dept, s.level, b.path, s.at,
                   s.deadline, s.on_time, s.rating, true{''.join(', ' + e for e in extra_exprs)}
            FROM bench_case_done b
            CROSS JOIN LATERAL (VALUES {', '.join(rows)})
                AS s(k, action, from_state, to_state, actor, label, dept, level, at, deadline, on_time, rating, keep)
            WHERE s.keep
        """, extra_params)
        n_steps = c.rowcount
        log(f"    {n_steps:,} steps inserted: {time.perf_counter() - t:.1f} s")
        c.execute("SELECT count(*) FILTER (WHERE state IN ('reported', 'accepted', 'dispatched', 'in_progress', "
                  "'to_verify', 'verified')), count(*) FILTER (WHERE overdue) FROM cases_case")
        n_open, n_overdue = c.fetchone()
        c.execute("DROP TABLE bench_case_done")
        c.execute("DROP FUNCTION bench_u(bigint, int)")

        t = time.perf_counter()
        c.execute("SET LOCAL max_parallel_maintenance_workers = 1")
        for statement in recreate:
            started = time.perf_counter()
            c.execute(statement)
            log(f"    {time.perf_counter() - started:6.1f} s  {statement[:110]}")
        log(f"    indexes rebuilt: {time.perf_counter() - t:.1f} s")
    for table in TABLES:
        reset_sequence(table)
    t = time.perf_counter()
    with connection.cursor() as cur:
        for table in TABLES:
            cur.execute(f'ANALYZE "{table}"')
    log(f"    analyze: {time.perf_counter() - t:.1f} s")
    return {"cases": n_cases, "case_steps": n_steps, "open_cases": n_open, "overdue_cases": n_overdue,
            "years": years, "generator": "sql"}
