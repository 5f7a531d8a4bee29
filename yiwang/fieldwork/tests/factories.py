"""Test data for fieldwork: a few households in grid A1, sync record builders, a tiny JPEG."""

import datetime as dt
import io
import uuid

from django.utils import timezone
from PIL import Image

from yiwang.registry.tests.factories import make_household, make_resident


def jpeg_bytes(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def households(grid, n=3) -> list:
    rows = []
    for i in range(n):
        head = make_resident(grid, name=f"住户{i}", birth=dt.date(1950 + i, 3, 4))
        rows.append(make_household(grid, head, number=f"H{grid.pk}-{i:03d}"))
    return rows


def visit_record(household, *, when=None, **data) -> dict:
    when = when or timezone.now() - dt.timedelta(minutes=30)
    return {"uuid": str(uuid.uuid4()), "kind": "visit", "client_time": when.isoformat(),
            "data": {"household_id": household.pk, "visited_at": when.isoformat(), "purpose": "routine",
                     "people_met": "户主", "findings": "一切正常", "needs": "", **data}}


def patrol_record(grid, *, start=None, minutes=40, **data) -> dict:
    start = start or timezone.now() - dt.timedelta(hours=2)
    t0 = int(start.timestamp() * 1000)
    lon, lat = grid.centroid_lon, grid.centroid_lat
    track = [[lon + i * 0.0005, lat, t0 + i * 60000, 10] for i in range(10)]
    return {"uuid": str(uuid.uuid4()), "kind": "patrol", "client_time": start.isoformat(),
            "data": {"grid_id": grid.pk, "started_at": start.isoformat(),
                     "ended_at": (start + dt.timedelta(minutes=minutes)).isoformat(), "track": track,
                     "checkins": [{"lon": lon, "lat": lat, "at": start.isoformat(), "note": "到岗"}], **data}}


def event_record(grid, category="200104", **data) -> dict:
    return {"uuid": str(uuid.uuid4()), "kind": "event", "client_time": timezone.now().isoformat(),
            "data": {"grid_id": grid.pk, "category": category, "lon": grid.centroid_lon, "lat": grid.centroid_lat,
                     "description": "路面有大量垃圾", **data}}
