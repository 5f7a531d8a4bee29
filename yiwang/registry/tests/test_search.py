"""resident_search runs its stages through queries compiled once per process (core.prepared): it must
answer exactly what the ORM answers for every shape of scope, stage, `within` and limit."""

import datetime as dt

import pytest

from yiwang.accounts.models import Membership
from yiwang.accounts.roles import Role
from yiwang.accounts.tests.factories import UserFactory
from yiwang.registry import selectors
from yiwang.registry.models import ResidentTag, SpecialGroup
from yiwang.registry.tests.factories import id_number, make_resident

pytestmark = pytest.mark.django_db

FIELDS = selectors.SEARCH_FIELDS


def orm_search(actor, query, *, limit=20, within=None):
    """The search as plain ORM querysets, one per stage (what resident_search did before it was compiled)."""
    residents = selectors.resident_list_visible_to(actor, within=within).only(*FIELDS).order_by()
    hits, seen = [], set()
    for stage in selectors._search_stages(actor, query):
        for hit in residents.filter(stage.as_q())[:limit]:
            if hit.pk not in seen:
                seen.add(hit.pk)
                hits.append(hit)
        if len(hits) >= limit:
            break
    return hits[:limit]


def as_rows(residents):
    return [tuple(getattr(r, name if name not in ("grid", "dwelling") else f"{name}_id") for name in FIELDS)
            for r in residents]


@pytest.fixture
def residents(world):
    """Residents in communities A, B and C with names, initials, addresses, IDs and phones to find."""
    t = world.tree
    made = {}
    for i, (grid, name) in enumerate([(t.grid_a1, "王小明"), (t.grid_a1, "王小红"), (t.grid_a2, "王晓"),
                                      (t.grid_b1, "王五"), (t.grid_c1, "王六"), (t.grid_a2, "李娜"),
                                      (t.grid_b1, "林楠"), (t.grid_a1, "%王"), (t.grid_c1, "王_")]):
        made[name] = make_resident(grid, name, id_no=id_number(dt.date(1970 + i, 3, 4), "F"),
                                   phone=f"1381234{5670 + i}", address=f"永宁路{i}号")
    return made


def users(world):
    p = world.people
    two = UserFactory(username="two_communities")
    Membership.objects.create(user=two, area=world.tree.comm_a, role=Role.STAFF)
    Membership.objects.create(user=two, area=world.tree.comm_c, role=Role.STAFF)
    nested = UserFactory(username="nested")  # the district covers the community: one prefix
    Membership.objects.create(user=nested, area=world.tree.district, role=Role.DISPATCHER)
    Membership.objects.create(user=nested, area=world.tree.comm_a, role=Role.STAFF)
    root = UserFactory(username="root_search", is_superuser=True)
    gone = UserFactory(username="gone", is_active=False)
    Membership.objects.create(user=gone, area=world.tree.district, role=Role.DISPATCHER)
    return [p.staff, p.outsider, p.dispatcher_district, p.dispatcher_sub, p.grid_worker, p.nobody, two, nested, root,
            gone]


def test_compiled_search_equals_the_orm_for_every_shape(world, residents):
    group = SpecialGroup.objects.first() or SpecialGroup.objects.create(code="t1", name="独居老人")
    ResidentTag.objects.create(resident=residents["王小明"], group=group, area_path=residents["王小明"].area_path,
                               visit_interval_days=30)
    selectors.forget_special_group_names()
    queries = ["王", "王小", "李", "wxm", "wx", "w", "ln", "lina", "wangxiao", "永宁路", "永宁路3",
               "13812345675", "138 1234 5675",
               "%", "_", "王_", "%王", "w%", group.name, "nobody-here", ""]
    numbers = [id_number(dt.date(1970 + i, 3, 4), "F") for i in range(9)]
    everyone = users(world)
    seen_any = set()
    for actor in everyone:
        for query in queries + numbers[:3] + [numbers[4].lower()]:
            for limit in (20, 1, 2):
                for within in (None, world.tree.comm_a.path, world.tree.sub2.path):
                    got = selectors.resident_search(actor, query, limit=limit, within=within)
                    assert as_rows(got) == as_rows(orm_search(actor, query, limit=limit, within=within)), (
                        actor.username, query, limit, within)
                    seen_any.update(r.pk for r in got)
    # The comparison meant something: people were found, and the outsider never sees community A.
    assert {residents[n].pk for n in ("王小明", "王五", "王六", "李娜", "%王", "王_")} <= seen_any
    outsider = world.people.outsider
    assert [r.name for r in selectors.resident_search(outsider, "王")] == ["王五"]
    assert selectors.resident_search(outsider, numbers[0]) == []
    assert selectors.resident_search(world.people.nobody, "王") == []


def test_literal_wildcards_and_values_are_swapped_in_each_call(world, residents):
    staff = world.people.staff
    assert [r.name for r in selectors.resident_search(staff, "%")] == ["%王"]
    assert selectors.resident_search(staff, "王_") == []  # 王_ lives in community C
    assert {r.name for r in selectors.resident_search(staff, "王小")} == {"王小明", "王小红"}
    assert [r.name for r in selectors.resident_search(staff, "李")] == ["李娜"]
    assert [r.name for r in selectors.resident_search(staff, "13812345675")] == ["李娜"]
    found = selectors.resident_search(staff, "ln")[0]
    assert (found.name, found.phone_masked, found.area_path) == ("李娜", "138****5675", world.tree.grid_a2.path)
    assert found.get_deferred_fields() >= {"id_cipher", "phone_cipher", "id_hash"}


def test_removed_membership_counts_at_once(world, residents):
    staff = world.people.staff
    assert selectors.resident_search(staff, "李")
    Membership.objects.filter(user=staff).update(active=False)
    staff.refresh_from_db()
    staff._membership_cache = None
    assert selectors.resident_search(staff, "李") == []
