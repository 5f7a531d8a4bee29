import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yiwang.audit.models import AuditEvent
from yiwang.geography.models import Area, Building
from yiwang.geography.services import area_update, building_create
from yiwang.geography.tests.factories import STEP, X0, Y0, rect


def test_area_update_rejects_bad_boundary_and_keeps_the_old_one(tree, people):
    before = tree.grid_a1.boundary
    with pytest.raises(ValidationError) as exc:
        area_update(actor=people.admin, area=tree.grid_a1, boundary=rect(X0, Y0, X0 + 2 * STEP, Y0 + STEP))
    assert tree.grid_a2.name in str(exc.value)
    assert Area.objects.get(pk=tree.grid_a1.pk).boundary == before
    assert not AuditEvent.objects.filter(action="area.update").exists()


def test_area_update_records_what_changed(tree, people):
    area_update(actor=people.admin, area=tree.grid_a1, name="甲一网格（新）")
    event = AuditEvent.objects.get(action="area.update")
    assert event.actor == people.admin
    assert event.changes == {"name": [tree.grid_a1.name, "甲一网格（新）"]}
    assert event.area_path == tree.grid_a1.path


def test_only_administrators_of_the_area_may_change_it(tree, people):
    with pytest.raises(PermissionDenied):
        area_update(actor=people.staff, area=tree.grid_a1, name="x")


def test_building_numbers_are_unique_within_a_grid(tree, people):
    building_create(actor=people.staff, grid=tree.grid_a1, number="1", name="1号楼", address="甲路1号",
                    lon=X0 + 0.001, lat=Y0 + 0.001)
    with pytest.raises(ValidationError):
        building_create(actor=people.staff, grid=tree.grid_a1, number="1", name="1号楼", address="甲路1号",
                        lon=X0 + 0.001, lat=Y0 + 0.001)
    assert Building.objects.count() == 1
    with pytest.raises(PermissionDenied):
        building_create(actor=people.outsider, grid=tree.grid_a1, number="2", name="2号楼", address="甲路2号",
                        lon=X0, lat=Y0)
