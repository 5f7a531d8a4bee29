"""The menu and the area switcher: what each role sees, and that the frame kept rendered per process
follows every change on the next request."""

import re

import pytest
from django.db.models import Q

from yiwang.accounts.models import Membership
from yiwang.accounts.roles import VIEW_AREA, Role
from yiwang.accounts.selectors import switchable_areas
from yiwang.accounts.tests.factories import UserFactory
from yiwang.core import navigation
from yiwang.geography.models import Area, AreaLevel
from yiwang.geography.tests.factories import make_area


def test_menu_shows_only_what_the_role_may_use_and_groups_system_pages(world, client_for):
    staff_html = client_for(world.people.staff).get("/geo/map/").content.decode()
    admin_html = client_for(world.people.admin).get("/geo/map/").content.decode()
    assert "/audit/" not in staff_html and "/geo/import/" not in staff_html
    assert "/audit/" in admin_html and "/geo/import/" in admin_html
    menus = [chunk.split("</details>")[0] for chunk in admin_html.split("<summary")[1:]]
    system_menu = next(menu for menu in menus if "系统" in menu.split("</summary>")[0])
    assert "系统" in system_menu and "/audit/" in system_menu and "/accounts/tokens/" in system_menu


# -- the frame is kept rendered per process, keyed by what it shows: changes show on the next request ----




def menu_links(html: str) -> set[str]:
    nav = html.split('<nav class="container-fluid">')[1].split("</ul>\n    <ul>")[0]
    return set(re.findall(r'href="([^"]+)"', nav))


def switcher(html: str) -> list[str]:
    select = html.split('<select name="area"')[1].split("</select>")[0] if '<select name="area"' in html else ""
    return [name.replace("&nbsp;", "") for name in re.findall(r"<option[^>]*>([^<]*)</option>", select)]


def test_a_role_change_and_a_removed_membership_show_on_the_next_request(world, client_for):
    staff = world.people.staff
    client = client_for(staff)
    assert "/audit/" not in menu_links(client.get("/geo/map/").content.decode())
    Membership.objects.filter(user=staff).update(role=Role.ADMIN)
    assert "/audit/" in menu_links(client.get("/geo/map/").content.decode())
    Membership.objects.filter(user=staff).update(role=Role.STAFF)
    links = menu_links(client.get("/geo/map/").content.decode())
    assert "/audit/" not in links and "/geo/map/" in links
    Membership.objects.filter(user=staff).update(active=False)
    html = client.get("/accounts/tokens/").content.decode()
    assert "/geo/map/" not in menu_links(html) and "/accounts/tokens/" in menu_links(html)


def test_a_menu_entry_registered_again_with_another_permission_shows_on_the_next_request(world, client_for):
    original = navigation._entries["audit"]
    client = client_for(world.people.staff)
    assert "/audit/" not in menu_links(client.get("/geo/map/").content.decode())
    try:
        navigation.register_nav("audit", original.label, original.url_name, VIEW_AREA, order=original.order,
                                group=original.group)
        assert "/audit/" in menu_links(client.get("/geo/map/").content.decode())
    finally:
        navigation.register_nav("audit", original.label, original.url_name, original.perm, order=original.order,
                                group=original.group)
    assert "/audit/" not in menu_links(client.get("/geo/map/").content.decode())


def test_the_active_entry_and_the_language_are_part_of_the_menu(world, client_for):
    client = client_for(world.people.admin)
    on_map = client.get("/geo/map/").content.decode()
    assert re.search(r'href="/geo/map/" aria-current="page"', on_map)
    on_audit = client.get("/audit/").content.decode()
    assert not re.search(r'href="/geo/map/" aria-current="page"', on_audit)
    assert re.search(r'href="/audit/" aria-current="page"', on_audit)
    english = client.get("/geo/map/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Audit log" in english and "审计日志" not in english


def test_the_switcher_shows_renamed_new_and_lost_areas_on_the_next_request(world, client_for):
    admin = world.people.admin
    client = client_for(admin)
    assert world.tree.comm_a.name in switcher(client.get("/geo/map/").content.decode())
    Area.objects.filter(pk=world.tree.comm_a.pk).update(name="新甲社区")  # no signal: nothing kept to clear
    names = switcher(client.get("/geo/map/").content.decode())
    assert "新甲社区" in names and world.tree.comm_a.name not in names
    make_area(AreaLevel.COMMUNITY, world.tree.sub2, "丁社区", street=2, community=9)
    assert "丁社区" in switcher(client.get("/geo/map/").content.decode())
    Membership.objects.filter(user=admin).update(area=world.tree.sub2)
    names = switcher(client.get("/geo/map/").content.decode())
    assert "丁社区" in names and "新甲社区" not in names


def test_the_selected_area_is_part_of_the_switcher(world, client_for):
    client = client_for(world.people.admin)
    client.post("/accounts/area/", {"area": world.tree.comm_b.pk, "next": "/geo/map/"})
    html = client.get("/geo/map/").content.decode()
    assert f'<option value="{world.tree.comm_b.pk}" selected>' in html
    client.post("/accounts/area/", {"area": world.tree.comm_c.pk, "next": "/geo/map/"})
    html = client.get("/geo/map/").content.decode()
    assert f'<option value="{world.tree.comm_c.pk}" selected>' in html
    assert f'<option value="{world.tree.comm_b.pk}" selected>' not in html


@pytest.mark.parametrize("who", ["admin", "staff", "outsider", "grid_worker", "nobody", "two", "nested", "root"])
def test_switchable_areas_equal_the_orm(world, who):
    if who == "two":
        user = UserFactory(username="two")
        Membership.objects.create(user=user, area=world.tree.comm_a, role=Role.STAFF)
        Membership.objects.create(user=user, area=world.tree.grid_c1, role=Role.GRID_WORKER)
    elif who == "nested":
        user = UserFactory(username="nested")
        Membership.objects.create(user=user, area=world.tree.sub1, role=Role.DISPATCHER)
        Membership.objects.create(user=user, area=world.tree.grid_a1, role=Role.GRID_WORKER)
    elif who == "root":
        user = UserFactory(username="root_switch", is_superuser=True)
    else:
        user = getattr(world.people, who)
    tops = set(user.scope_paths(VIEW_AREA) or [])
    orm = list(Area.objects.visible_to(user, VIEW_AREA).filter(Q(level__lte=AreaLevel.COMMUNITY) | Q(path__in=tops))
               .order_by("path").values_list("pk", "name", "level", "path"))
    got = [(a.pk, a.name, a.level, a.path) for a in switchable_areas(user)]
    assert got == orm
    assert bool(got) == (who != "nobody")
