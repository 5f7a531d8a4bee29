"""Rollups agree with the raw steps: with cases.selectors.indicators_for (the reference), with a full
rebuild, and when two steps land at once."""

import datetime as dt
from datetime import timedelta

import pytest
from django.core.management import call_command

from yiwang.cases.selectors import indicators_for
from yiwang.dashboards import selectors as S
from yiwang.dashboards.models import COUNTERS, DailyRollup, DailyTotal, OpenCount, WorkerDaily
from yiwang.dashboards.rollups import rollup_rebuild

from .factories import T0, report

REFERENCE = {  # dashboard counter -> indicators_for field
    "intake": "received", "responded": "responded_on_time", "rated": "rated", "solved": "solved",
    "satisfied": "satisfied", "basically_satisfied": "basically_satisfied", "closed": "closed",
    "closed_on_time": "closed_on_time", "overdue_closed": "overdue_closed", "handled": "handled",
    "reworked": "rework", "deferred": "deferred",
}
RATES = ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_closure_rate", "rework_rate",
         "overdue_rate")


def _snapshot():
    def rows(model, keys, values):
        return sorted(tuple(getattr(r, k) for k in keys + values) for r in model.objects.all()
                      if any(getattr(r, v) for v in values))

    return (rows(DailyRollup, ["area_path", "day", "category_id", "department_id"], list(COUNTERS)),
            rows(DailyTotal, ["area_path", "day"], list(COUNTERS)),
            rows(OpenCount, ["area_path", "category_id", "department_id", "state", "overdue", "supervision"], ["n"]),
            rows(WorkerDaily, ["user_id", "area_path", "day"], ["reported", "verified", "verified_on_time",
                                                                "on_the_spot"]))


def _period():
    return S.Period(T0.date(), T0.date() + dt.timedelta(days=6))


def _bounds(period):
    from yiwang.dashboards.rollups import day_bounds

    return day_bounds(period.start)[0], day_bounds(period.end)[1]


@pytest.mark.parametrize("area_key", ["district", "sub1", "comm_a", "grid_a1", "comm_c"])
def test_every_dashboard_figure_equals_the_reference_indicators(busy, world, area_key):
    area = getattr(world.tree, area_key)
    period = _period()
    start, end = _bounds(period)
    ours = S.indicators(area, period, today=period.end)
    [ref] = indicators_for(world.people.admin, area=area, period_start=start, period_end=end) or [None]
    for counter, field in REFERENCE.items():
        assert ours["counts"][counter] == getattr(ref, field), (area_key, counter)
    for rate in RATES:
        assert ours["rates"][rate] == ref.rates[rate], (area_key, rate)
    # Each single day agrees too (trend chart points).
    tr = S.trend(area, period)
    for i, day in enumerate(tr["days"]):
        d = dt.date.fromisoformat(day)
        s, e = _bounds(S.Period(d, d))
        rows = indicators_for(world.people.admin, area=area, period_start=s, period_end=e)
        assert tr["series"]["intake"][i] == (rows[0].received if rows else 0), (area_key, day)
        assert tr["series"]["closed"][i] == (rows[0].closed if rows else 0), (area_key, day)


def test_figures_are_not_trivially_zero(busy, world):
    ours = S.indicators(world.tree.district, _period(), today=T0.date())
    assert ours["counts"]["intake"] == 8 and ours["counts"]["closed"] == 6
    assert ours["counts"]["rated"] == 4 and ours["counts"]["satisfied"] == 2
    assert ours["overdue_now"] == 0 and ours["open_now"] == 2 and ours["supervised_now"] == 1
    assert ours["today_intake"] == 2


def test_department_and_area_rankings_match_the_reference(busy, world):
    period = _period()
    start, end = _bounds(period)
    ref = {r.key: r for r in indicators_for(world.people.admin, area=world.tree.district, period_start=start,
                                            period_end=end, group_by="area")}
    for row in S.rank_areas(world.tree.district, period):
        expected = ref.get(row["path"])
        assert row["counts"]["intake"] == (expected.received if expected else 0)
        assert row["rates"]["satisfaction_rate"] == (expected.rates["satisfaction_rate"] if expected else None)
    [dept] = S.rank_departments(world.tree.district, period)
    assert dept["name"] == world.people.department.name and dept["counts"]["closed"] == 5
    assert dept["grade"] in {"A", "B", "C", "D", "E"}


def test_full_rebuild_equals_the_incremental_rollups(busy):
    incremental = _snapshot()
    assert incremental[0], "the incremental refresh wrote nothing"
    DailyRollup.objects.all().delete()
    DailyTotal.objects.all().delete()
    OpenCount.objects.all().delete()
    WorkerDaily.objects.all().delete()
    call_command("rollup_rebuild", "2026-09-20", "2026-10-10")
    assert _snapshot() == incremental


def test_refresh_is_idempotent_and_repairs_drift(busy, world):
    from yiwang.dashboards.rollups import rollup_refresh

    before = _snapshot()
    DailyTotal.objects.filter(area_path=world.tree.district.path).update(intake=999)
    rollup_rebuild(T0.date(), T0.date() + dt.timedelta(days=6))
    rollup_refresh(world.tree.grid_a1.path, T0.date())
    rollup_refresh(world.tree.grid_a1.path, T0.date())
    assert _snapshot() == before


def test_moving_a_case_updates_open_and_overdue_counts(world, cats, django_capture_on_commit_callbacks):
    from yiwang.cases.services import case_deadline_sweep

    with django_capture_on_commit_callbacks(execute=True):
        report(world, cats, at=T0)
    assert S.indicators(world.tree.comm_a, _period(), today=T0.date())["overdue_now"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        case_deadline_sweep(now=T0 + timedelta(days=3))
    ind = S.indicators(world.tree.comm_a, _period(), today=T0.date())
    assert ind["overdue_now"] == 1 and ind["supervised_now"] == 1
    assert S.indicators(world.tree.comm_b, _period(), today=T0.date())["overdue_now"] == 0


@pytest.mark.django_db(transaction=True)
def test_two_steps_landing_at_once_are_both_counted(world, cats):
    """Two threads each report a case in the same grid and day; both refreshes run after commit."""
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    errors = []

    def worker(i):
        try:
            report(world, cats, at=T0 + timedelta(minutes=i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ind = S.indicators(world.tree.district, _period(), today=T0.date())
    assert ind["counts"]["intake"] == 4 and ind["counts"]["dispatched"] == 4
    assert DailyTotal.objects.get(area_path=world.tree.grid_a1.path, day=T0.date()).intake == 4


def test_today_intake_does_not_depend_on_the_period(busy, world):
    """Today's intake and the period's counters come from one query: a period that does not contain
    today must neither lose today's intake nor count today in the period."""
    last_day = T0.date() + dt.timedelta(days=3)  # three cases reported that day, five on the days before
    district = world.tree.district
    assert DailyTotal.objects.get(area_path=district.path, day=last_day).intake == 3
    inside = S.indicators(district, S.Period(T0.date(), last_day), today=last_day)
    before = S.indicators(district, S.Period(T0.date(), T0.date() + dt.timedelta(days=2)), today=last_day)
    assert inside["today_intake"] == before["today_intake"] == 3
    assert inside["counts"]["intake"] == 8 and before["counts"]["intake"] == 5
    assert S.indicators(world.tree.district, _period(), today=T0.date() + dt.timedelta(days=30))["today_intake"] == 0


@pytest.mark.parametrize("area_key,query,queries", [("district", "days=30", 3), ("district", "month=2026-01", 3),
                                                    ("grid_a1", "days=7", 4)])
def test_indicator_endpoint_runs_a_fixed_number_of_queries(busy, world, api_for, django_assert_num_queries,
                                                           area_key, query, queries):
    """The tiles cost the same few queries for any area and period, and never read the cases tables:
    1 for the dispatcher's memberships (scope; they hold the dispatcher's own area, so only another
    area costs 1 more), 1 over DailyTotal (period counters and today's intake), 1 over OpenCount (open,
    overdue and supervised now)."""
    from yiwang.accounts.models import User

    api = api_for(User.objects.get(pk=world.people.dispatcher_district.pk))  # nothing cached on the user
    url = f"/api/v1/dashboards/indicators/?area={getattr(world.tree, area_key).path}&{query}"
    with django_assert_num_queries(queries) as captured:
        response = api.get(url)
    assert response.status_code == 200 and response.json()["counts"]["intake"] >= 0
    sql = [q["sql"] for q in captured.captured_queries]
    assert sum("dashboards_dailytotal" in s for s in sql) == 1
    assert sum("dashboards_opencount" in s for s in sql) == 1
    assert not any("cases_case" in s for s in sql)


def test_rebuild_in_chunks_equals_the_incremental_rollups(busy, monkeypatch):
    """Chunk boundaries inside the week of cases change nothing, and days outside the range stay."""
    from yiwang.dashboards import rollups

    incremental = _snapshot()
    for model in (DailyRollup, DailyTotal, OpenCount, WorkerDaily):
        model.objects.all().delete()
    monkeypatch.setattr(rollups, "REBUILD_CHUNK_DAYS", 2)
    result = rollup_rebuild(T0.date() - dt.timedelta(days=3), T0.date() + dt.timedelta(days=10))
    assert result["days"] == 14 and result["rows"] == DailyRollup.objects.count()
    assert _snapshot() == incremental


def test_rebuild_replaces_only_its_days(busy, world):
    day1 = T0.date() + dt.timedelta(days=1)
    district = world.tree.district.path
    DailyTotal.objects.filter(area_path=district).update(intake=999)
    rollup_rebuild(day1, day1, open_counts=False)
    stale = dict(DailyTotal.objects.filter(area_path=district).values_list("day", "intake"))
    assert stale[day1] != 999 and stale[T0.date()] == 999
