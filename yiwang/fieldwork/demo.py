"""Demo fieldwork: two weeks of patrols and household visits by the grid workers of the first
community's grids (the demo's grid-worker login, wg001001001, among them)."""

import datetime as dt
import uuid

from django.utils import timezone

from yiwang.accounts.models import Membership
from yiwang.accounts.roles import Role

from .geo import track_distance_m
from .models import Patrol, Visit, VisitPurpose

FINDINGS = ["家中一切正常", "老人腿脚不便，行动需人照看", "反映楼道灯不亮", "子女长期在外，独自生活", "身体状况良好，按时服药",
            "反映小区停车难", "家中燃气灶老化，已提醒更换"]
NEEDS = ["", "", "希望社区上门量血压", "希望帮助申请居家养老服务", "希望加装楼道扶手"]


def generate(ctx) -> None:
    from yiwang.registry.models import Household

    rng = ctx.rng
    now = timezone.now()
    grids = [g for g in ctx.grids if g.parent_id == ctx.communities[0].pk][:6] if ctx.communities else []
    workers = {m.area_id: m.user for m in Membership.objects.filter(area__in=grids, role=Role.GRID_WORKER)
               .select_related("user")}
    patrols, visits = [], []
    for grid in grids:
        worker = workers.get(grid.pk)
        if worker is None or grid.centroid_lon is None:
            continue
        households = list(Household.objects.filter(grid=grid).values_list("pk", "address", "number")[:60])
        for days_ago in range(1, 15):
            if rng.random() < 0.2:
                continue  # a day off
            day = timezone.localdate() - dt.timedelta(days=days_ago)
            start = timezone.make_aware(dt.datetime.combine(day, dt.time(8 + rng.randint(0, 2), rng.randint(0, 59))))
            minutes = rng.randint(50, 150)
            t0 = int(start.timestamp() * 1000)
            lon, lat = grid.centroid_lon, grid.centroid_lat
            track = []
            for i in range(minutes // 2):
                lon += (rng.random() - 0.5) * 0.0008
                lat += (rng.random() - 0.5) * 0.0008
                track.append([round(lon, 7), round(lat, 7), t0 + i * 120000, rng.randint(5, 30)])
            end = start + dt.timedelta(minutes=minutes)
            patrols.append(Patrol(client_uuid=uuid.UUID(int=rng.getrandbits(128)), worker=worker, grid=grid,
                                  area_path=grid.path, day=day, started_at=start, ended_at=end, track=track,
                                  checkins=[{"lon": track[0][0], "lat": track[0][1], "at": start.isoformat(),
                                             "note": "到岗"}],
                                  distance_m=track_distance_m(track), duration_s=minutes * 60))
            for _n in range(rng.randint(2, 6) if households else 0):
                pk, address, number = rng.choice(households)
                at = end + dt.timedelta(minutes=rng.randint(5, 240))
                if at > now:
                    continue
                follow = rng.random() < 0.2
                visits.append(Visit(client_uuid=uuid.UUID(int=rng.getrandbits(128)), worker=worker, grid=grid,
                                    area_path=grid.path, household_id=pk, household_label=address or number,
                                    visited_at=at, purpose=rng.choice([VisitPurpose.ROUTINE, VisitPurpose.ROUTINE,
                                                                       VisitPurpose.SPECIAL_GROUP]),
                                    people_met="户主本人", findings=rng.choice(FINDINGS), needs=rng.choice(NEEDS),
                                    follow_up="一周后回访" if follow else "",
                                    follow_up_due=day + dt.timedelta(days=7) if follow else None))
    Patrol.objects.bulk_create(patrols, batch_size=500)
    Visit.objects.bulk_create(visits, batch_size=500)
