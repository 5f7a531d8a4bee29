"""Registry (issue 3): search over a million residents, Excel import."""

import threading
import time

from ..context import http_row
from ..core import Pending, benchmark, percentile, row
from ..db import ensure_dataset, migration_fingerprint
from .targets import IMPORT_RATE, IMPORT_RSS, SEARCH_P95_1, SEARCH_P95_8

SEARCH_KINDS = ("name", "pinyin initials", "ID number", "phone")


def prepare_registry(ctx):
    from ..data import registry

    sizes = ctx.sizes
    params = {"residents": sizes["residents"], "households": sizes["households"], "seed": ctx.seed,
              "world": ctx.datasets["world"].get("grids"),
              "schema": migration_fingerprint("yiwang/registry", "yiwang/geography")}
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
            result = ctx.load(requests, concurrency=clients, max_requests=min(ctx.sizes["http_requests"], 1500))
            target = SEARCH_P95_1 if clients == 1 else SEARCH_P95_8
            name = f"registry search by {kind}, {clients} client{'s' if clients > 1 else ''}"
            r = http_row(name, result, ceiling=None, metric="p95", target=target, size=size)
            sql = _raw_sql_p95(ctx, kind, values, clients, min(ctx.sizes["http_seconds"], 5))
            if r.figure is not None and sql["p95_ms"]:
                r.baseline, r.baseline_name = sql["p95_ms"], "raw SQL p95"
                r.ratio = r.figure / sql["p95_ms"]
            rows.append(r)
    return rows


IMPORT_ROWS = (("registry import from xlsx", "rows/s", IMPORT_RATE),
               ("registry import peak RSS", "MB", IMPORT_RSS))


@benchmark("registry import", feature="registry", requires=("table:registry_importjob",), rows=IMPORT_ROWS)
def registry_import(ctx):
    raise Pending("feature not landed: no import service yet")


__all__ = ["row"]
