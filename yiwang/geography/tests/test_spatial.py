import pytest

from yiwang.geography.models import Area
from yiwang.geography.services import area_update
from yiwang.geography.spatial import grid_for_point, validate_grid_boundary
from yiwang.geography.tests.factories import STEP, X0, Y0, rect


@pytest.fixture
def a1(tree):
    return tree.grid_a1


def test_a_grid_that_tiles_its_community_is_valid(a1):
    assert validate_grid_boundary(a1, a1.boundary) == []


def test_open_ring_is_rejected_naming_the_grid(a1):
    ring = rect(X0, Y0, X0 + STEP, Y0 + STEP)["coordinates"][0][:-1]
    problems = validate_grid_boundary(a1, {"type": "Polygon", "coordinates": [ring]})
    assert len(problems) == 1 and a1.name in problems[0] and "闭合" in problems[0]


def test_self_intersecting_polygon_is_rejected(a1):
    bowtie = [[X0, Y0], [X0 + STEP, Y0 + STEP], [X0 + STEP, Y0], [X0, Y0 + STEP], [X0, Y0]]
    problems = validate_grid_boundary(a1, {"type": "Polygon", "coordinates": [bowtie]})
    assert problems and "不是有效的多边形" in problems[0] and "Self-intersection" in problems[0]


def test_overlapping_a_sibling_grid_names_both(a1, tree):
    wider = rect(X0, Y0, X0 + 1.5 * STEP, Y0 + STEP)
    problems = validate_grid_boundary(a1, wider)
    assert any(tree.grid_a2.name in p and a1.name in p for p in problems)


def test_leaving_the_community_is_rejected(a1, tree):
    outside = rect(X0 - 0.5 * STEP, Y0, X0 + STEP, Y0 + STEP)
    problems = validate_grid_boundary(a1, outside)
    assert any(tree.comm_a.name in p for p in problems)


def test_tiny_overlap_within_tolerance_is_accepted(a1):
    nudge = rect(X0, Y0, X0 + STEP * 1.001, Y0 + STEP)  # 0.1% into the neighbour
    assert validate_grid_boundary(a1, nudge) == []


def test_non_polygon_geometry_is_rejected(a1):
    problems = validate_grid_boundary(a1, {"type": "Point", "coordinates": [X0, Y0]})
    assert problems and "Polygon" in problems[0]


def test_grid_for_point_finds_the_covering_grid(tree):
    assert grid_for_point(X0 + 0.5 * STEP, Y0 + 0.5 * STEP) == tree.grid_a1
    assert grid_for_point(X0 + 5.5 * STEP, Y0 + 0.5 * STEP) == tree.grid_c2
    assert grid_for_point(X0 - 1, Y0) is None


def test_grid_for_point_on_a_shared_edge_is_deterministic(tree):
    assert grid_for_point(X0 + STEP, Y0 + 0.5 * STEP) == tree.grid_a1  # lowest code wins


def test_grid_index_follows_boundary_changes(tree, people):
    point = (X0 + 1.5 * STEP, Y0 + 0.5 * STEP)
    assert grid_for_point(*point) == tree.grid_a2
    # Move a1 and a2's shared edge east so the point falls into a1.
    area_update(actor=people.admin, area=tree.grid_a2, boundary=rect(X0 + 1.8 * STEP, Y0, X0 + 2 * STEP, Y0 + STEP))
    area_update(actor=people.admin, area=tree.grid_a1, boundary=rect(X0, Y0, X0 + 1.8 * STEP, Y0 + STEP))
    assert grid_for_point(*point) == Area.objects.get(pk=tree.grid_a1.pk)


def test_grid_lookup_does_not_query_the_database_while_the_index_is_fresh(tree, django_assert_num_queries):
    from yiwang.geography.spatial import grid_id_for_point

    assert grid_id_for_point(X0 + 0.5 * STEP, Y0 + 0.5 * STEP) == tree.grid_a1.pk  # builds the index
    with django_assert_num_queries(0):
        for _ in range(100):
            assert grid_id_for_point(X0 + 0.5 * STEP, Y0 + 0.5 * STEP) == tree.grid_a1.pk


def test_grid_index_notices_changes_from_another_process(tree, monkeypatch):
    from yiwang.geography import spatial

    point = (X0 + 0.5 * STEP, Y0 + 0.5 * STEP)
    assert grid_for_point(*point) == tree.grid_a1
    # A change that this process's signals never saw (bulk update, another server):
    Area.objects.filter(pk=tree.grid_a1.pk).update(boundary=rect(X0 + 10, Y0, X0 + 10 + STEP, Y0 + STEP))
    assert grid_for_point(*point) == tree.grid_a1  # still cached inside the re-check window
    monkeypatch.setattr(spatial, "RECHECK_SECONDS", 0.0)
    Area.objects.filter(pk=tree.grid_a1.pk).update(updated_at=tree.grid_a1.updated_at.replace(year=2030))
    assert grid_for_point(*point) is None
