"""`python -m benchmarks.run --full | --quick`: prepare the database and data, start gunicorn, run every
benchmark, print the table and write benchmarks/results/latest.json. See docs/performance.md."""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SEED = 20261128


def log(message: str) -> None:
    print(message, flush=True)


def _migrate(mode: str, url: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0, interactive=False)
    except Exception as exc:
        # A feature app rewrote a migration that had not landed yet: start the benchmark database over.
        log(f"  migrate failed ({type(exc).__name__}: {exc}); recreating the benchmark database")
        connection.close()
        from . import db

        if mode == "full":
            db.pg_create_database(url, drop=True)
        else:
            db.sqlite_reset(url)
        call_command("migrate", verbosity=0, interactive=False)


def _machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}
    try:
        info["postgres"] = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    try:
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                        cwd=ROOT).stdout.strip()
    except OSError:
        pass
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="SQLite smoke run, under a minute")
    group.add_argument("--full", action="store_true", help="PostgreSQL run of every benchmark (make bench)")
    parser.add_argument("--scale", choices=["default", "full"], default=os.environ.get("BENCH_SCALE") or "default",
                        help="data sizes for --full (BENCH_SCALE); 'full' is city scale")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED") or DEFAULT_SEED))
    parser.add_argument("--only", nargs="*", default=None, help="run only benchmarks whose name contains one of these")
    parser.add_argument("--fresh", action="store_true", help="drop the benchmark database and regenerate all data")
    parser.add_argument("--prepare-only", action="store_true", help="generate the data and stop")
    parser.add_argument("--output", default=str(RESULTS / "latest.json"))
    args = parser.parse_args(argv)

    mode = "quick" if args.quick or not args.full else "full"
    scale = "quick" if mode == "quick" else args.scale
    started = time.perf_counter()

    from . import db

    url = db.database_url(mode, scale)
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    log(f"Yiwang benchmarks: mode={mode} scale={scale} seed={args.seed} database={url}")
    if mode == "full":
        db.pg_create_database(url, drop=args.fresh)
    else:
        db.sqlite_reset(url)  # the smoke run always starts from an empty file

    import django

    django.setup()
    t = time.perf_counter()
    if mode == "quick":
        db.sqlite_migrated(url, lambda: _migrate(mode, url))
    else:
        _migrate(mode, url)
    log(f"  migrate: {time.perf_counter() - t:.1f} s")

    from . import suites  # noqa: F401 - registers the benchmarks
    from .context import Context
    from .core import REGISTRY, Pending, Row, missing_feature, pending_row, table
    from .data import world
    from .server import Server

    ctx = Context(mode=mode, scale=scale, seed=args.seed, db_url=url, env=dict(os.environ), log=log)
    # Data sets are keyed by their sizes and seed, not by the schema: `migrate` carries generated rows
    # through additive migrations, and a rewritten migration recreates the database (see _migrate).
    world_params = {"geo_scale": ctx.sizes["geo_scale"], "seed": args.seed}
    if db.dataset_info("world", world_params) is None and mode == "full":
        from django.db import connection

        if db.dataset_info("world", {"any": True}) is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT COUNT(*) FROM geography_area")
                stale = cursor.fetchone()[0]
            if stale:  # another world is loaded: every data set hangs off it, so start over
                log("  the benchmark database holds another world; recreating it")
                connection.close()
                db.pg_create_database(url, drop=True)
                _migrate(mode, url)
    ctx.datasets["world"] = db.ensure_dataset("world", world_params,
                                              lambda: world.generate(ctx.sizes["geo_scale"], args.seed), log=log)
    ctx.tokens = world.api_tokens()

    selected = [b for b in REGISTRY if mode in b.modes
                and (not args.only or any(o.lower() in b.name.lower() for o in args.only))]
    rows: list[Row] = []
    runnable = []
    for bench in selected:
        reason = missing_feature(bench.requires)
        if reason is None and bench.prepare is not None:
            t = time.perf_counter()
            try:
                bench.prepare(ctx)
            except Pending as exc:
                reason = str(exc)
            except Exception as exc:
                traceback.print_exc()
                reason = f"error while generating data: {type(exc).__name__}: {exc}"[:300]
            log(f"  prepared {bench.name}: {time.perf_counter() - t:.1f} s")
        if reason is not None:
            declared = bench.rows or ((bench.name, "", None),)
            rows += [pending_row(name, reason, unit=unit, target=target) for name, unit, target in declared]
            if reason.startswith("error"):
                for r in rows[-len(declared):]:
                    r.verdict = "error"
            continue
        runnable.append(bench)

    if args.prepare_only:
        log(f"data prepared in {time.perf_counter() - started:.0f} s: " + json.dumps(ctx.datasets, default=str))
        return 0
    server = None
    if any(b.http for b in runnable):
        t = time.perf_counter()
        server = Server(env=dict(os.environ), workers=3 if mode == "quick" else None).start()
        ctx.server = server
        log(f"  server: {server.description} on 127.0.0.1:{server.port}, up in {time.perf_counter() - t:.1f} s")
    try:
        for bench in runnable:
            t = time.perf_counter()
            try:
                rows += bench.run(ctx)
            except Pending as exc:
                declared = bench.rows or ((bench.name, "", None),)
                rows += [pending_row(name, str(exc), unit=unit, target=target) for name, unit, target in declared]
            except Exception as exc:
                traceback.print_exc()
                declared = bench.rows or ((bench.name, "", None),)
                for name, unit, target in declared:
                    r = pending_row(name, f"error: {type(exc).__name__}: {exc}"[:300], unit=unit, target=target)
                    r.verdict = "error"
                    rows.append(r)
            log(f"  ran {bench.name}: {time.perf_counter() - t:.1f} s")
    finally:
        if server is not None:
            server.stop()

    all_rows = ctx.baseline_rows + rows
    elapsed = time.perf_counter() - started
    datasets = {name: info for name, info in ctx.datasets.items()}
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "mode": mode, "scale": scale,
              "seed": args.seed, "database": url.split("@")[-1], "sizes": ctx.sizes, "datasets": datasets,
              "server": server.description if server else None, "machine": _machine(),
              "elapsed_s": round(elapsed, 1), "rows": [r.as_dict() for r in all_rows]}
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))

    print()
    print(f"Yiwang benchmarks — {report['date']} — mode {mode}, scale {scale}, "
          f"{'PostgreSQL' if mode == 'full' else 'SQLite (smoke: not the targets conditions)'}")
    print("data: " + "; ".join(f"{name}: " + ", ".join(f"{k} {v:,}" for k, v in info.items() if isinstance(v, int)
                                                         and not isinstance(v, bool))
                              for name, info in datasets.items()))
    print(table(all_rows))
    counts = {}
    for r in all_rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    print(f"\n{', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}; {elapsed:.0f} s; written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
