import copy
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.geography.models import Area, AreaLevel
from yiwang.geography.services import area_tree_export, area_tree_import
from yiwang.geography.tests.factories import STEP, X0, Y0, rect


def snapshot():
    return sorted((a.path, a.name, json.dumps(a.boundary, sort_keys=True)) for a in Area.objects.all())


@pytest.fixture
def exported(tree):
    return area_tree_export(Area.objects.all())


def test_export_has_code_name_level_and_parent_code(exported, tree):
    grid = next(f for f in exported["features"] if f["properties"]["code"] == tree.grid_a1.code)
    assert grid["properties"] == {"code": tree.grid_a1.code, "name": tree.grid_a1.name, "level": "grid",
                                  "parent_code": tree.comm_a.code, "households": 300}
    assert grid["geometry"]["type"] == "Polygon"
    assert len(exported["features"]) == Area.objects.count()


def test_reimporting_an_export_changes_nothing(exported, people):
    before = snapshot()
    result = area_tree_import(actor=people.admin, payload=json.dumps(exported))
    assert (result.created, result.updated, result.unchanged) == (0, 0, len(exported["features"]))
    assert snapshot() == before


def test_import_creates_a_new_community_with_grids(exported, people, tree):
    new = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "141102002002000", "name": "丁社区", "level": "community",
                                           "parent_code": tree.sub2.code},
         "geometry": rect(X0 + 6 * STEP, Y0, X0 + 8 * STEP, Y0 + STEP)},
        {"type": "Feature", "properties": {"code": "141102002002001", "name": "丁1网格", "level": "grid",
                                           "parent_code": "141102002002000"},
         "geometry": rect(X0 + 6 * STEP, Y0, X0 + 7 * STEP, Y0 + STEP)},
    ]}
    result = area_tree_import(actor=people.admin, payload=new)
    assert result.created == 2
    grid = Area.objects.get(path="141102002002001")
    assert grid.parent.name == "丁社区" and grid.level == AreaLevel.GRID and grid.centroid_lon is not None


@pytest.mark.parametrize("mutate,expected", [
    (lambda fc: "{not json", "JSON"),
    (lambda fc: {"type": "Feature"}, "FeatureCollection"),
    (lambda fc: _set(fc, 0, "code", "12345"), "15"),
    (lambda fc: _set(fc, -1, "parent_code", "141102009009000"), "141102009009000"),
    (lambda fc: _dup(fc), "重复"),
    (lambda fc: _set(fc, -1, "level", "village"), "village"),
    (lambda fc: _geom(fc, -1, rect(X0 + 5 * STEP - STEP * 0.5, Y0, X0 + 6 * STEP, Y0 + STEP)), "重叠"),
    (lambda fc: _open(fc, -1), "闭合"),
])
def test_bad_files_are_rejected_with_a_reason_and_change_nothing(exported, people, mutate, expected):
    before = snapshot()
    payload = mutate(copy.deepcopy(exported))
    payload = payload if isinstance(payload, str) else json.dumps(payload)
    # rename something valid too, to prove the good part of a bad file is not saved either
    with pytest.raises(ValidationError) as exc:
        area_tree_import(actor=people.admin, payload=payload.replace("甲1网格", "改名网格"))
    assert expected in " ".join(exc.value.messages)
    assert snapshot() == before


def test_only_administrators_can_import(exported, people):
    with pytest.raises(PermissionDenied):
        area_tree_import(actor=people.staff, payload=exported)


def test_import_api_answers_400_with_the_problems(api_for, people, exported):
    fc = _open(copy.deepcopy(exported), -1)
    response = api_for(people.admin).post("/api/v1/areas/import/", fc, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert "闭合" in json.dumps(response.json(), ensure_ascii=False)


def test_import_page_lists_problems(client_for, people, exported):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fc = _dup(copy.deepcopy(exported))
    upload = SimpleUploadedFile("areas.geojson", json.dumps(fc).encode(), content_type="application/geo+json")
    response = client_for(people.admin).post("/geo/import/", {"file": upload})
    assert response.status_code == 200
    assert "重复" in response.content.decode()


def _set(fc, index, key, value):
    fc["features"][index]["properties"][key] = value
    return fc


def _dup(fc):
    fc["features"].append(copy.deepcopy(fc["features"][-1]))
    return fc


def _geom(fc, index, geometry):
    fc["features"][index]["geometry"] = geometry
    return fc


def _open(fc, index):
    fc["features"][index]["geometry"]["coordinates"][0].pop()
    return fc
