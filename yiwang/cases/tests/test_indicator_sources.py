"""The indicators' source registry: what a registered source is asked (the viewer's scope as area paths,
local days, the grouping), how its answer becomes rows, and the fallback to the raw steps. (The
dashboards' rollup source, and the page and API reading it, are tested in
yiwang/dashboards/tests/test_indicator_source.py.)"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from yiwang.cases import indicator_sources
from yiwang.cases.indicator_sources import CounterQuery
from yiwang.cases.selectors import ROW_COUNTERS, indicators_for
from yiwang.cases.services import case_create

from .factories import BIN_LAT, BIN_LON

SH = ZoneInfo("Asia/Shanghai")
START, END = datetime(2026, 9, 1, tzinfo=SH), datetime(2026, 10, 1, tzinfo=SH)


class FakeSource:
    """Answers every query with `received` = 5 per key it is told to give."""

    def __init__(self, keys=("",)):
        self.keys, self.asked = keys, []

    def __call__(self, query):
        self.asked.append(query)
        return {key: {"received": 5} for key in self.keys}


@pytest.fixture
def sources(monkeypatch):
    registered = []
    monkeypatch.setattr(indicator_sources, "_SOURCES", registered)
    return registered


@pytest.fixture
def open_case(world, cats):
    """Dispatched by rule on 2 Sep and never handled: due in September, so 应结案 counts it."""
    return case_create(actor=world.people.grid_worker, channel="grid_worker", category=cats.garbage, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾", now=datetime(2026, 9, 2, 9, tzinfo=SH))


def test_without_a_source_the_steps_are_counted(world, sources, open_case):
    rows = indicator_sources.indicators(world.people.admin, period_start=START, period_end=END)
    assert rows == indicators_for(world.people.admin, period_start=START, period_end=END)
    assert rows[0].received == 1


def test_the_source_is_asked_for_the_viewers_part_of_the_tree(world, sources):
    fake = FakeSource()
    indicator_sources.register_indicator_source(fake)
    indicator_sources.register_indicator_source(fake)  # once is enough
    assert sources == [fake]
    tree, people = world.tree, world.people
    cases = [  # (actor, area asked for, group_by) -> paths, group
        ((people.admin, None, None), ((tree.district.path,), None)),
        ((people.dispatcher_comm, tree.district, "area"), ((tree.comm_a.path,), "area:9")),
        ((people.dispatcher_comm, None, "area"), ((tree.comm_a.path,), "area:9")),
        ((people.dispatcher_sub, tree.comm_a, "department"), ((tree.comm_a.path,), "department")),
        ((people.admin, tree.grid_a1, "area"), ((tree.grid_a1.path,), "area:15")),
        ((people.outsider, None, None), ((tree.comm_b.path,), None)),
    ]
    for (actor, area, group_by), (paths, group) in cases:
        fake.asked.clear()
        indicator_sources.indicators(actor, area=area, period_start=START, period_end=END, group_by=group_by)
        assert fake.asked == [CounterQuery(paths=paths, first_day=date(2026, 9, 1), last_day=date(2026, 9, 30),
                                           group=group)], (actor, area, group_by)


def test_the_answer_becomes_rows_with_the_due_cases_counted_from_the_steps(world, sources, open_case):
    fake = FakeSource()
    indicator_sources.register_indicator_source(fake)
    [row] = indicator_sources.indicators(world.people.admin, period_start=START, period_end=END)
    assert row.received == 5  # the source's figure, not the one case of the steps
    assert row.should_close == 1 and row.closed == 0 and row.rates["closure_rate"] == 0.0
    assert all(getattr(row, name) == 0 for name in ROW_COUNTERS if name != "received")
    by_area = FakeSource(keys=(world.tree.sub1.path, world.tree.sub2.path))
    sources[:] = [by_area]
    rows = indicator_sources.indicators(world.people.admin, period_start=START, period_end=END, group_by="area")
    assert [(r.key, r.label, r.received) for r in rows] == [(world.tree.sub1.path, world.tree.sub1.name, 5),
                                                            (world.tree.sub2.path, world.tree.sub2.name, 5)]


def test_what_a_source_cannot_answer_is_counted_from_the_steps(world, sources, open_case):
    fake = FakeSource()
    indicator_sources.register_indicator_source(fake)
    admin = world.people.admin
    for kw in (dict(period_start=START, period_end=END, group_by="person"),
               dict(period_start=START + timedelta(hours=9), period_end=END),  # not a local day's start
               dict(period_start=START.astimezone(ZoneInfo("UTC")) + timedelta(hours=8), period_end=END)):
        assert indicator_sources.indicators(admin, **kw) == indicators_for(admin, **kw)
    assert fake.asked == []
    # A source that declines is passed over too.
    sources[:] = [lambda query: None]
    assert indicator_sources.indicators(admin, period_start=START, period_end=END)[0].received == 1


def test_outsider_and_areas_outside_the_scope_count_nothing(world, sources, open_case):
    fake = FakeSource()
    indicator_sources.register_indicator_source(fake)
    outsider, comm = world.people.outsider, world.people.dispatcher_comm
    for actor, area in ((outsider, world.tree.comm_a), (outsider, world.tree.grid_a1), (comm, world.tree.comm_c)):
        for group_by in (None, "area", "department"):
            rows = indicator_sources.indicators(actor, area=area, period_start=START, period_end=END,
                                                group_by=group_by)
            assert rows == indicators_for(actor, area=area, period_start=START, period_end=END, group_by=group_by)
            assert all(r.received == 0 and r.should_close == 0 for r in rows)
    assert fake.asked == []
    for actor in (world.people.nobody, world.people.grid_worker):  # no cases.view_indicators anywhere
        assert indicator_sources.indicators(actor, period_start=START, period_end=END) == []
    assert fake.asked == []
