"""accounts.selectors: the queue's department choices, read through queries compiled once per process,
equal the ORM's department_list_visible_to for every shape of a user's areas."""

import pytest

from yiwang.accounts.models import Department, Membership
from yiwang.accounts.roles import Role
from yiwang.accounts.selectors import active_department_choices, department_list_visible_to
from yiwang.accounts.tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db


def orm_choices(user):
    return list(department_list_visible_to(user).filter(active=True).values_list("id", "name"))


def test_department_choices_equal_the_orm_for_every_shape(world):
    t = world.tree
    for area in (t.district, t.sub1, t.sub2, t.comm_a, t.comm_b, t.comm_c, t.grid_a1, t.grid_c1):
        DepartmentFactory(name=f"{area.name}部门", area=area)
    DepartmentFactory(name="停用部门", area=t.comm_a, active=False)
    two = UserFactory(username="two_places")
    Membership.objects.create(user=two, area=t.comm_a, role=Role.STAFF)
    Membership.objects.create(user=two, area=t.grid_c1, role=Role.GRID_WORKER)
    root = UserFactory(username="root_dept", is_superuser=True)
    gone = UserFactory(username="gone_dept", is_active=False)
    Membership.objects.create(user=gone, area=t.district, role=Role.ADMIN)
    p = world.people
    for user in (p.admin, p.dispatcher_sub, p.dispatcher_comm, p.staff, p.outsider, p.grid_worker, p.handler,
                 p.resident, p.nobody, two, root, gone):
        assert active_department_choices(user) == orm_choices(user), user.username
    names = {name for _pk, name in active_department_choices(p.staff)}
    # Community A's staff: their community and grids, and the levels above; not community B's, nor inactive.
    assert {"甲社区部门", "一号街道部门", "测试区部门"} <= names
    assert "乙社区部门" not in names and "停用部门" not in names
    assert active_department_choices(p.nobody) == [] and active_department_choices(gone) == []
    assert len(active_department_choices(root)) == Department.objects.filter(active=True).count()
