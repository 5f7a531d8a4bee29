import random

import pytest
from django.contrib.auth import authenticate
from django.test import RequestFactory
from shapely.geometry import shape
from shapely.ops import unary_union

from yiwang.demo.generate import DEMO_PASSWORD, _lattice, _split_quad
from yiwang.demo.loader import demo_load, known_logins
from yiwang.geography.models import Area, AreaLevel
from yiwang.geography.spatial import validate_grid_boundary


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return demo_load(scale=0.3, progress=lambda *_: None)


def test_demo_has_the_lishi_outline(demo):
    assert [a.name for a in Area.objects.filter(level=AreaLevel.SUBDISTRICT)] == ["莲花池街道", "凤山街道", "滨河街道"]
    communities = list(Area.objects.filter(level=AreaLevel.COMMUNITY).values_list("name", flat=True))
    assert len(communities) == 27 and {"丽景街社区", "交通路社区", "生态园社区"} <= set(communities)
    from yiwang.accounts.models import Membership

    assert Membership.objects.filter(role="staff").count() == 279
    assert Membership.objects.filter(role="grid_worker").count() == Area.objects.filter(level=AreaLevel.GRID).count()


def test_demo_grids_tile_their_communities_and_pass_validation(demo):
    for community in Area.objects.filter(level=AreaLevel.COMMUNITY):
        grids = list(community.children.all())
        assert grids
        for grid in grids:
            assert validate_grid_boundary(grid, grid.boundary) == []
        union = unary_union([shape(g.boundary) for g in grids])
        assert abs(union.area - shape(community.boundary).area) < 1e-9
        assert sum(shape(g.boundary).area for g in grids) == pytest.approx(union.area, rel=1e-6)


def test_demo_logins_work_with_the_printed_password(demo):
    logins = known_logins()
    assert {"qu_admin", "sq01_02", "bm01_1"} <= {u for _l, u, _s in logins}
    for _label, username, _scope in logins:
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=username, password=DEMO_PASSWORD) is not None, username


def test_geometry_is_deterministic_for_a_seed():
    def cells(seed):
        rng = random.Random(seed)
        lattice = _lattice(3, 2, 0, 1, 1, 0, rng, 0.2)
        return _split_quad((lattice[0][0], lattice[0][1], lattice[1][1], lattice[1][0]), 3, 3, rng, 0.15)

    assert cells(7) == cells(7) and cells(7) != cells(8)
