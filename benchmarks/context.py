"""What a benchmark gets to work with: the mode, the sizes, the running server, tokens, and baselines
measured once per run and shared (the minimal view's ceiling at each concurrency, pgbench)."""

import random
from dataclasses import dataclass, field

from .core import Row, row

# Sizes per scale. "default" is what `make bench` runs: the registry targets' conditions (1,000,000
# residents, a 100,000-row import) and the queue target's million cases, in about half an hour on 2 cores;
# "full" is city scale (see docs/performance.md for how long it takes), in a database of its own
# (yiwang_bench_full), with 30 days of patrols: the fieldwork targets (sync and track writes, a day's
# patrols) do not depend on how long the history is, and a year of them took long to generate.
# "quick" is the SQLite smoke.
SIZES = {
    "quick": {"geo_scale": 0.3, "residents": 2_000, "households": 800, "cases": 2_000, "case_years": 3,
              "patrol_days": 3, "import_rows": 400, "http_seconds": 1.0, "http_requests": 150,
              "lookups": 1_000, "pgbench_scale": 0},
    "default": {"geo_scale": 5.6, "residents": 1_000_000, "households": 400_000, "cases": 1_000_000,
                "case_years": 3, "patrol_days": 7, "import_rows": 100_000, "http_seconds": 8.0,
                "http_requests": 4_000, "lookups": 5_000, "pgbench_scale": 10},
    "full": {"geo_scale": 5.6, "residents": 1_000_000, "households": 400_000, "cases": 10_000_000,
             "case_years": 3, "patrol_days": 30, "import_rows": 100_000, "http_seconds": 20.0,
             "http_requests": 8_000, "lookups": 50_000, "pgbench_scale": 32},
}


@dataclass
class Context:
    mode: str  # "quick" (SQLite smoke) or "full" (PostgreSQL)
    scale: str  # "quick", "default" or "full"
    seed: int
    db_url: str
    env: dict
    log: callable = print
    server: object = None
    datasets: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    baseline_rows: list[Row] = field(default_factory=list)
    _minimal: dict = field(default_factory=dict)
    _pgbench: dict = field(default_factory=dict)

    @property
    def sizes(self) -> dict:
        return SIZES[self.scale]

    @property
    def postgres(self) -> bool:
        return self.mode == "full"

    def rng(self, salt: str) -> random.Random:
        return random.Random(f"{self.seed}:{salt}")

    def load(self, requests: list[dict], *, concurrency: int, seconds: float | None = None,
             max_requests: int | None = None, warmup: int | None = None, expect_status=(200, 201),
             rate: float | None = None) -> dict:
        sizes = self.sizes
        return self.server.load(requests, concurrency=concurrency,
                                max_requests=max_requests or sizes["http_requests"],
                                max_seconds=seconds or sizes["http_seconds"],
                                warmup=min(concurrency, 8) if warmup is None else warmup, expect_status=expect_status,
                                rate=rate)

    def minimal(self, concurrency: int) -> dict:
        """The framework's ceiling at this concurrency: the minimal JSON view on the same server."""
        if concurrency not in self._minimal:
            result = self.load([{"path": "/bench/minimal"}], concurrency=concurrency)
            self._minimal[concurrency] = result
            self.baseline_rows.append(row(
                f"baseline: minimal JSON view, {concurrency} client{'s' if concurrency > 1 else ''}",
                result["throughput_rps"], "req/s", size=self.server.description,
                note=f"p95 {result['p95_ms']:.1f} ms; {result['completed']} requests",
                details=result))
        return self._minimal[concurrency]

    def pgbench(self, kind: str, clients: int = 32) -> dict | None:
        """pgbench on the same database: kind "tpcb" or "insert"; None on SQLite."""
        if not self.postgres:
            return None
        key = (kind, clients)
        if key not in self._pgbench:
            from . import pgbench

            seconds = 15 if self.scale == "full" else 10
            script = pgbench.INSERT_SCRIPT if kind == "insert" else None
            result = pgbench.run(self.db_url, clients=clients, seconds=seconds, script=script)
            self._pgbench[key] = result
            label = "TPC-B-like" if kind == "tpcb" else "single-row insert"
            self.baseline_rows.append(row(
                f"baseline: pgbench {label}, {clients} clients", result["tps"], "tx/s",
                size=f"pgbench scale {self.sizes['pgbench_scale']}" if kind == "tpcb" else "",
                note=f"p95 {result['p95_ms']:.1f} ms" if result["p95_ms"] is not None else "", details=result))
        return self._pgbench[key]


def http_row(name: str, result: dict, *, ceiling: dict | None, metric: str = "throughput", target=None,
             size: str = "", note: str = "") -> Row:
    """A row from a load-generator result: throughput as a ratio to the ceiling, or p95 latency beside
    the ceiling's p95. A run where most requests failed is an error, never a figure."""
    failed = result["error_count"] + sum(n for s, n in result["statuses"].items() if not s.startswith("2"))
    if not result["completed"] or failed > result["completed"] * 0.01:
        sample = "; ".join(result["errors"][:2])
        r = row(name, None, "req/s" if metric == "throughput" else "ms", target=target, size=size,
                note=f"{result['completed']} ok, {failed} failed: {sample}"[:400], details=result)
        r.verdict = "error"
        return r
    extra = f"{result['completed']:,} requests"
    if metric == "throughput":
        note = "; ".join(filter(None, [f"p95 {result['p95_ms']:.1f} ms", extra, note]))
        return row(name, result["throughput_rps"], "req/s", baseline=ceiling and ceiling["throughput_rps"],
                   baseline_name="minimal view", target=target, size=size, note=note, details=result)
    note = "; ".join(filter(None, [f"{result['throughput_rps']:.0f} req/s", extra, note]))
    return row(name, result["p95_ms"], "ms p95", baseline=ceiling and ceiling["p95_ms"],
               baseline_name="minimal view p95", target=target, size=size, note=note, details=result)
