"""Registry (issue 3): search over a million residents, Excel import."""

import threading
import time

from ..context import http_row
from ..core import Pending, benchmark, percentile, row
from ..db import ensure_dataset
from .targets import IMPORT_RATE, IMPORT_RSS, SEARCH_P95_1, SEARCH_P95_8

SEARCH_KINDS = ("name", "pinyin initials", "ID number", "phone")


def prepare_registry(ctx):
    from ..data import registry

    sizes = ctx.sizes
    params = {"residents": sizes["residents"], "households": sizes["households"], "seed": ctx.seed,
              "world": ctx.datasets["world"].get("grids")}
    ctx.datasets["registry"] = ensure_dataset(
        "registry", params, lambda: registry.generate(ctx, sizes["residents"], sizes["households"]), log=ctx.log)


def _search_samples(ctx, n: int = 200) -> dict[str, list[str]]:
    """Queries a user would type, drawn from the generated people: a name, its pinyin initials, an ID
    number (re-derived from the ciphertext with the registry's key) and a phone."""
    from yiwang.core import pii
    from yiwang.registry.models import Resident

    total = Resident.objects.count()
    if not total:
        raise Pending("no residents generated")
    rng = ctx.rng("search")
    ids = sorted(rng.sample(range(1, total + 1), min(n, total)))
    people = list(Resident.objects.filter(pk__in=ids).values_list("name", "name_initials", "id_cipher",
                                                                   "phone_cipher"))
    return {
        "name": [p[0] for p in people],
        "pinyin initials": [p[1] for p in people if p[1]],
        "ID number": [pii.decrypt(p[2]) for p in people if p[2]],
        "phone": [pii.decrypt(p[3]) for p in people if p[3]],
    }


def _raw_sql(kind: str, value: str) -> tuple[str, list]:
    """The equivalent hand-written query: the same predicate, scope prefix and limit, no ORM, no HTTP."""
    from yiwang.core import pii

    cols = "id, name, id_masked, phone_masked, address"
    if kind == "ID number":
        return (f"SELECT {cols} FROM registry_resident WHERE id_hash = %s AND area_path LIKE %s LIMIT 20",
                [pii.search_hash(value, kind="id"), "141102%"])
    if kind == "phone":
        return (f"SELECT {cols} FROM registry_resident WHERE phone_hash = %s AND area_path LIKE %s LIMIT 20",
                [pii.search_hash(value, kind="phone"), "141102%"])
    column = "name_initials" if kind == "pinyin initials" else "name"
    return (f"SELECT {cols} FROM registry_resident WHERE {column} LIKE %s AND area_path LIKE %s LIMIT 20",
            [value + "%", "141102%"])


def _raw_sql_p95(ctx, kind: str, values: list[str], clients: int, seconds: float) -> dict:
    """p95 of the raw query with `clients` threads, each on its own database connection."""
    from django.db import connection, connections

    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int):
        mine = []
        try:
            with connections["default"].cursor() as cursor:
                i = offset
                while time.perf_counter() < deadline and len(mine) < 2000:
                    sql, params = _raw_sql(kind, values[i % len(values)])
                    started = time.perf_counter()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    mine.append((time.perf_counter() - started) * 1000)
                    i += clients
        finally:
            connections["default"].close()
            with lock:
                latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    connection.close()
    return {"p95_ms": percentile(latencies, 95), "count": len(latencies)}


def _search_endpoint() -> str | None:
    from django.urls import NoReverseMatch, reverse

    for name in ("api:resident-search", "api:resident-list", "api:registry-search", "registry:search"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


SEARCH_ROWS = tuple((f"registry search by {kind}, {c} client{'s' if c > 1 else ''}", "ms p95",
                     SEARCH_P95_1 if c == 1 else SEARCH_P95_8) for kind in SEARCH_KINDS for c in (1, 8))


@benchmark("registry search", feature="registry", http=True, prepare=prepare_registry,
           requires=("table:registry_resident", "yiwang.registry.selectors:resident_search"), rows=SEARCH_ROWS)
def registry_search(ctx):
    from urllib.parse import quote

    endpoint = _search_endpoint()
    if endpoint is None:
        raise Pending("feature not landed: no search URL (api:resident-list / registry:search) yet")
    samples = _search_samples(ctx)
    size = f"{ctx.datasets['registry'].get('residents', 0):,} residents; district dispatcher"
    auth = {"Authorization": ctx.tokens["qu_ddy"]}
    rows = []
    for kind in SEARCH_KINDS:
        values = samples[kind]
        requests = [{"path": f"{endpoint}?q={quote(v)}", "headers": auth} for v in values]
        for clients in (1, 8):
            result = ctx.load(requests, concurrency=clients,
                              max_requests=100 if ctx.mode == "quick" else min(ctx.sizes["http_requests"], 1500))
            target = SEARCH_P95_1 if clients == 1 else SEARCH_P95_8
            name = f"registry search by {kind}, {clients} client{'s' if clients > 1 else ''}"
            r = http_row(name, result, ceiling=None, metric="p95", target=target, size=size)
            sql = _raw_sql_p95(ctx, kind, values, clients, 0.5 if ctx.mode == "quick" else 5)
            if r.figure is not None and sql["p95_ms"]:
                r.baseline, r.baseline_name = sql["p95_ms"], "raw SQL p95"
                r.ratio = r.figure / sql["p95_ms"]
            rows.append(r)
    return rows


IMPORT_ROWS = (("registry import from xlsx", "rows/s", IMPORT_RATE),
               ("registry import peak RSS", "MB", IMPORT_RSS))


def _import_file(ctx, rows: int, path) -> None:
    """An xlsx in the registry's template layout (its own Chinese headers) with `rows` new people:
    valid ID numbers whose serials (500-999) never collide with the generated registry's, phones,
    grid codes of real grids, addresses and, now and then, a special-group tag."""
    import datetime as dt

    from openpyxl import Workbook

    from yiwang.geography.models import Area, AreaLevel
    from yiwang.registry.excel import COLUMNS

    from ..data.common import id_number

    rng = ctx.rng(f"import-{rows}")
    grids = list(Area.objects.filter(level=AreaLevel.GRID).values_list("path", flat=True))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("居民")
    sheet.append([header for _key, header, _required in COLUMNS])
    today = dt.date.today()
    serial: dict = {}
    for i in range(rows):
        birth = today - dt.timedelta(days=rng.randint(18 * 365, 90 * 365))
        n = serial[birth] = serial.get(birth, 0) + 1
        gender = "男" if i % 2 else "女"
        idn = id_number("141102", birth, 500 + 2 * n + (1 if gender == "男" else 0))
        values = {"name": "李" + rng.choice("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚") + rng.choice("华英玉兰国建文"),
                  "id_number": idn, "gender": gender, "birth_date": birth.isoformat(), "ethnicity": "汉族",
                  "phone": "139" + f"{rng.randrange(10**8):08d}", "hukou_type": rng.choice(["户籍", "流动", "常住"]),
                  "education": rng.choice(["初中", "高中", "本科", "大专"]), "occupation": "职员",
                  "political_status": "群众", "grid_code": rng.choice(grids), "address": f"离石区永宁路{i % 300 + 1}号",
                  "tags": "独居老人" if rng.random() < 0.02 else ""}
        sheet.append([values.get(key, "") for key, _header, _required in COLUMNS])
    workbook.save(path)


def _subprocess(*args) -> dict:
    import json as _json
    import subprocess
    import sys

    from ..server import ROOT

    proc = subprocess.run([sys.executable, "-m", "benchmarks.import_worker", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"import worker failed: {proc.stderr[-1500:]}")
    return _json.loads(proc.stdout)


def _import_once(ctx, rows: int, tmp) -> tuple[dict, dict]:
    from django.db import connection

    from ..db import max_id

    path = f"{tmp}/residents-{rows}.xlsx"
    _import_file(ctx, rows, path)
    before = max_id("registry_resident")
    parsed = _subprocess("parse", path)
    connection.close()
    imported = _subprocess("import", path, "root")
    # Leave the registry as generated: the next run imports the same people again as new.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_residenttag WHERE resident_id > %s", [before])
        cursor.execute("DELETE FROM registry_resident WHERE id > %s", [before])
    return parsed, imported


@benchmark("registry import", feature="registry", prepare=prepare_registry, rows=IMPORT_ROWS,
           requires=("table:registry_importjob", "yiwang.registry.excel:import_residents_from_path"))
def registry_import(ctx):
    import tempfile

    rows = ctx.sizes["import_rows"]
    with tempfile.TemporaryDirectory(prefix="yiwang-import-") as tmp:
        small_parsed, small = _import_once(ctx, max(100, rows // 4), tmp)
        parsed, imported = _import_once(ctx, rows, tmp)
    if imported.get("created") != rows:
        r = row("registry import from xlsx", None, "rows/s", target=IMPORT_RATE,
                note=f"expected {rows} created, got {imported}")
        r.verdict = "error"
        return [r]
    rate = rows / imported["seconds"]
    size = f"{rows:,}-row file into {ctx.datasets['registry'].get('residents', 0):,} residents"
    return [
        row("registry import from xlsx", rate, "rows/s", baseline=rows / parsed["seconds"],
            baseline_name="openpyxl read-only parse", target=IMPORT_RATE, size=size,
            note=f"{imported['seconds']:.1f} s; one transaction, validation, encryption, dedup by ID hash",
            details={"import": imported, "parse": parsed}),
        row("registry import peak RSS", imported["peak_rss_mb"], "MB", baseline=parsed["peak_rss_mb"],
            baseline_name="openpyxl parse RSS", target=IMPORT_RSS, size=size,
            note=f"{small['peak_rss_mb']:.0f} MB at {max(100, rows // 4):,} rows: "
                 f"{'flat' if imported['peak_rss_mb'] < small['peak_rss_mb'] * 1.25 else 'grows'} in file size",
            details={"small": small, "small_parse": small_parsed}),
    ]
