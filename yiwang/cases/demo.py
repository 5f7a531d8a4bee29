"""Demo data: the category tree and dispatch rules, and a few hundred cases in every state with
consistent step histories (bulk inserts; no services, so the demo loads in a second or two)."""

import random
from datetime import timedelta

from django.utils import timezone

from . import workcal
from .catalog import seed_categories
from .models import Case, CaseStep, Category, Channel
from .personal import reporter_phone_columns
from .services import tracking_code_new
from .workflow import Action, State

FLOW = [Action.ACCEPT, Action.DISPATCH, Action.SIGN_FOR, Action.REPORT_BACK, Action.VERIFY_PASS, Action.CLOSE,
        Action.RATE]
STATE_AFTER = {Action.CREATE: State.REPORTED, Action.ACCEPT: State.ACCEPTED, Action.DISPATCH: State.DISPATCHED,
               Action.SIGN_FOR: State.IN_PROGRESS, Action.REPORT_BACK: State.TO_VERIFY,
               Action.VERIFY_PASS: State.VERIFIED, Action.CLOSE: State.CLOSED, Action.RATE: State.CLOSED}
DESCRIPTIONS = ["垃圾桶满溢，周边有散落垃圾", "路面有油污，行人易滑倒", "井盖松动，有安全隐患", "楼道堆放杂物，堵塞消防通道",
                "小区门口机动车乱停放", "夜间施工噪音扰民", "路灯不亮已三天", "绿地内有建筑垃圾", "墙面张贴小广告",
                "下水道堵塞，污水外溢", "占道经营，影响通行", "电梯停运，老人上下楼困难"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林"
GIVEN_NAMES = ["秀英", "建华", "伟", "芳", "志强", "丽娟", "军", "敏", "桂兰", "海燕", "国庆", "玉梅"]


def _reporter(rng) -> dict:
    """A resident's name and phone, the phone sealed as intake stores it (shown masked, revealed on request)."""
    phone = f"1{rng.choice('3578')}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
    return {"reporter_name": rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES), **reporter_phone_columns(phone)}


def generate(ctx) -> None:
    rng = ctx.rng
    departments = {d.code.split("-")[-1]: d for d in ctx.departments}
    seed_categories(departments)
    leaves = list(Category.objects.filter(children__isnull=True, active=True).select_related("parent",
                                                                                          "default_department"))
    common = [c for c in leaves if c.code[:4] in ("2001", "2002", "2005", "1001", "1003", "9001", "9015", "9006")]
    workers = {}
    from yiwang.accounts.models import Membership

    for m in Membership.objects.filter(role__in=["grid_worker", "handler", "dispatcher"]).select_related("user",
                                                                                                          "area"):
        workers.setdefault((m.role, m.department_id or m.area.path), m.user)
    handlers = {key[1]: user for key, user in workers.items() if key[0] == "handler"}
    now = timezone.now()
    total = max(20, int(300 * ctx.scale))
    grids = ctx.grids
    cases, histories = [], []
    reporter_rng = random.Random(2026)  # its own sequence, so the cases themselves stay as they were
    for _n in range(total):
        grid = rng.choice(grids)
        category = rng.choice(common if rng.random() < 0.8 else leaves)
        created = now - timedelta(minutes=rng.randint(30, 60 * 24 * 60))
        ring = grid.boundary["coordinates"][0]
        lon = (ring[0][0] + ring[1][0] + ring[2][0] + ring[3][0]) / 4 + (rng.random() - 0.5) * 0.001
        lat = (ring[0][1] + ring[1][1] + ring[2][1] + ring[3][1]) / 4 + (rng.random() - 0.5) * 0.001
        resident = category.kind == "request"
        channel = (rng.choice([Channel.RESIDENT_WEB, Channel.HOTLINE, Channel.COUNTER]) if resident
                   else Channel.GRID_WORKER)
        worker = workers.get(("grid_worker", grid.path))
        department = category.default_department or rng.choice(ctx.departments)
        age_days = (now - created).days
        depth = len(FLOW) if age_days > 20 else rng.randint(0, len(FLOW))
        if age_days < 2:
            depth = min(depth, 3)
        steps = [(Action.CREATE, created, worker if not resident else None)]
        t = created
        for action in FLOW[:depth]:
            t = t + timedelta(minutes=rng.randint(10, 60 * 30))
            if t > now:
                break
            actor = handlers.get(department.pk) if action in (Action.SIGN_FOR, Action.REPORT_BACK) else (
                worker if action == Action.VERIFY_PASS else None)
            steps.append((action, t, actor))
        last_action = steps[-1][0]
        state = STATE_AFTER[last_action]
        if state == State.REPORTED and rng.random() < 0.1:
            state = State.REJECTED
            steps.append((Action.REJECT, created + timedelta(hours=1), None))
        mode = category.mode()
        due = workcal.add_limit(created, float(mode["limit"]), mode["unit"])
        rating = rng.choice([3, 3, 3, 2, 2, 1]) if last_action == Action.RATE else None
        reporter = _reporter(reporter_rng) if resident else {}
        case = Case(tracking_code=tracking_code_new(), channel=channel, category=category, **reporter,
                    handling_mode=mode.get("code", ""), grid=grid, area_path=grid.path, lon=round(lon, 7),
                    lat=round(lat, 7), description=rng.choice(DESCRIPTIONS), created_by=worker if not resident else None,
                    state=state, level=3, created_at=created, version=len(steps),
                    department=department if any(s[0] == Action.DISPATCH for s in steps) else None,
                    due_at=due if any(s[0] == Action.DISPATCH for s in steps) else None, rating=rating,
                    review_needed=rating == 1,
                    closed_at=steps[-1][1] if state in (State.CLOSED, State.REJECTED) else None)
        if case.is_open:
            stage_start = steps[-1][1]
            case.stage_started_at = stage_start
            case.deadline = due if state == State.IN_PROGRESS else workcal.add_limit(stage_start, 4, "hours")
            case.warn_at = workcal.warning_time(stage_start, case.deadline)
            case.overdue = case.deadline < now
            case.supervision = "red" if case.overdue else ("yellow" if case.warn_at < now else "")
        cases.append(case)
        histories.append((steps, due, rating))
    Case.objects.bulk_create(cases, batch_size=500)
    rows = []
    for case, (steps, due, rating) in zip(cases, histories, strict=True):
        previous = ""
        for action, at, actor in steps:
            to_state = STATE_AFTER.get(action, State.REJECTED)
            on_time = None
            if action == Action.REPORT_BACK:
                on_time = at <= due
            elif action == Action.CLOSE:
                on_time = any(a == Action.REPORT_BACK and t <= due for a, t, _u in steps)
            elif action in (Action.ACCEPT, Action.REJECT):
                on_time = (at - case.created_at) <= timedelta(hours=6)
            rows.append(CaseStep(case=case, action=action, from_state=previous, to_state=to_state, actor=actor,
                                 actor_label=actor.username if actor else "system",
                                 department=case.department if action not in (Action.CREATE, Action.ACCEPT) else None,
                                 level=3, area_path=case.area_path, at=at, on_time=on_time,
                                 deadline=due if action in (Action.REPORT_BACK, Action.CLOSE) else None,
                                 rating=rating if action == Action.RATE else None,
                                 data={"rating": rating} if action == Action.RATE else {},
                                 comment="已处理" if action == Action.REPORT_BACK else ""))
            previous = to_state
    CaseStep.objects.bulk_create(rows, batch_size=1000)
