"""The registry map's building layer: what the map's view (bbox) holds, with dwelling and resident counts,
at most selectors.BUILDINGS_IN_VIEW buildings; beyond that a count and no features; bad bboxes refused."""

import pytest
from django.urls import reverse

from yiwang.geography.models import Building
from yiwang.registry import selectors

from .factories import make_dwelling, make_resident

pytestmark = pytest.mark.django_db

URL = reverse("registry:map_buildings")


@pytest.fixture
def blocks(world):
    """Buildings in grid A1 on a line of longitudes 111.100, 111.101, ...; the first two with dwellings and
    residents, and one in community B (A1's staff do not see it)."""
    grid = world.tree.grid_a1
    made = [Building.objects.create(grid=grid, number=f"B{i}", name=f"{i}号楼", address=f"永宁路{i}号",
                                    lon=111.100 + i / 1000, lat=37.52) for i in range(6)]
    for building, people in ((made[0], 3), (made[1], 1)):
        dwelling = make_dwelling(building)
        for n in range(people):
            make_resident(grid, name=f"住户{building.number}{n}", dwelling=dwelling)
    outside = Building.objects.create(grid=world.tree.grid_b1, number="X1", name="外楼", address="外", lon=111.1005,
                                      lat=37.52)
    return made, outside


def _features(client, bbox=None):
    response = client.get(URL, {"bbox": bbox} if bbox else {})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_view_holds_its_buildings_with_their_counts(world, blocks, client_for):
    made, outside = blocks
    client = client_for(world.people.staff)
    data = _features(client, "111.0995,37.51,111.1015,37.53")  # the first two only
    by_name = {f["properties"]["name"]: f["properties"] for f in data["features"]}
    assert set(by_name) == {"0号楼", "1号楼"}
    assert (by_name["0号楼"]["dwellings"], by_name["0号楼"]["residents"]) == (1, 3)
    assert (by_name["1号楼"]["dwellings"], by_name["1号楼"]["residents"]) == (1, 1)
    everything = {f["properties"]["name"] for f in _features(client)["features"]}
    assert {b.name for b in made} <= everything and outside.name not in everything


def test_a_crowded_view_answers_how_many_and_no_features(world, blocks, client_for, monkeypatch):
    monkeypatch.setattr(selectors, "BUILDINGS_IN_VIEW", 3)
    client = client_for(world.people.staff)
    data = _features(client, "111.0,37.0,111.2,38.0")
    assert data["features"] == [] and data["more"] == 6
    assert len(_features(client, "111.0995,37.51,111.1025,37.53")["features"]) == 3  # at the limit: shown


@pytest.mark.parametrize("bbox", ["111,37,112", "a,b,c,d", "112,37,111,38", "111,95,112,96"])
def test_a_bad_bbox_is_refused_with_a_message(world, client_for, bbox):
    response = client_for(world.people.staff).get(URL, {"bbox": bbox}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and "bbox" in response.json()["error"]


def test_an_outsider_sees_none_of_the_areas_buildings(world, blocks, client_for):
    _made, outside = blocks
    names = {f["properties"]["name"] for f in _features(client_for(world.people.outsider), "111.0,37.0,111.2,38.0")
             ["features"]}
    assert names == {outside.name}  # community B's own building only


def test_the_map_opens_where_the_areas_buildings_are(world, blocks, client_for):
    page = client_for(world.people.staff).get(reverse("registry:map")).content.decode()
    bounds = [float(v) for v in page.split('data-bounds="')[1].split('"')[0].split(",")]
    assert bounds == pytest.approx([37.52, 111.1, 37.52, 111.105])  # south, west, north, east of A's six buildings
    assert selectors.building_extent(world.people.nobody) is None
