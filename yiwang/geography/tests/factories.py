"""Test data for the area tree: rectangles near Lishi that tile exactly."""

import factory

from yiwang.geography.models import Area, AreaLevel, Building
from yiwang.geography.services import centroid_of

X0, Y0 = 111.10, 37.50  # south-west corner of the test district
STEP = 0.01


def rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


def make_area(level, parent, name, street=0, community=0, grid=0, boundary=None, division="141102") -> Area:
    area = Area(level=level, parent=parent, name=name, division_code=division, street_no=street,
                community_no=community, grid_no=grid, boundary=boundary, households_estimate=300)
    if boundary:
        area.centroid_lon, area.centroid_lat = centroid_of(boundary)
    area.save()
    return area


class BuildingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Building

    number = factory.Sequence(lambda n: str(n + 1))
    name = factory.LazyAttribute(lambda o: f"{o.number}号楼")
    address = factory.LazyAttribute(lambda o: f"离石区测试路{o.number}号")
    lon = factory.LazyAttribute(lambda o: o.grid.centroid_lon or X0)
    lat = factory.LazyAttribute(lambda o: o.grid.centroid_lat or Y0)


def build_tree():
    """District 测试区 > 2 subdistricts > communities A, B (sub 1) and C (sub 2) > 2 grids each.

    Coordinates: each community is a 2 x 1 block of 0.01-degree grid squares, side by side.
    Returns a dict of areas by short key: district, sub1, sub2, comm_a, comm_b, comm_c,
    grid_a1, grid_a2, grid_b1, grid_b2, grid_c1, grid_c2.
    """
    t = {}
    t["district"] = make_area(AreaLevel.DISTRICT, None, "测试区", boundary=rect(X0, Y0, X0 + 6 * STEP, Y0 + STEP))
    t["sub1"] = make_area(AreaLevel.SUBDISTRICT, t["district"], "一号街道", street=1,
                          boundary=rect(X0, Y0, X0 + 4 * STEP, Y0 + STEP))
    t["sub2"] = make_area(AreaLevel.SUBDISTRICT, t["district"], "二号街道", street=2,
                          boundary=rect(X0 + 4 * STEP, Y0, X0 + 6 * STEP, Y0 + STEP))
    layout = [("a", "sub1", 1, 1, 0), ("b", "sub1", 1, 2, 2), ("c", "sub2", 2, 1, 4)]
    names = {"a": "甲社区", "b": "乙社区", "c": "丙社区"}
    for key, sub, street, number, col in layout:
        x = X0 + col * STEP
        community = make_area(AreaLevel.COMMUNITY, t[sub], names[key], street=street, community=number,
                              boundary=rect(x, Y0, x + 2 * STEP, Y0 + STEP))
        t[f"comm_{key}"] = community
        for g in (1, 2):
            gx = x + (g - 1) * STEP
            grid = make_area(AreaLevel.GRID, community, f"{names[key][0]}{g}网格", street=street, community=number,
                             grid=g, boundary=rect(gx, Y0, gx + STEP, Y0 + STEP))
            t[f"grid_{key}{g}"] = grid
    return t
