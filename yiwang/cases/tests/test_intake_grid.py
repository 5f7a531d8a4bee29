"""Intake keeps its grid's row with the grid index (geography.spatial.grid_memo): no query for it while the
grids are unchanged, and a renamed or re-coded grid shows on the next report."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from yiwang.cases.models import Channel
from yiwang.cases.services import case_create
from yiwang.geography.models import Area
from yiwang.geography.services import area_update

from .factories import BIN_LAT, BIN_LON


def report(world, cats, key):
    return case_create(actor=world.people.grid_worker, channel=Channel.GRID_WORKER, category=cats.garbage,
                       lon=BIN_LON, lat=BIN_LAT, description="垃圾桶满溢", idempotency_key=key)


def _grid_reads(queries) -> int:
    return sum(q["sql"].startswith('SELECT "geography_area"') and "FROM \"geography_area\" WHERE" in q["sql"]
               for q in queries)


def test_the_grid_row_is_read_once_and_again_after_a_change(world, cats):
    first = report(world, cats, "g-1")
    assert first.grid_id == world.tree.grid_a1.pk and first.area_path == world.tree.grid_a1.path
    with CaptureQueriesContext(connection) as ctx:
        report(world, cats, "g-2")
    assert _grid_reads(ctx.captured_queries) == 0
    area_update(actor=world.people.admin, area=world.tree.grid_a1, name="改名后的网格")
    third = report(world, cats, "g-3")
    assert third.grid.name == "改名后的网格"
    # A bulk update neither signals nor moves updated_at (the grid signature): the kept row stays, as the
    # grid index itself does (see geography.spatial).
    Area.objects.filter(pk=world.tree.grid_a1.pk).update(name="又改了")
    assert report(world, cats, "g-4").grid.name == "改名后的网格"
