"""Every dashboard figure equals `cases.selectors.indicators_for` (the reference, computed from the raw
steps) over multi-day periods — 7 days, 30 days, calendar months, each single day — with cases that
repeat a step on different days (closed, reopened, closed again; sent back on two days), repeat it
under two departments on one day, close after an approved extension, and cross a month boundary."""

import datetime as dt
from datetime import timedelta

import pytest

from yiwang.cases.selectors import indicators_for
from yiwang.cases.tests.factories import jpeg
from yiwang.cases.workflow import Action
from yiwang.dashboards import selectors as S
from yiwang.dashboards.rollups import day_bounds

from .factories import GRID_C1, T0, act, full_loop, report
from .test_rollups import REFERENCE

RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_closure_rate", "rework_rate",
         "overdue_rate")
AREAS = ("district", "sub1", "sub2", "comm_a", "comm_c", "grid_a1")


def _back_and_verify(p, case, at, *, passed=True, verifier=None):
    case = act(case, p.handler, Action.REPORT_BACK, at, comment="已处理")
    if passed:
        return act(case, verifier or p.grid_worker, Action.VERIFY_PASS, at + timedelta(minutes=20), photos=[jpeg()])
    return act(case, verifier or p.grid_worker, Action.VERIFY_FAIL, at + timedelta(minutes=20), photos=[jpeg()],
               comment="未处理干净")


@pytest.fixture
def repeats(world, cats, django_capture_on_commit_callbacks):
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        # Closed on 29 Sep, reopened on 30 Sep, closed again and rated on 1 Oct (a month boundary).
        a = full_loop(world, cats, at=T0, rating=None)
        a = act(a, p.admin, Action.REOPEN, T0 + timedelta(days=1), comment="没有解决")
        a = act(a, p.handler, Action.SIGN_FOR, T0 + timedelta(days=1, hours=1))
        a = _back_and_verify(p, a, T0 + timedelta(days=2))
        a = act(a, p.admin, Action.CLOSE, T0 + timedelta(days=2, hours=1))
        act(a, p.admin, Action.RATE, T0 + timedelta(days=2, hours=2), rating=3)
        # Sent back on two different days, closed late on a third.
        b = report(world, cats, at=T0 + timedelta(hours=3))
        b = act(b, p.handler, Action.SIGN_FOR, T0 + timedelta(hours=4))
        b = _back_and_verify(p, b, T0 + timedelta(hours=5), passed=False)
        b = _back_and_verify(p, b, T0 + timedelta(days=1, hours=5), passed=False)
        b = _back_and_verify(p, b, T0 + timedelta(days=3, hours=2))
        b = act(b, p.admin, Action.CLOSE, T0 + timedelta(days=3, hours=3))
        act(b, p.admin, Action.RATE, T0 + timedelta(days=3, hours=4), rating=1)
        # Sent back and reopened on one day: the reopening is recorded with no department, the failed
        # verification with the department, so the day counts two reworks in both.
        c = report(world, cats, at=T0 + timedelta(days=4))
        c = act(c, p.handler, Action.SIGN_FOR, T0 + timedelta(days=4, minutes=10))
        c = _back_and_verify(p, c, T0 + timedelta(days=4, minutes=20), passed=False)
        c = _back_and_verify(p, c, T0 + timedelta(days=4, hours=1))
        c = act(c, p.admin, Action.CLOSE, T0 + timedelta(days=4, hours=2))
        act(c, p.admin, Action.REOPEN, T0 + timedelta(days=4, hours=3), comment="又满了")
        # Closed after an approved extension (deferred), then closed again after a reopening days later.
        d = report(world, cats, at=T0 + timedelta(days=1), category=cats.road)  # dispatched by rule
        d = act(d, p.handler, Action.SIGN_FOR, T0 + timedelta(days=1, minutes=10))
        d = act(d, p.handler, Action.REQUEST_EXTENSION, T0 + timedelta(days=1, minutes=20), days=3,
                comment="需要调车")
        d = act(d, p.admin, Action.APPROVE_EXTENSION, T0 + timedelta(days=1, minutes=30))
        d = _back_and_verify(p, d, T0 + timedelta(days=1, hours=2))
        d = act(d, p.admin, Action.CLOSE, T0 + timedelta(days=1, hours=3))
        d = act(d, p.admin, Action.REOPEN, T0 + timedelta(days=8), comment="复发")
        d = act(d, p.handler, Action.SIGN_FOR, T0 + timedelta(days=8, minutes=10))
        d = _back_and_verify(p, d, T0 + timedelta(days=8, hours=1))
        act(d, p.admin, Action.CLOSE, T0 + timedelta(days=8, hours=2))
        # Another community: closed, reopened and closed again on consecutive days, resolved on the spot.
        e = full_loop(world, cats, at=T0 + timedelta(days=2), where=GRID_C1, rating=2,
                      verifier=p.dispatcher_district, reporter=p.admin)
        e = act(e, p.admin, Action.REOPEN, T0 + timedelta(days=3), comment="仍有垃圾")
        e = act(e, p.handler, Action.SIGN_FOR, T0 + timedelta(days=3, minutes=30))
        e = _back_and_verify(p, e, T0 + timedelta(days=5), verifier=p.dispatcher_district)
        act(e, p.admin, Action.CLOSE, T0 + timedelta(days=5, hours=1))
        report(world, cats, at=T0 + timedelta(days=6), resolve_on_spot=True, comment="当场处理")
        report(world, cats, at=T0 + timedelta(days=20), category=cats.noise)  # only in the 30-day period
    return a, b, c, d, e


PERIODS = {
    "7 days": S.Period(T0.date(), T0.date() + timedelta(days=6)),
    "30 days": S.Period(T0.date() - timedelta(days=5), T0.date() + timedelta(days=24)),
    "September": S.Period(dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    "October": S.Period(dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
}


def _reference(world, area, period, **kw):
    start, end = day_bounds(period.start)[0], day_bounds(period.end)[1]
    return indicators_for(world.people.admin, area=area, period_start=start, period_end=end, **kw)


def _assert_agree(ours_counts, ours_rates, ref, where):
    for counter, name in REFERENCE.items():
        assert ours_counts[counter] == (getattr(ref, name) if ref else 0), (where, counter)
    for rate in RATES:
        assert ours_rates[rate] == (ref.rates[rate] if ref else None), (where, rate)


def test_the_repeats_are_real(repeats, world):
    """The fixture does repeat steps on different days: the week has more closures and reworks than
    distinct cases closed or sent back, so counting once per period would differ."""
    from yiwang.cases.models import CaseStep

    start, end = day_bounds(PERIODS["7 days"].start)[0], day_bounds(PERIODS["7 days"].end)[1]
    steps = CaseStep.objects.filter(at__gte=start, at__lt=end)
    closing = steps.filter(action__in=[Action.CLOSE, Action.RESOLVE_ON_SPOT])
    rework = steps.filter(action__in=[Action.VERIFY_FAIL, Action.REOPEN])
    counts = S.indicators(world.tree.district, PERIODS["7 days"], today=T0.date())["counts"]
    assert counts["closed"] > closing.values("case_id").distinct().count()
    assert counts["reworked"] > rework.values("case_id").distinct().count()
    assert counts["deferred"] == 1 and counts["closed_on_time"] < counts["closed"]


@pytest.mark.parametrize("period_key", list(PERIODS))
@pytest.mark.parametrize("area_key", AREAS)
def test_tiles_equal_the_reference_over_multi_day_periods(repeats, world, area_key, period_key):
    area, period = getattr(world.tree, area_key), PERIODS[period_key]
    ours = S.indicators(area, period, today=period.end)
    [ref] = _reference(world, area, period) or [None]
    _assert_agree(ours["counts"], ours["rates"], ref, (area_key, period_key))


@pytest.mark.parametrize("area_key", ("district", "comm_a", "comm_c"))
def test_each_trend_day_equals_the_reference(repeats, world, area_key):
    area, period = getattr(world.tree, area_key), PERIODS["30 days"]
    trend = S.trend(area, period)
    for i, day in enumerate(trend["days"]):
        d = dt.date.fromisoformat(day)
        [ref] = _reference(world, area, S.Period(d, d)) or [None]
        assert trend["series"]["intake"][i] == (ref.received if ref else 0), (area_key, day)
        assert trend["series"]["closed"][i] == (ref.closed if ref else 0), (area_key, day)
        assert trend["series"]["overdue_closed"][i] == (ref.overdue_closed if ref else 0), (area_key, day)
        assert trend["series"]["satisfaction_rate"][i] == (ref.rates["satisfaction_rate"] if ref else None)


@pytest.mark.parametrize("period_key", list(PERIODS))
def test_rankings_equal_the_reference_over_multi_day_periods(repeats, world, period_key):
    period = PERIODS[period_key]
    for area in (world.tree.district, world.tree.sub1):
        ref = {r.key: r for r in _reference(world, area, period, group_by="area")}
        for row in S.rank_areas(area, period):
            _assert_agree(row["counts"], row["rates"], ref.get(row["path"]), (area.path, row["path"], period_key))
        by_department = {r.key: r for r in _reference(world, area, period, group_by="department")}
        departments = S.rank_departments(area, period)
        assert {str(d["id"]) for d in departments} >= {
            key for key, r in by_department.items() if key != "None" and any(getattr(r, f) for f in REFERENCE.values())}
        for row in departments:
            _assert_agree(row["counts"], row["rates"], by_department[str(row["id"])], (area.path, row["name"]))
