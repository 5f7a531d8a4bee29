from yiwang.geography.models import AreaLevel


def grid_names(response):
    return {f["properties"]["name"] for f in response.json()["features"] if f["properties"]["level"] == "grid"}


def test_map_data_shows_only_the_viewers_part_of_the_tree(world, client_for):
    t = world.tree
    staff = grid_names(client_for(world.people.staff).get("/geo/map/data/"))
    assert staff == {t.grid_a1.name, t.grid_a2.name}
    everyone = grid_names(client_for(world.people.admin).get("/geo/map/data/"))
    assert len(everyone) == 6
    sub = grid_names(client_for(world.people.dispatcher_sub).get("/geo/map/data/"))
    assert sub == {t.grid_a1.name, t.grid_a2.name, t.grid_b1.name, t.grid_b2.name}


def test_area_switcher_narrows_the_map_and_refuses_foreign_areas(world, client_for):
    client = client_for(world.people.admin)
    client.post("/accounts/area/", {"area": world.tree.comm_c.pk, "next": "/geo/map/"})
    assert grid_names(client.get("/geo/map/data/")) == {world.tree.grid_c1.name, world.tree.grid_c2.name}
    staff = client_for(world.people.staff)
    response = staff.post("/accounts/area/", {"area": world.tree.comm_b.pk, "next": "/geo/map/"}, follow=True)
    assert "不可用" in response.content.decode()
    assert grid_names(staff.get("/geo/map/data/")) == {world.tree.grid_a1.name, world.tree.grid_a2.name}


def test_grid_detail_shows_staff_buildings_and_counts(world, client_for):
    from yiwang.geography.tests.factories import BuildingFactory

    BuildingFactory(grid=world.tree.grid_a1, name="甲一号楼")
    html = client_for(world.people.staff).get(f"/geo/areas/{world.tree.grid_a1.pk}/").content.decode()
    assert "甲一号楼" in html and world.people.grid_worker.display_name in html
    assert world.tree.grid_a1.code in html


def test_map_page_is_chinese_by_default_and_english_on_request(world, client_for):
    client = client_for(world.people.staff)
    assert "地图" in client.get("/geo/map/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/geo/map/"})
    assert "Export areas as GeoJSON" in client.get("/geo/map/").content.decode()


def test_levels_have_chinese_labels():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert str(AreaLevel.GRID.label) == "网格"


def test_area_switcher_offers_subdistricts_and_communities_below_the_users_area(world, client_for):
    from yiwang.accounts.selectors import switchable_areas

    names = [a.name for a in switchable_areas(world.people.admin)]
    assert names[0] == world.tree.district.name and world.tree.comm_c.name in names
    assert world.tree.grid_a1.name not in names
    assert [a.name for a in switchable_areas(world.people.grid_worker)] == [world.tree.grid_a1.name]
    assert switchable_areas(world.people.outsider) == [world.tree.comm_b]


def test_residents_land_on_a_page_of_what_they_may_do(world, client_for):
    response = client_for(world.people.resident).get("/")
    assert response.status_code == 200 and "欢迎" in response.content.decode()
    assert client_for(world.people.staff).get("/")["Location"] == "/geo/map/"
