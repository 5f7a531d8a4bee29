"""Intake keeps the categories and dispatch rules per process (services.REFERENCE, core.refcache): an
administrator's change (a new rule, a category re-coded or retired) counts from the next report, at once
in the process that made it and, in the others, once the signature has been checked again."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.tests.factories import DepartmentFactory
from yiwang.cases.models import Category, Channel, DispatchRule
from yiwang.cases.services import REFERENCE, case_create
from yiwang.core import refcache

from .factories import BIN_LAT, BIN_LON


def report(world, code, key):
    return case_create(actor=world.people.grid_worker, channel=Channel.GRID_WORKER, category=code, lon=BIN_LON,
                       lat=BIN_LAT, description="垃圾桶满溢", idempotency_key=key)


def rejected(world, code, key) -> str:
    with pytest.raises(ValidationError) as caught:
        report(world, code, key)
    return " ".join(caught.value.message_dict["category"])


def _reference_reads(queries) -> int:
    return sum('FROM "cases_category"' in q["sql"] or "cases_dispatchrule" in q["sql"] and "WHERE" not in q["sql"]
               for q in queries)


def test_admin_changes_count_on_the_next_report(world, cats):
    assert report(world, "200102", "r-1").department == world.people.department
    with CaptureQueriesContext(connection) as ctx:
        report(world, "200102", "r-2")
    assert _reference_reads(ctx.captured_queries) == 0  # kept: neither the categories nor the rules read
    other = DepartmentFactory(name="住建局", area=world.tree.district)
    DispatchRule.objects.create(category=cats.garbage, department=other, auto=True)
    assert report(world, "200102", "r-3").department == other
    cats.garbage.code = "200199"
    cats.garbage.save()
    assert "200102" in rejected(world, "200102", "r-4")
    assert report(world, "200199", "r-5").category_id == cats.garbage.pk
    cats.garbage.active = False
    cats.garbage.save()
    assert "停用" in rejected(world, "200199", "r-6")  # "no longer in use"


@pytest.fixture
def clock(monkeypatch):
    """The cache's clock, moved on by hand past its re-check interval."""
    now = [1000.0]
    monkeypatch.setattr(refcache, "monotonic", lambda: now[0])

    def later(seconds=REFERENCE.recheck_seconds + 0.5):
        now[0] += seconds

    return later


# Writes as another process makes them: the rows change (and updated_at, as Model.save() sets it) without
# any signal in this process.
def insert_elsewhere(**fields) -> int:
    [rule] = DispatchRule.objects.bulk_create([DispatchRule(**fields)])
    return rule.pk


def update_elsewhere(category, **fields) -> None:
    Category.objects.filter(pk=category.pk).update(**fields, updated_at=timezone.now())


def delete_elsewhere(rule_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DispatchRule._meta.db_table} WHERE id = %s", [rule_id])


def test_changes_made_in_another_process_count_after_the_recheck(world, cats, clock):
    other = DepartmentFactory(name="住建局", area=world.tree.district)
    assert report(world, "200102", "e-1").department == world.people.department
    insert_elsewhere(category=cats.garbage, department=other, auto=True)
    # Within the interval the kept rules still answer (what makes the checks below meaningful)...
    assert report(world, "200102", "e-2").department == world.people.department
    clock()
    assert report(world, "200102", "e-3").department == other  # ...and after it, the new rule
    update_elsewhere(cats.garbage, code="200199")
    assert report(world, "200102", "e-4").category_id == cats.garbage.pk
    clock()
    assert "200102" in rejected(world, "200102", "e-5")
    assert report(world, "200199", "e-6").category_id == cats.garbage.pk
    update_elsewhere(cats.garbage, active=False)
    clock()
    assert "停用" in rejected(world, "200199", "e-7")


def test_a_rule_deleted_or_a_department_retired_in_another_process_counts_after_the_recheck(world, cats, clock):
    other = DepartmentFactory(name="住建局", area=world.tree.district)
    specific = insert_elsewhere(category=cats.garbage, department=other, auto=True)
    clock()
    assert report(world, "200102", "d-1").department == other
    delete_elsewhere(specific)
    assert report(world, "200102", "d-2").department == other  # within the interval: the kept rules
    clock()
    assert report(world, "200102", "d-3").department == world.people.department  # the broader rule applies
    # A department retired elsewhere is not dispatched to automatically any more (the case waits at the centre).
    from yiwang.accounts.models import Department

    Department.objects.filter(pk=world.people.department.pk).update(active=False, updated_at=timezone.now())
    clock()
    assert report(world, "200102", "d-4").department is None


def test_the_people_told_of_a_new_case_follow_membership_changes(world, cats, clock):
    """A new case is announced to the dispatchers of its community: one added or removed counts from the
    next report in this process, and within the re-check interval when another process made the change."""
    from yiwang.accounts.models import Membership
    from yiwang.accounts.tests.factories import UserFactory
    from yiwang.notifications.models import Notification

    case = report(world, "200102", "n-1")
    centre = case.area_path[:12]
    told = set(Notification.objects.filter(link=f"/cases/{case.pk}/", kind="cases.create").values_list("user_id", flat=True))
    assert told  # the community's dispatchers
    newcomer = UserFactory()
    area = world.tree.district.__class__.objects.get(path=centre)
    Membership.objects.create(user=newcomer, area=area, role="dispatcher")
    case = report(world, "200102", "n-2")
    assert newcomer.pk in set(Notification.objects.filter(link=f"/cases/{case.pk}/").values_list("user_id", flat=True))
    # Ended in another process (no signal here): still told within the interval, not after it.
    Membership.objects.filter(user=newcomer).update(active=False, updated_at=timezone.now())
    case = report(world, "200102", "n-3")
    assert newcomer.pk in set(Notification.objects.filter(link=f"/cases/{case.pk}/").values_list("user_id", flat=True))
    clock()
    case = report(world, "200102", "n-4")
    assert newcomer.pk not in set(Notification.objects.filter(link=f"/cases/{case.pk}/").values_list("user_id",
                                                                                                     flat=True))


def test_a_category_handed_out_does_not_change_the_kept_one(world, cats):
    first = report(world, "200102", "m-1")
    first.category.handling_modes[0]["limit"] = 99
    assert report(world, "200102", "m-2").category.handling_modes[0]["limit"] == 4
