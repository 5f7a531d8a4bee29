"""The grid worker's app (issue 5): a 200-record offline sync batch, the app's first-load weight."""

import datetime as dt
import gzip
import json
import re
import time
import urllib.request
import uuid

from ..core import Pending, benchmark, percentile, row
from .targets import FIRST_LOAD, SYNC_BATCH


def prepare_fieldwork(ctx):
    from ..core import missing_feature
    from ..data import fieldwork
    from ..db import ensure_dataset
    from .registry import prepare_registry

    if missing_feature(("table:registry_resident",)) is None:
        prepare_registry(ctx)  # visits go to real households
    params = {"days": ctx.sizes["patrol_days"], "seed": ctx.seed, "world": ctx.datasets["world"].get("grids"),
              "registry": (ctx.datasets.get("registry") or {}).get("residents")}
    ctx.datasets["fieldwork"] = ensure_dataset("fieldwork", params,
                                               lambda: fieldwork.generate(ctx, ctx.sizes["patrol_days"]), log=ctx.log)


SYNC_ROWS = (("sync batch of 200 offline records", "s", SYNC_BATCH),)


def _batch(ctx, worker_grid, households: list[tuple[int, str]], categories: list[str], salt: str) -> dict:
    """200 records as a phone sends them after a day offline: visits, patrols with GPS tracks, event
    reports and situation-log entries, each with its own client UUID."""
    rng = ctx.rng(f"sync-{salt}")
    now = dt.datetime.now(dt.UTC)
    lon0, lat0 = worker_grid.centroid_lon, worker_grid.centroid_lat
    records = []
    for i in range(200):
        at = now - dt.timedelta(minutes=200 - i)
        kind = "visit" if i % 10 < 6 else ("patrol" if i % 10 < 7 else ("event" if i % 10 < 9 and categories
                                                                       else "situation"))
        if kind == "visit":
            data = {"grid_id": worker_grid.pk, "visited_at": at.isoformat(), "purpose": "routine",
                    "people_met": "户主", "findings": "家中情况正常", "needs": "希望增加小区照明",
                    "lon": lon0 + rng.uniform(-5e-4, 5e-4), "lat": lat0 + rng.uniform(-5e-4, 5e-4)}
            if households:
                data["household_id"], data["household_label"] = households[i % len(households)]
            else:
                data["household_label"] = f"{i + 1}号楼{rng.randint(1, 6)}单元{rng.randint(101, 602)}"
        elif kind == "patrol":
            start = at - dt.timedelta(hours=1)
            track = [[lon0 + 1e-5 * k, lat0 + 1e-5 * (k % 7), int((start.timestamp() + 60 * k) * 1000), 8]
                     for k in range(60)]
            data = {"grid_id": worker_grid.pk, "started_at": start.isoformat(), "ended_at": at.isoformat(),
                    "track": track, "checkins": [{"lon": lon0, "lat": lat0, "at": at.isoformat(), "note": "巡查"}]}
        elif kind == "event":
            data = {"grid_id": worker_grid.pk, "category": rng.choice(categories), "description": "路灯不亮，影响夜间出行",
                    "lon": lon0, "lat": lat0}
        else:
            data = {"grid_id": worker_grid.pk, "text": "居民反映楼道堆物较多", "occurred_at": at.isoformat(),
                    "tags": "消防,楼道"}
        records.append({"uuid": str(uuid.UUID(int=rng.getrandbits(128))), "kind": kind,
                        "client_time": at.isoformat(), "data": data})
    return {"client_sent_at": now.isoformat(), "records": records}


def _post(ctx, path: str, body: bytes, headers: dict) -> tuple[float, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{ctx.server.port}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = json.loads(response.read())
    return time.perf_counter() - started, payload


def _raw_insert_200(ctx) -> float:
    """Baseline: 200 single-row INSERTs in one transaction on the same database, no framework."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_sync_baseline (id integer PRIMARY KEY, "
                       "client_uuid varchar(36) NOT NULL UNIQUE, payload text NOT NULL)")
        cursor.execute("DELETE FROM bench_sync_baseline")
    times = []
    for run in range(5):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            for i in range(200):
                cursor.execute("INSERT INTO bench_sync_baseline (id, client_uuid, payload) VALUES (%s, %s, %s)",
                               [run * 1000 + i, str(uuid.uuid4()), '{"kind": "visit"}'])
        times.append(time.perf_counter() - started)
    return percentile(times, 50)


@benchmark("sync batch", feature="fieldwork", http=True, rows=SYNC_ROWS, prepare=prepare_fieldwork,
           requires=("table:fieldwork_syncrecord", "yiwang.fieldwork.sync:sync_batch"))
def sync_batch(ctx):
    from django.urls import NoReverseMatch, reverse

    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role

    from ..data.world import api_tokens

    try:
        path = reverse("api:fieldwork-sync")
    except NoReverseMatch as exc:
        raise Pending("feature not landed: no sync endpoint (api:fieldwork-sync)") from exc
    memberships = list(Membership.objects.filter(role=Role.GRID_WORKER).select_related("user", "area")
                       .order_by("area__path")[:8])
    categories: list[str] = []
    try:
        from yiwang.cases.models import Category

        categories = list(Category.objects.filter(children__isnull=True, active=True, public=True)
                          .values_list("code", flat=True)[:50])
    except Exception:  # cases not landed: the batch carries no event reports
        categories = []
    times, resend_times, statuses = [], [], {}
    batches = 1 if ctx.mode == "quick" else 6
    for b in range(batches):
        m = memberships[b % len(memberships)]
        households = []
        try:
            from yiwang.registry.models import Household

            households = [(h.pk, h.address) for h in Household.objects.filter(grid=m.area).order_by("id")[:120]]
        except Exception:
            households = []
        batch = _batch(ctx, m.area, households, categories, f"{time.time()}-{b}")
        body = json.dumps(batch, ensure_ascii=False).encode()
        auth = {"Authorization": api_tokens([m.user.username])[m.user.username]}
        seconds, payload = _post(ctx, path, body, auth)
        times.append(seconds)
        for r in payload.get("results", []):
            statuses[r.get("status")] = statuses.get(r.get("status"), 0) + 1
        # The phone resends everything (lost response): nothing new may be created.
        seconds, again = _post(ctx, path, body, auth)
        resend_times.append(seconds)
        for r in again.get("results", []):
            key = f"resend {r.get('status')}"
            statuses[key] = statuses.get(key, 0) + 1
    baseline = _raw_insert_200(ctx)
    created_ok = statuses.get("created", 0) == 200 * batches and statuses.get("resend duplicate", 0) == 200 * batches
    figure = max(times)
    r = row("sync batch of 200 offline records", figure, "s", baseline=baseline,
            baseline_name="200 raw INSERTs, 1 tx", target=SYNC_BATCH,
            size=f"{batches} batches (120 visits, 20 patrols x 60 GPS points, 40 events, 20 logs)",
            note=(f"median {percentile(times, 50):.2f} s; resend {max(resend_times):.2f} s; results {statuses}"),
            details={"times": times, "resend_times": resend_times, "statuses": statuses})
    if not created_ok:
        r.verdict = "error"
        r.note = "not every record was created once and reported duplicate on resend: " + r.note
    return [r]


FIRST_LOAD_ROWS = (("app first load (/m/), phone", "KB", FIRST_LOAD),)


@benchmark("app first load", feature="fieldwork", http=True, rows=FIRST_LOAD_ROWS,
           requires=("yiwang.fieldwork.views:app",))
def app_first_load(ctx):
    from django.urls import NoReverseMatch, reverse

    from yiwang.accounts.models import Membership
    from yiwang.accounts.roles import Role

    from ..data.world import session_cookie

    try:
        app_path = reverse("fieldwork:app")
    except NoReverseMatch as exc:
        raise Pending("feature not landed: no /m/ app page") from exc
    worker = Membership.objects.filter(role=Role.GRID_WORKER).select_related("user").order_by("area__path").first()
    cookie = session_cookie(worker.user.username)
    base = f"http://127.0.0.1:{ctx.server.port}"
    headers = {"Cookie": cookie, "User-Agent": "Mozilla/5.0 (Linux; Android 14; Pixel 7) Mobile",
               "Accept-Encoding": "gzip"}  # as every phone browser sends; bytes are counted as transferred
    fetched: dict[str, bytes] = {}  # as decoded by the phone
    wire: dict[str, int] = {}  # bytes transferred

    def get(path: str, accept: str = "*/*") -> bytes:
        request = urllib.request.Request(base + path, headers={**headers, "Accept": accept})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
            encoded = response.headers.get("Content-Encoding", "") == "gzip"
        wire[path] = len(body)
        fetched[path] = gzip.decompress(body) if encoded else body
        return fetched[path]

    # Crawl what the first visit pulls in: scripts, styles, icons, the manifest, the service worker and
    # what it precaches, the offline data the app stores; same origin, the API and map tiles excepted.
    pattern = re.compile(r"[\"'(](/(?:static|m)/[^\"'\s)#?]+)")
    queue = [app_path]
    while queue and len(fetched) < 80:
        path = queue.pop(0)
        if path in fetched or "{" in path or "/tiles" in path or "coverage" in path:
            continue
        try:
            body = get(path, "text/html" if path == app_path else "*/*")
        except OSError:
            continue
        if path == app_path or path.endswith((".js", ".css", ".webmanifest", ".json")):
            queue += [ref for ref in pattern.findall(body.decode("utf-8", errors="replace")) if ref not in fetched]
    total = sum(wire.values())
    decoded = sum(len(b) for b in fetched.values())
    gz = sum(len(gzip.compress(b, 6)) for b in fetched.values())
    largest = sorted(((n, p) for p, n in wire.items()), reverse=True)[:4]
    return [row("app first load (/m/), phone", total / 1024, "KB", target=FIRST_LOAD,
                size=f"{len(fetched)} resources, map tiles excepted",
                note=f"transferred; {decoded / 1024:.0f} KB decoded; all gzipped would be {gz / 1024:.0f} KB; largest: "
                + ", ".join(f"{p} {n / 1024:.0f} KB" for n, p in largest),
                details={"resources": wire, "decoded_bytes": decoded, "gzip_bytes": gz})]
