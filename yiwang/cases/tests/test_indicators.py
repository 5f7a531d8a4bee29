"""Indicators recomputed from steps: each formula against a hand-built history."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from yiwang.cases.selectors import indicators_for
from yiwang.cases.services import case_act, case_create, case_deadline_sweep

from .factories import BIN_LAT, BIN_LON, jpeg

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 9, 29, 9, 0, tzinfo=SH)
PERIOD = dict(period_start=T0 - timedelta(days=1), period_end=T0 + timedelta(days=30))


def run_to_closed(world, cats, *, late=False, fail_once=False, rating=None, offset=0):
    t = T0 + timedelta(minutes=offset)
    case = case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾", now=t)
    h = world.people.handler
    case = case_act(actor=h, case=case, action="sign_for", expected_version=case.version, now=t)
    done_at = case.due_at + timedelta(hours=1) if late else t + timedelta(hours=1)
    case = case_act(actor=h, case=case, action="report_back", expected_version=case.version, comment="ok", now=done_at)
    if fail_once:
        case = case_act(actor=world.people.grid_worker, case=case, action="verify_fail", expected_version=case.version,
                        comment="没清干净", photos=[jpeg()], now=done_at)
        case = case_act(actor=h, case=case, action="report_back", expected_version=case.version, comment="ok",
                        now=done_at)
    case = case_act(actor=world.people.grid_worker, case=case, action="verify_pass", expected_version=case.version,
                    photos=[jpeg()], now=done_at)
    case = case_act(actor=world.people.dispatcher_comm, case=case, action="close", expected_version=case.version,
                    now=done_at)
    if rating:
        case = case_act(actor=None, case=case, action="rate", expected_version=None, rating=rating,
                        tracking_code=case.tracking_code, now=done_at)
    return case


def test_rates_follow_the_documented_formulas(world, cats):
    run_to_closed(world, cats, rating=3)
    run_to_closed(world, cats, rating=2, offset=1)
    run_to_closed(world, cats, late=True, fail_once=True, rating=1, offset=2)
    open_case = case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                            lat=BIN_LAT, description="未办结", now=T0)
    assert open_case.state == "dispatched"
    [row] = indicators_for(world.people.dispatcher_comm, **PERIOD)
    assert (row.received, row.closed, row.closed_on_time, row.rated) == (4, 3, 2, 3)
    assert row.should_close == 4  # three closed + one whose handling deadline passed in the period
    r = row.rates
    assert r["closure_rate"] == 75.0
    assert r["on_time_closure_rate"] == round(100 * 2 / 3, 1)  # closed on time / (closed - deferred)
    assert r["satisfaction_rate"] == round(100 * (1 + 0.9) / 3, 1)
    assert r["resolution_rate"] == round(100 * 2 / 3, 1)
    assert r["rework_rate"] == round(100 / 3, 1)  # 1 case sent back / 3 cases reported back
    assert r["overdue_rate"] == round(100 / 3, 1)
    assert r["response_rate"] == 100.0


def test_deferred_cases_leave_the_on_time_denominator(world, cats):
    case = case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾", now=T0)
    h = world.people.handler
    case = case_act(actor=h, case=case, action="sign_for", expected_version=case.version, now=T0)
    case = case_act(actor=h, case=case, action="request_extension", expected_version=case.version, days=1,
                    comment="调车", now=T0)
    case = case_act(actor=world.people.dispatcher_comm, case=case, action="approve_extension",
                    expected_version=case.version, now=T0)
    done = case.due_at - timedelta(minutes=5)
    case = case_act(actor=h, case=case, action="report_back", expected_version=case.version, comment="ok", now=done)
    case = case_act(actor=world.people.grid_worker, case=case, action="verify_pass", expected_version=case.version,
                    photos=[jpeg()], now=done)
    case_act(actor=world.people.dispatcher_comm, case=case, action="close", expected_version=case.version, now=done)
    run_to_closed(world, cats, late=True, offset=5)
    [row] = indicators_for(world.people.dispatcher_comm, **PERIOD)
    assert row.deferred == 1 and row.should_close == 2 and row.closed_on_time == 1
    assert row.rates["on_time_closure_rate"] == 100.0  # 1 / (2 - 1)
    assert row.rates["closure_rate"] == 100.0


def test_grouping_by_department_and_area_and_outsider_sees_nothing(world, cats):
    run_to_closed(world, cats, rating=3)
    by_dept = indicators_for(world.people.dispatcher_comm, group_by="department", **PERIOD)
    assert any(r.label == world.people.department.name and r.closed == 1 for r in by_dept)
    by_area = indicators_for(world.people.dispatcher_sub, area=world.tree.sub1, group_by="area", **PERIOD)
    assert [(r.label, r.received) for r in by_area] == [(world.tree.comm_a.name, 1)]
    assert indicators_for(world.people.outsider, **PERIOD)[0].received == 0 if indicators_for(
        world.people.outsider, **PERIOD) else True
    assert all(r.received == 0 for r in indicators_for(world.people.outsider, **PERIOD))


def test_sweep_escalation_is_recorded_and_counted_as_overdue(world, cats):
    case = case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾", now=T0)
    case_deadline_sweep(now=case.deadline + timedelta(minutes=1))
    case.refresh_from_db()
    assert case.level == 2 and case.steps.filter(action="escalate").exists()


def _fail_verification(world, case, at):
    h, gw = world.people.handler, world.people.grid_worker
    case = case_act(actor=gw, case=case, action="verify_fail", expected_version=case.version, comment="没清干净",
                    photos=[jpeg()], now=at)
    return case_act(actor=h, case=case, action="report_back", expected_version=case.version, comment="ok",
                    now=at + timedelta(minutes=10))


def test_a_step_repeated_on_two_days_counts_once_per_day(world, cats):
    """Counters count a case once per local day (and department): over several days a case sent back on
    two days is two reworks, as the dashboards' daily rollups add them up; twice on one day is one."""
    case = case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾", now=T0)
    h = world.people.handler
    case = case_act(actor=h, case=case, action="sign_for", expected_version=case.version, now=T0)
    case = case_act(actor=h, case=case, action="report_back", expected_version=case.version, comment="ok",
                    now=T0 + timedelta(hours=1))
    case = _fail_verification(world, case, T0 + timedelta(hours=2))
    case = _fail_verification(world, case, T0 + timedelta(hours=3))  # the same day: still one
    case = _fail_verification(world, case, T0 + timedelta(days=1))  # the next day: one more
    week = dict(period_start=T0 - timedelta(hours=1), period_end=T0 + timedelta(days=7))
    [row] = indicators_for(world.people.dispatcher_comm, **week)
    assert (row.rework, row.handled, row.received) == (2, 2, 1)
    [first_day] = indicators_for(world.people.dispatcher_comm, period_start=T0 - timedelta(hours=1),
                                 period_end=T0 + timedelta(hours=12))
    assert (first_day.rework, first_day.handled) == (1, 1)
    # Days are local (Asia/Shanghai): 23:30 and 00:30 the next morning are two days, though both are the
    # same UTC day.
    late_evening = T0.replace(hour=23, minute=30) + timedelta(days=2)
    case = _fail_verification(world, case, late_evening)
    case = _fail_verification(world, case, late_evening + timedelta(hours=1))
    [row] = indicators_for(world.people.dispatcher_comm, **week)
    assert row.rework == 4


def test_by_person_only_rates_whose_counts_are_the_persons_own(world, cats):
    """By person (the step's actor) a rate mixing two people's steps is not shown: the grid worker reports
    and the system accepts, so a response rate would be 0 % for one and over 100 % for the other."""
    run_to_closed(world, cats, rating=3)
    run_to_closed(world, cats, late=True, fail_once=True, rating=1, offset=2)
    rows = {r.label: r for r in indicators_for(world.people.dispatcher_comm, group_by="person", **PERIOD)}
    worker, closer = rows[str(world.people.grid_worker)], rows[str(world.people.dispatcher_comm)]
    assert worker.received == 2 and worker.rework == 1
    assert all(rate is None for rate in worker.rates.values())  # reports and rework, nothing of its own to divide
    assert closer.closed == 2 and closer.rates["on_time_closure_rate"] == 50.0 and closer.rates["overdue_rate"] == 50.0
    for row in rows.values():
        assert row.rates["response_rate"] is None and row.rates["closure_rate"] is None
        assert row.rates["rework_rate"] is None
        assert all(rate is None or 0 <= rate <= 100 for rate in row.rates.values())
    [total] = indicators_for(world.people.dispatcher_comm, **PERIOD)
    assert total.rates["response_rate"] == 100.0 and total.rates["rework_rate"] == 50.0  # the totals keep them all
