"""Cases with realistic step histories over three years, COPY'd into the case app's own tables.

Each case runs the loop of DOMAIN.md as far as its age allows: old cases are almost all closed
(create → accept → dispatch → sign for → report back → verify → close, often rated), a few were
rejected or cancelled; recent ones sit in every open state, some overdue. Categories follow a skewed
distribution over the seeded tree (a few leaves take most cases, as in real 12345 data); locations
are inside their grid; channels, departments and deadlines are plausible. Deterministic for a seed.
"""

import bisect
import datetime as dt
import math
import tempfile

from django.utils import timezone

from ..db import analyze, is_postgres, truncate
from .common import ModelCopier

CHANNELS = [("grid_worker", 55), ("hotline", 20), ("web", 9), ("app", 8), ("counter", 5), ("open311", 2),
            ("cctv", 1)]
PHRASES = ["附近，请尽快处理", "，已持续多日", "，居民反映强烈", "，影响通行", "，存在安全隐患", "，请派人查看"]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
HOUR = dt.timedelta(hours=1)


def _cumulative(pairs):
    total, edges, values = 0, [], []
    for value, weight in pairs:
        total += weight
        edges.append(total)
        values.append(value)
    return total, edges, values


def _pick(rng, cumulative):
    total, edges, values = cumulative
    return values[min(len(values) - 1, bisect.bisect_right(edges, rng.random() * total))]


def _base31(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, len(ALPHABET))
        chars.append(ALPHABET[r])
    return "".join(reversed(chars))


def ensure_categories() -> None:
    from yiwang.accounts.models import Department
    from yiwang.cases import catalog
    from yiwang.cases.models import Category

    if not Category.objects.exists():
        catalog.seed_categories({d.code.split("-")[-1]: d for d in Department.objects.all()})


def generate(ctx, cases: int, years: int) -> dict:
    from yiwang.accounts.models import Department, Membership
    from yiwang.accounts.roles import Role
    from yiwang.cases import services
    from yiwang.cases.models import Case, CaseFollower, CaseStep, Category
    from yiwang.geography.models import Area, AreaLevel

    ensure_categories()
    truncate(CaseFollower._meta.db_table, CaseStep._meta.db_table, Case._meta.db_table)
    rng = ctx.rng("cases")
    grids = list(Area.objects.filter(level=AreaLevel.GRID).order_by("path")
                 .values_list("id", "path", "centroid_lon", "centroid_lat", "households_estimate"))
    grid_pick = _cumulative([(g, g[4] or 300) for g in grids])
    workers = dict(Membership.objects.filter(role=Role.GRID_WORKER).values_list("area_id", "user_id"))
    handlers: dict[int, list[int]] = {}
    for dept_id, user_id in Membership.objects.filter(role=Role.HANDLER).values_list("department_id", "user_id"):
        handlers.setdefault(dept_id, []).append(user_id)
    departments = list(Department.objects.values_list("id", flat=True))
    leaves = list(Category.objects.filter(children__isnull=True, active=True).order_by("code")
                  .values_list("id", "name", "default_department_id", "handling_modes"))
    rng.shuffle(leaves)
    category_pick = _cumulative([(leaf, 1 / (rank + 1) ** 0.9) for rank, leaf in enumerate(leaves)])
    channel_pick = _cumulative(CHANNELS)
    now = timezone.now().replace(microsecond=0)
    span = dt.timedelta(days=365 * years).total_seconds()

    case_copier, step_copier = ModelCopier(Case), ModelCopier(CaseStep)
    case_cols = ["id", "tracking_code", "channel", "category_id", "handling_mode", "grid_id", "area_path", "lon",
                 "lat", "address", "description", "created_by_id", "state", "level", "department_id",
                 "stage_started_at", "deadline", "warn_at", "due_at", "overdue", "rating", "created_at",
                 "updated_at", "closed_at", "version"]
    step_cols = ["id", "case_id", "action", "from_state", "to_state", "actor_id", "actor_label", "department_id",
                 "level", "area_path", "at", "deadline", "on_time", "rating", "public"]
    counts = {"steps": 0, "open": 0, "overdue": 0}
    step_id = [0]
    # Steps are rendered to a spool file while the cases stream into their COPY (one connection runs
    # one COPY at a time), then copied in after them.
    postgres = is_postgres()
    steps: list[tuple] = []
    spool = tempfile.TemporaryFile("w+", encoding="utf-8") if postgres else None
    render = step_copier.renderer(step_cols) if postgres else None

    def step(case_id, action, from_state, to_state, actor, label, dept, level, path, at, deadline, on_time,
             rating=None):
        step_id[0] += 1
        values = (step_id[0], case_id, action, from_state, to_state, actor, label, dept, level, path, at,
                  deadline, on_time, rating, True)
        if spool is not None:
            spool.write(render(values))
        else:
            steps.append(values)

    def case_rows():
        for case_id in range(1, cases + 1):
            # Growth: more cases in recent months (sqrt skews towards now).
            age_s = span * (1 - math.sqrt(rng.random()))
            created = now - dt.timedelta(seconds=age_s)
            created = created.replace(hour=7 + int(rng.random() * 13) % 24)
            if created > now:
                created = now - dt.timedelta(minutes=5)
            grid = _pick(rng, grid_pick)
            g_id, path, clon, clat = grid[0], grid[1], grid[2], grid[3]
            cat_id, cat_name, dept, modes = _pick(rng, category_pick)
            dept = dept or departments[case_id % len(departments)]
            mode = (modes or [{"code": "", "limit": 5, "unit": "days"}])[0]
            limit = dt.timedelta(days=mode.get("limit", 5)) if mode.get("unit") == "days" \
                else dt.timedelta(hours=mode.get("limit", 8))
            channel = _pick(rng, channel_pick)
            worker = workers.get(g_id)
            creator = worker if channel == "grid_worker" else None
            handler = (handlers.get(dept) or [None])[0]
            age_days = age_s / 86400
            x = rng.random()
            if age_days > 30:
                final = "closed" if x < 0.94 else ("rejected" if x < 0.97 else ("cancelled" if x < 0.99 else "in_progress"))
            else:
                final = ("reported" if x < 0.05 else "accepted" if x < 0.1 else "dispatched" if x < 0.2 else
                         "in_progress" if x < 0.45 else "to_verify" if x < 0.55 else "verified" if x < 0.6 else "closed")
            level = 3 if rng.random() < 0.8 else 2
            t = created
            due = created + limit
            step(case_id, "create", "", "reported", creator, "网格员" if creator else "系统", None, 3, path, t,
                 created + 2 * HOUR, None)
            n, state, closed_at, rating, deadline = 1, "reported", None, None, created + 2 * HOUR
            on_time_all = rng.random() < 0.9
            flow = [("accept", "accepted", 0.5), ("dispatch", "dispatched", 2), ("sign_for", "in_progress", 1.5),
                    ("report_back", "to_verify", limit.total_seconds() / 3600 * 0.6), ("verify_pass", "verified", 5),
                    ("close", "closed", 0.5)]
            if final in ("rejected", "cancelled"):
                flow = [(("reject" if final == "rejected" else "cancel"), final, 1)]
            for action, to_state, hours in flow:
                if state == final:
                    break
                took = dt.timedelta(hours=hours * (0.3 + rng.random() * (1.2 if on_time_all else 2.5)))
                if t + took > now:
                    break
                t += took
                step_deadline = deadline
                actor, label = ((handler, "部门处置人员") if action in ("sign_for", "report_back") else
                                (worker, "网格员") if action == "verify_pass" else (None, "调度员"))
                step(case_id, action, state, to_state, actor, label, dept if action != "accept" else None, level,
                     path, t, step_deadline, t <= step_deadline if step_deadline else None)
                n += 1
                state = to_state
                deadline = t + (limit if action in ("dispatch", "sign_for") else 7 * HOUR)
                if to_state in ("closed", "rejected", "cancelled"):
                    closed_at = t
            if state == "closed" and rng.random() < 0.55:
                rating = 3 if rng.random() < 0.7 else rng.choice([1, 2, 2])  # 3 满意, 2 基本满意, 1 不满意
                t += dt.timedelta(hours=1 + rng.random() * 30)
                if t < now:
                    step(case_id, "rate", "closed", "closed", None, "居民", dept, level, path, t, None, None, rating)
                    n += 1
            is_open = state not in ("closed", "rejected", "cancelled")
            if is_open and deadline < now and rng.random() < 0.85:
                deadline = now + limit * rng.random()  # most open work is still within its time limit
            overdue = is_open and deadline < now
            counts["open"] += is_open
            counts["overdue"] += overdue
            lon = round(clon + (rng.random() - 0.5) * 0.0015, 7)
            lat = round(clat + (rng.random() - 0.5) * 0.0012, 7)
            base = _base31(case_id, 6) + "".join(ALPHABET[rng.randrange(31)] for _ in range(4))
            yield (case_id, base + services._check_pair(base), channel, cat_id, mode.get("code", ""), g_id, path,
                   lon, lat, "", f"{cat_name}{rng.choice(PHRASES)}", creator, state, level, dept, t,
                   deadline if is_open else None, (deadline - HOUR) if is_open else None, due, overdue, rating,
                   created, t, closed_at, n)

    n_cases = case_copier.load_tuples(case_cols, case_rows())
    if spool is not None:
        spool.seek(0)
        counts["steps"] = step_copier.load_lines(spool)
        spool.close()
    else:
        counts["steps"] = step_copier.load_tuples(step_cols, steps)
    analyze()
    return {"cases": n_cases, "case_steps": counts["steps"], "open_cases": counts["open"],
            "overdue_cases": counts["overdue"], "years": years}
