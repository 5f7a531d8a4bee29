"""The category chart and the chart endpoints: figures equal the raw steps, past days are summed once per
version of their rollups (and follow every change to them), and each endpoint runs a fixed few queries."""

import datetime as dt
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.cases.models import Case, CaseStep
from yiwang.cases.workflow import Action
from yiwang.dashboards import selectors as S
from yiwang.dashboards.rollups import local_day, rollup_rebuild

from .factories import T0, report
from .test_rollups import _bounds, _period

CLOSING = [Action.CLOSE, Action.RESOLVE_ON_SPOT]


def _reference(area, period, actions, **filters) -> Counter:
    """Per top-level category code: cases with such a step, counted once per day (the rollups' semantics)."""
    start, end = _bounds(period)
    steps = CaseStep.objects.filter(at__gte=start, at__lt=end, area_path__startswith=area.path, action__in=actions,
                                    **filters)
    seen, counts = set(), Counter()
    for case_id, at, code, parent in steps.values_list("case_id", "at", "case__category__code",
                                                       "case__category__parent__code"):
        if (case_id, local_day(at)) not in seen:
            seen.add((case_id, local_day(at)))
            counts[parent or code] += 1
    return counts


def _chart(area, period, today) -> dict[str, tuple[int, int, int]]:
    return {e["code"]: (e["intake"], e["closed"], e["overdue_closed"])
            for e in S.categories(area, period, today=today)["items"]}


def _expected(area, period) -> dict[str, tuple[int, int, int]]:
    intake = _reference(area, period, [Action.CREATE])
    closed = _reference(area, period, CLOSING)
    late = _reference(area, period, [Action.CLOSE], on_time=False)
    return {code: (intake[code], closed[code], late[code]) for code in set(intake) | set(closed)}


@pytest.mark.parametrize("area_key", ["district", "comm_a", "grid_a1", "comm_c"])
def test_category_chart_equals_the_steps_whether_days_are_past_or_today(busy, world, area_key):
    area, period = getattr(world.tree, area_key), _period()
    expected = _expected(area, period)
    assert _chart(area, period, today=period.end + timedelta(days=5)) == expected  # every day past (cached)
    assert _chart(area, period, today=T0.date() + timedelta(days=1)) == expected  # past days and live ones
    assert _chart(area, period, today=T0.date()) == expected  # every day live


def test_category_chart_is_not_trivially_empty(busy, world):
    chart = _chart(world.tree.district, _period(), today=T0.date() + timedelta(days=30))
    assert chart == {"2001": (7, 6, 1), "9001": (1, 0, 0)}


def test_category_chart_follows_changes_to_past_days(busy, world, cats, django_capture_on_commit_callbacks):
    district, period = world.tree.district, _period()
    today = period.end + timedelta(days=10)
    before = _chart(district, period, today)
    with django_capture_on_commit_callbacks(execute=True):  # the incremental refresh of a past day
        late_report = report(world, cats, at=T0 + timedelta(days=1, hours=3), category=cats.noise)
    after = _chart(district, period, today)
    assert after["9001"] == (before["9001"][0] + 1, 0, 0) and after["2001"] == before["2001"]
    assert after == _expected(district, period)
    Case.objects.filter(pk=late_report.pk).delete()  # gone from the steps: a rebuild takes it out again
    rollup_rebuild(T0.date() + timedelta(days=1), T0.date() + timedelta(days=1), open_counts=False)
    assert _chart(district, period, today) == before


def test_past_days_are_summed_once_per_version(busy, world):
    if connection.vendor != "postgresql":
        pytest.skip("the version of past days is PostgreSQL's row xmin; SQLite sums them every time")
    district, period = world.tree.district, _period()
    today = period.end + timedelta(days=1)
    first = S.categories(district, period, today=today)
    with CaptureQueriesContext(connection) as captured:
        again = S.categories(district, period, today=today)
    assert again == first
    sql = [q["sql"] for q in captured.captured_queries]
    assert not any("dashboards_dailyrollup" in s for s in sql)  # the version (DailyTotal) and category names
    assert sum("dashboards_dailytotal" in s for s in sql) == 1


@pytest.mark.parametrize("endpoint,area_key,most,rollup_reads", [
    ("trend", "district", 2, 0), ("trend", "grid_a1", 3, 0),
    ("categories", "district", 5, 2), ("categories", "grid_a1", 6, 2)])
def test_chart_endpoints_run_a_fixed_number_of_queries(busy, world, api_for, endpoint, area_key, most,
                                                      rollup_reads):
    """Trend: the memberships (scope), [the area unless it is the viewer's own], DailyTotal. Categories:
    the memberships, [the area], the past days' version, their sums (unless cached), today's sums, the
    category names. Neither reads the cases tables."""
    from yiwang.accounts.models import User

    area = getattr(world.tree, area_key)
    api = api_for(User.objects.get(pk=world.people.dispatcher_district.pk))
    for query in ("days=30", f"start={T0.date()}&end={T0.date() + dt.timedelta(days=6)}"):
        with CaptureQueriesContext(connection) as captured:
            response = api.get(f"/api/v1/dashboards/{endpoint}/?area={area.path}&{query}")
        assert response.status_code == 200
        sql = [q["sql"] for q in captured.captured_queries]
        assert len(sql) <= most, sql
        assert sum("dashboards_dailyrollup" in s for s in sql) <= rollup_reads
        assert not any("cases_case" in s for s in sql)
