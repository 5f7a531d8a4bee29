"""The case indicators page and its API read the dashboards' rollups (indicator_source) and show exactly
what `cases.selectors.indicators_for` counts from the raw steps: every counter, 应结案 and rate, in total,
by area and by department, over multi-day periods with repeated steps (test_consistency's fixture), for
a superuser, a district admin and viewers scoped below the area they ask for."""

import datetime as dt
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.accounts.tests.factories import UserFactory
from yiwang.cases import indicator_sources
from yiwang.cases.selectors import indicators_for
from yiwang.cases.workflow import Action
from yiwang.dashboards import selectors as S
from yiwang.dashboards.indicator_source import rollup_indicator_counts
from yiwang.dashboards.rollups import day_bounds

from .factories import GRID_C1, T0, act, report
from .test_consistency import PERIODS, _back_and_verify, repeats  # noqa: F401 (the fixture)

AREAS = (None, "district", "sub1", "sub2", "comm_a", "comm_c", "grid_a1")
GROUPS = (None, "area", "department")


@pytest.fixture
def histories(repeats, world, cats, django_capture_on_commit_callbacks):  # noqa: F811
    """test_consistency's repeated steps, plus cases due in the 30-day period and not closed in it (应结案
    counts them beyond the closures): one left open, one closed after the period."""
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        report(world, cats, at=T0 + timedelta(days=10))  # dispatched by rule, never handled
        late = report(world, cats, at=T0 + timedelta(days=11), where=GRID_C1, actor=p.admin)
        late = act(late, p.handler, Action.SIGN_FOR, T0 + timedelta(days=11, hours=1))
        _back_and_verify(p, late, T0 + timedelta(days=40), verifier=p.dispatcher_district)
    return repeats


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


def test_dashboards_register_the_source_when_ready():
    assert rollup_indicator_counts in indicator_sources._SOURCES


def _bounds(period):
    return day_bounds(period.start)[0], day_bounds(period.end)[1]


def _answered_by_rollups(fn):
    """fn()'s result, checking the raw steps were read only for 应结案 (dispatch steps) and the rollups were
    read (an area outside the viewer's reads nothing at all)."""
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    sql = [q["sql"] for q in queries.captured_queries]
    steps = [s for s in sql if "cases_casestep" in s]
    assert all("dispatch" in s for s in steps), steps
    assert not sql or any("dashboards_daily" in s for s in sql)
    return result


@pytest.mark.parametrize("actor_key", ["superuser", "admin", "dispatcher_sub", "dispatcher_comm"])
@pytest.mark.parametrize("period_key", list(PERIODS))
def test_rows_equal_indicators_for(histories, world, superuser, actor_key, period_key):
    actor = superuser if actor_key == "superuser" else getattr(world.people, actor_key)
    start, end = _bounds(PERIODS[period_key])
    for area_key in AREAS:
        area = getattr(world.tree, area_key) if area_key else None
        for group_by in GROUPS:
            ref = indicators_for(actor, area=area, period_start=start, period_end=end, group_by=group_by)
            ours = _answered_by_rollups(lambda a=area, g=group_by: indicator_sources.indicators(
                actor, area=a, period_start=start, period_end=end, group_by=g))
            assert ours == ref, (actor_key, period_key, area_key, group_by)


def test_each_single_day_equals_indicators_for(histories, world):
    admin = world.people.admin
    for offset in range(-1, 10):
        start, end = _bounds(S.Period(T0.date() + timedelta(days=offset), T0.date() + timedelta(days=offset)))
        for group_by in GROUPS:
            assert indicator_sources.indicators(admin, period_start=start, period_end=end, group_by=group_by) == \
                indicators_for(admin, period_start=start, period_end=end, group_by=group_by), (offset, group_by)


def test_the_fixture_has_every_figure(histories, world):
    """The comparison above would hide a source that answers zeros: the period's figures are not."""
    start, end = _bounds(PERIODS["30 days"])
    [row] = indicator_sources.indicators(world.people.admin, period_start=start, period_end=end)
    for name in ("received", "responded_on_time", "rated", "solved", "satisfied", "basically_satisfied", "closed",
                 "closed_on_time", "overdue_closed", "deferred", "handled", "rework", "should_close"):
        assert getattr(row, name) > 0, name
    assert row.should_close > row.closed  # a case due in the period is still open
    departments = indicator_sources.indicators(world.people.admin, period_start=start, period_end=end,
                                               group_by="department")
    assert {r.label for r in departments} == {world.people.department.name, "—"}


def _api_rows(rows):
    return [{"key": r.key, "label": r.label, **r.rates, "counts": {k: v for k, v in vars(r).items()
                                                                   if isinstance(v, int)}} for r in rows]


@pytest.mark.parametrize("group_by", GROUPS)
def test_page_and_api_show_indicators_for_figures(histories, world, client_for, api_for, group_by):
    admin = world.people.admin
    period = PERIODS["30 days"]
    start, end = _bounds(period)
    query = f"start={period.start}&end={period.end}&area={world.tree.sub1.path}" + (f"&by={group_by}" if group_by
                                                                                     else "")
    page = _answered_by_rollups(lambda: client_for(admin).get(f"/cases/indicators/?{query}"))
    assert page.status_code == 200
    [total] = indicators_for(admin, area=world.tree.sub1, period_start=start, period_end=end)
    assert page.context["total"] == total
    assert page.context["rows"] == indicators_for(admin, area=world.tree.sub1, period_start=start, period_end=end,
                                                  group_by=group_by or "area")
    api = _answered_by_rollups(lambda: api_for(admin).get(f"/api/v1/case-indicators/?{query}"))
    assert api.status_code == 200
    ref = indicators_for(admin, area=world.tree.sub1, period_start=start, period_end=end, group_by=group_by)
    assert api.json()["rows"] == _api_rows(ref)


@pytest.mark.parametrize("group_by", ["area", "department"])
def test_page_counts_no_step_but_the_due_cases(histories, world, client_for, group_by):
    """Thirteen COUNT DISTINCTs over the period's steps (twice: total and rows) became two rollup reads;
    the steps are read once, for 应结案 (dispatches not closed in the period) of the total and the rows."""
    period = PERIODS["30 days"]
    url = f"/cases/indicators/?start={period.start}&end={period.end}&by={group_by}"
    client = client_for(world.people.admin)
    client.get(url)  # the menu's and switcher's first reads
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    steps = [s for s in sql if "cases_casestep" in s]
    assert len(steps) == 1 and "dispatch" in steps[0], steps
    assert len([s for s in sql if "dashboards_daily" in s]) == 2
    # By person the rollups cannot answer: that table's rows count the raw steps, every counter in one pass
    # where it was a pass per counter.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url.replace(group_by, "person")).status_code == 200
    steps = [q["sql"] for q in queries.captured_queries if "cases_casestep" in q["sql"]]
    counters = [s for s in steps if s.count("COUNT(DISTINCT") >= 12]
    assert len(counters) == 1 and len(steps) <= 4, steps  # + the due cases of the total and the rows, the names


def test_person_and_odd_periods_fall_back_to_the_steps(histories, world):
    admin = world.people.admin
    start, end = _bounds(PERIODS["7 days"])
    for kw in (dict(period_start=start, period_end=end, group_by="person"),
               dict(period_start=start + timedelta(hours=9), period_end=end)):  # not a local day's start
        with CaptureQueriesContext(connection) as queries:
            ours = indicator_sources.indicators(admin, **kw)
        assert not any("dashboards_" in q["sql"] for q in queries.captured_queries)
        assert ours == indicators_for(admin, **kw)


def test_a_viewer_sees_only_their_part_of_the_tree(histories, world, client_for, api_for):
    """Community A's dispatcher asking for the district, for community C or for nothing gets community A's
    figures only (as indicators_for scopes them); the outsider (community B, no cases) gets zeros."""
    period = PERIODS["30 days"]
    start, end = _bounds(period)
    comm = world.people.dispatcher_comm
    [own] = indicators_for(comm, area=world.tree.comm_a, period_start=start, period_end=end)
    [everything] = indicators_for(world.people.admin, period_start=start, period_end=end)
    assert 0 < own.received < everything.received
    for code in (world.tree.district.path, world.tree.comm_c.path, ""):
        for by in ("", "area", "department"):
            api = api_for(comm).get(f"/api/v1/case-indicators/?start={period.start}&end={period.end}&area={code}"
                                    f"&by={by}").json()["rows"]
            assert sum(r["counts"]["received"] for r in api) == own.received, (code, by)
            page = client_for(comm).get(f"/cases/indicators/?start={period.start}&end={period.end}&area={code}"
                                        f"&by={by}")
            assert page.context["total"] == own
            assert sum(r.received for r in page.context["rows"]) == own.received
    outsider = world.people.outsider
    for code in (world.tree.district.path, world.tree.comm_a.path, ""):
        page = client_for(outsider).get(f"/cases/indicators/?start={period.start}&end={period.end}&area={code}")
        assert page.status_code == 200
        assert page.context["total"].received == 0 and page.context["rows"] == []
        api = api_for(outsider).get(f"/api/v1/case-indicators/?start={period.start}&end={period.end}&area={code}"
                                    "&by=area").json()["rows"]
        assert api == []
    assert api_for(world.people.grid_worker).get("/api/v1/case-indicators/").status_code == 403


def test_another_time_zone_falls_back(histories, world, settings):
    """Rollup days are Shanghai days: a deployment on another zone counts the steps."""
    settings.TIME_ZONE = "UTC"
    start = dt.datetime(2026, 9, 29, tzinfo=dt.UTC)
    query = indicator_sources.counter_query(world.people.admin, period_start=start,
                                            period_end=start + timedelta(days=7))
    assert query is not None and rollup_indicator_counts(query) is None
