"""Patrols and household visits of every grid worker over `days` days, COPY'd into the fieldwork tables:
one patrol a working day per worker (a GPS track of 40-80 samples and a few check-ins) and about five
household visits a day, as DOMAIN.md's 日巡查 / 日走访 describe. Deterministic for a seed."""

import datetime as dt
import json
import math
import uuid

from django.utils import timezone

from ..db import analyze, truncate
from .common import ModelCopier


def generate(ctx, days: int) -> dict:
    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role
    from yiwang.fieldwork.models import Patrol, SyncRecord, Visit

    truncate(SyncRecord._meta.db_table, Visit._meta.db_table, Patrol._meta.db_table)
    rng = ctx.rng("fieldwork")
    workers = list(Membership.objects.filter(role=Role.GRID_WORKER).order_by("area__path")
                   .values_list("user_id", "area_id", "area__path", "area__centroid_lon", "area__centroid_lat"))
    households: dict[int, list[tuple[int, str]]] = {}
    try:
        from yiwang.registry.models import Household

        for h_id, grid_id, address in Household.objects.order_by("id").values_list("id", "grid_id", "address").iterator(
                chunk_size=20_000):
            households.setdefault(grid_id, []).append((h_id, address))
    except Exception:  # registry not landed: visits carry a label only
        households = {}
    today = timezone.localdate()
    patrols, visits = ModelCopier(Patrol), ModelCopier(Visit)
    visit_rows = []

    def patrol_rows():
        for day_offset in range(days, 0, -1):
            day = today - dt.timedelta(days=day_offset)
            if day.weekday() == 6:
                continue
            for user_id, grid_id, path, lon0, lat0 in workers:
                start = dt.datetime.combine(day, dt.time(1 + rng.randint(0, 2), rng.randint(0, 59)), dt.UTC)
                points = rng.randint(40, 80)
                track, lon, lat = [], lon0, lat0
                for k in range(points):
                    lon += rng.uniform(-6e-5, 6e-5)
                    lat += rng.uniform(-5e-5, 5e-5)
                    track.append([round(lon, 6), round(lat, 6), int((start.timestamp() + 60 * k) * 1000), 10])
                distance = sum(math.dist(a[:2], b[:2]) for a, b in zip(track, track[1:], strict=False)) * 100_000
                end = start + dt.timedelta(minutes=points)
                checkins = [{"lon": track[i][0], "lat": track[i][1], "at": (start + dt.timedelta(minutes=i)).isoformat(),
                             "note": "巡查打卡"} for i in (0, points // 2)]
                yield {"client_uuid": uuid.UUID(int=rng.getrandbits(128)), "worker_id": user_id, "grid_id": grid_id,
                       "area_path": path, "day": day, "started_at": start, "ended_at": end,
                       "track": json.dumps(track), "checkins": json.dumps(checkins, ensure_ascii=False),
                       "distance_m": round(distance, 1), "duration_s": points * 60}
                homes = households.get(grid_id) or []
                for v in range(rng.randint(3, 7)):
                    home = homes[rng.randrange(len(homes))] if homes else (None, f"{v + 1}号楼{rng.randint(101, 602)}室")
                    visit_rows.append({
                        "client_uuid": uuid.UUID(int=rng.getrandbits(128)), "worker_id": user_id, "grid_id": grid_id,
                        "area_path": path, "household_id": home[0], "household_label": home[1][:200],
                        "visited_at": start + dt.timedelta(minutes=20 + 25 * v), "purpose": "routine",
                        "method": "in_home", "people_met": "户主", "findings": "情况正常", "version": 1})

    n_patrols = patrols.load(patrol_rows())
    n_visits = visits.load(visit_rows)
    analyze()
    return {"grid_workers": len(workers), "days": days, "patrols": n_patrols, "visits": n_visits}
