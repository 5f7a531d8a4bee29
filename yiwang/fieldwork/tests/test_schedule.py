"""Visit schedules (per household and per special-group tag), due/overdue lists, coverage."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from yiwang.fieldwork.schedule import household_schedule
from yiwang.fieldwork.selectors import coverage, visits_due
from yiwang.fieldwork.services import visit_record, visit_schedule_set
from yiwang.registry.models import Household, HouseholdMember, ResidentTag, SpecialGroup


def _visit(worker, household, days_ago):
    return visit_record(actor=worker, grid=household.grid, household_id=household.pk,
                        household_label=household.number,
                        visited_at=timezone.now() - dt.timedelta(days=days_ago))


def _tag(household, interval, code="elderly_alone"):
    resident = HouseholdMember.objects.filter(household=household).first().resident
    group = SpecialGroup.objects.filter(code=code).first() or SpecialGroup.objects.create(
        code=code, name="独居老人", sensitivity=1, visit_interval_days=interval)
    return ResidentTag.objects.create(resident=resident, group=group, area_path=household.area_path,
                                      visit_interval_days=interval)


def test_a_tagged_household_is_overdue_after_its_tag_interval(world, field, settings):
    settings.YIWANG_DEFAULT_VISIT_INTERVAL_DAYS = 90
    worker = world.people.grid_worker
    tagged, plain, never = field.households
    _tag(tagged, 7)
    _visit(worker, tagged, 8)
    _visit(worker, plain, 8)
    rows = {r.household_id: r for r in household_schedule(Household.objects.filter(grid=world.tree.grid_a1))}
    assert rows[tagged.pk].interval_days == 7 and rows[tagged.pk].status == "overdue"
    assert rows[plain.pk].interval_days == 90 and rows[plain.pk].status == "ok"
    assert rows[never.pk].status == "due" and rows[never.pk].last_visit is None


def test_an_ended_tag_no_longer_shortens_the_interval(world, field):
    tagged = field.households[0]
    tag = _tag(tagged, 7)
    tag.until = timezone.localdate() - dt.timedelta(days=1)
    tag.save()
    _visit(world.people.grid_worker, tagged, 8)
    rows = {r.household_id: r for r in household_schedule(Household.objects.filter(pk=tagged.pk))}
    assert rows[tagged.pk].status == "ok"


def test_a_household_schedule_overrides_tags_and_is_set_by_staff_only(world, field):
    household = field.households[0]
    _tag(household, 7)
    _visit(world.people.grid_worker, household, 10)
    with pytest.raises(PermissionDenied):
        visit_schedule_set(actor=world.people.grid_worker, household=household, interval_days=30)
    with pytest.raises(PermissionDenied):
        visit_schedule_set(actor=world.people.outsider, household=household, interval_days=30)
    visit_schedule_set(actor=world.people.staff, household=household, interval_days=30, note="子女同住")
    row = household_schedule(Household.objects.filter(pk=household.pk))[0]
    assert row.interval_days == 30 and row.reason == "schedule" and row.status == "ok"


def test_due_lists_only_show_the_workers_own_grid(world, field):
    rows = visits_due(world.people.grid_worker, grid_ids=[world.tree.grid_a1.pk, world.tree.grid_a2.pk])
    assert {r.household_id for r in rows} == {h.pk for h in field.households}


def test_restricted_group_names_are_hidden_from_the_grid_worker(world, field):
    household = field.households[0]
    _tag(household, 3, code="community_correction_test")
    SpecialGroup.objects.filter(code="community_correction_test").update(sensitivity=3, name="社区矫正")
    rows = {r.household_id: r for r in visits_due(world.people.grid_worker, grid_ids=[world.tree.grid_a1.pk])}
    assert rows[household.pk].interval_days == 3 and rows[household.pk].reason == "重点关注"


def test_coverage_counts_households_within_interval_patrols_and_hides_other_communities(world, field):
    worker = world.people.grid_worker
    _visit(worker, field.households[0], 2)
    _visit(worker, field.households[1], 200)  # outside its 90-day interval
    today = timezone.localdate()
    data = coverage(world.people.staff, within=world.tree.comm_a.path, start=today - dt.timedelta(days=29),
                    end=today)
    a1 = next(r for r in data["grids"] if r["grid"] == world.tree.grid_a1)
    assert a1["households"] == 3 and a1["visited_in_interval"] == 1 and a1["visits"] == 1
    assert data["workers"][0]["user"] == worker and data["workers"][0]["visits"] == 1
    outsider = coverage(world.people.outsider, within=world.tree.comm_a.path, start=today, end=today)
    assert outsider["grids"] == [] and outsider["totals"]["households"] == 0


def test_coverage_page_shows_staff_the_visits(world, field, client_for):
    _visit(world.people.grid_worker, field.households[0], 1)
    response = client_for(world.people.staff).get("/m/coverage/")
    assert response.status_code == 200
    body = response.content.decode()
    assert world.tree.grid_a1.name in body and field.households[0].number in body
    assert client_for(world.people.grid_worker).get("/m/coverage/").status_code == 403


def test_the_coverage_summary_equals_the_full_schedule(world, field, settings):
    """schedule_summary (what the coverage page reads: counts per grid, the due count and the first due rows)
    against household_schedule row by row, over households visited recently, long ago, due soon or never,
    with their own interval, a tag's shorter or longer than the default, or neither; cut at several places,
    ties on the due date and interval included."""
    import random
    from collections import Counter

    from yiwang.fieldwork.models import VisitSchedule
    from yiwang.fieldwork.schedule import schedule_summary
    from yiwang.registry.tests.factories import make_household, make_resident

    def make_households(grid, n):
        return [make_household(grid, make_resident(grid, name=f"户主{grid.pk}{i}", birth=dt.date(1960, 1, 1 + i)),
                               number=f"S{grid.pk}-{i:03d}") for i in range(n)]

    settings.YIWANG_DEFAULT_VISIT_INTERVAL_DAYS = 90
    rng = random.Random(7)
    worker = world.people.grid_worker
    homes = field.households + [field.other_household] + make_households(world.tree.grid_a1, 14) + make_households(
        world.tree.grid_a2, 10)
    for home in homes:
        interval = rng.choice(["own7", "own200", "tag7", "tag180", None, None, None])
        if interval and interval.startswith("own"):
            VisitSchedule.objects.create(household=home, area_path=home.area_path, interval_days=int(interval[3:]),
                                         set_by=world.people.staff)
        elif interval:
            _tag(home, int(interval[3:]), code=f"g{interval[3:]}")
        days_ago = rng.choice([None, None, 1, 6, 88, 89, 92, 150, 199, 400])
        if days_ago is not None and home.grid_id == world.tree.grid_a1.pk:  # the worker's grid (A2's: never visited)
            _visit(worker, home, days_ago)
    scope = Household.objects.filter(grid__in=[world.tree.grid_a1, world.tree.grid_a2])
    rows = household_schedule(scope)
    due = [row.as_json() for row in rows if row.status != "ok"]
    assert 10 < len(due) < len(rows)  # some of each
    for first in (1, 3, 7, 20, 1000):
        summary = schedule_summary(scope, first=first)
        assert summary.households == dict(Counter(row.grid_id for row in rows))
        assert summary.in_interval == dict(Counter(row.grid_id for row in rows
                                                   if row.last_visit and row.status != "overdue"))
        assert summary.due_count == len(due)
        assert [row.as_json() for row in summary.due] == due[:first]
