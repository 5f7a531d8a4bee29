import pytest
from django.http import Http404

from yiwang.accounts.selectors import department_list_visible_to, user_list_visible_to
from yiwang.core.scoping import get_visible_or_404
from yiwang.geography.models import Area


def visible(user):
    return set(Area.objects.visible_to(user, "geography.view_area").values_list("name", flat=True))


def test_each_user_sees_exactly_their_subtree(world):
    t, p = world.tree, world.people
    assert visible(p.staff) == {t.comm_a.name, t.grid_a1.name, t.grid_a2.name}
    assert visible(p.grid_worker) == {t.grid_a1.name}
    assert visible(p.dispatcher_sub) == {t.sub1.name, t.comm_a.name, t.comm_b.name, t.grid_a1.name, t.grid_a2.name,
                                         t.grid_b1.name, t.grid_b2.name}
    assert len(visible(p.admin)) == Area.objects.count()


def test_outsiders_residents_and_strangers_see_nothing_of_community_a(world):
    t, p = world.tree, world.people
    assert not visible(p.outsider) & {t.comm_a.name, t.grid_a1.name, t.grid_a2.name}
    assert visible(p.resident) == set() and visible(p.nobody) == set()
    from django.contrib.auth.models import AnonymousUser

    assert Area.objects.visible_to(AnonymousUser(), "geography.view_area").count() == 0
    with pytest.raises(Http404):
        get_visible_or_404(Area.objects, p.outsider, "geography.view_area", pk=t.grid_a1.pk)


def test_inactive_memberships_and_users_grant_nothing(world):
    p = world.people
    p.staff.memberships.update(active=False)
    p.staff._membership_cache = None
    assert visible(p.staff) == set()
    p.admin.is_active = False
    assert visible(p.admin) == set()


def test_users_are_listed_only_within_scope(world):
    p = world.people
    names = set(user_list_visible_to(p.staff).values_list("username", flat=True))
    assert {"staff_a", "wg_a1", "ddy_a"} <= names and "staff_b" not in names and "admin" not in names


def test_departments_serving_an_area_are_visible_to_its_staff(world):
    assert list(department_list_visible_to(world.people.staff)) == [world.people.department]
    assert list(department_list_visible_to(world.people.resident)) == []
