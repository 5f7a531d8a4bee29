"""Cases moved through the real workflow services, so rollups see exactly what production writes."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from yiwang.cases.models import Channel
from yiwang.cases.services import case_act, case_create
from yiwang.cases.tests.factories import BIN_LAT, BIN_LON, jpeg
from yiwang.cases.workflow import Action

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 29, 9, 0, tzinfo=SH)  # a Tuesday
GRID_A2 = (111.115, 37.505)
GRID_C1 = (111.145, 37.505)


def report(world, cats, *, at=T0, where=(BIN_LON, BIN_LAT), category=None, actor=None, **kw):
    return case_create(actor=actor or world.people.grid_worker, channel=Channel.GRID_WORKER,
                       category=category or cats.garbage, lon=where[0], lat=where[1],
                       description="垃圾桶满溢，周边散落垃圾", now=at, **kw)


def act(case, actor, action, at, **kw):
    return case_act(actor=actor, case=case, action=action, expected_version=case.version, now=at, **kw)


def full_loop(world, cats, *, at=T0, rating=3, late=False, where=(BIN_LON, BIN_LAT), verifier=None, reporter=None):
    """Report (auto-dispatched by rule), sign for, report back, verify, close, rate."""
    p = world.people
    case = report(world, cats, at=at, where=where, actor=reporter)
    case = act(case, p.handler, Action.SIGN_FOR, at + timedelta(minutes=30))
    back = at + (timedelta(days=2) if late else timedelta(hours=1))
    case = act(case, p.handler, Action.REPORT_BACK, back, comment="已清运")
    case = act(case, verifier or p.grid_worker, Action.VERIFY_PASS, back + timedelta(minutes=20), photos=[jpeg()])
    case = act(case, p.admin, Action.CLOSE, back + timedelta(minutes=40))
    if rating:
        case = act(case, reporter or p.grid_worker, Action.RATE, back + timedelta(hours=1), rating=rating)
    return case


def every_kind_of_report(world, cats):
    """Five reports of every kind: dispatched by rule, another category, from the district centre in another
    grid, from an administrator on another day in another community, and from a resident without an
    account (phone-verified). Returns the first."""
    p = world.people
    first = report(world, cats, at=T0)
    report(world, cats, at=T0 + timedelta(minutes=5), category=cats.noise)
    report(world, cats, at=T0 + timedelta(minutes=10), where=GRID_A2, actor=p.dispatcher_district)
    report(world, cats, at=T0 + timedelta(days=1), where=GRID_C1, actor=p.admin)
    case_create(actor=None, channel=Channel.RESIDENT_WEB, category=cats.noise, lon=GRID_C1[0], lat=GRID_C1[1],
                description="楼上夜间装修噪声", reporter_name="张三", reporter_phone="13800138000",
                now=T0 + timedelta(hours=3))
    return first
