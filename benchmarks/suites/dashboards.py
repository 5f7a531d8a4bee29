"""Dashboards (issue 6): indicator and chart endpoints over all generated cases, the monthly PDF."""

import datetime as dt
import time

from ..context import http_row
from ..core import benchmark, row
from ..db import ensure_dataset
from .cases import prepare_cases
from .targets import DASHBOARD_P95, MONTHLY_PDF


def prepare_dashboards(ctx):
    """The generated cases bypass the app's signals, so the rollups are rebuilt from the raw steps with
    the dashboards' own rollup_rebuild (the same code its consistency test checks)."""
    from django.utils import timezone

    from yiwang.dashboards.rollups import rollup_rebuild

    prepare_cases(ctx)
    cases = ctx.datasets["cases"]
    today = timezone.localdate()
    # Rebuilt days: the smoke and default runs the last 62 days, city scale the last 367; each covers
    # every period its run asks for (city scale: up to days=365). The rebuild is set-based (a chunk
    # of days per statement); the generated steps are not stored in time order, so every chunk reads
    # most of the steps table and city scale takes a quarter of a year per chunk (see
    # docs/performance.md for the times; `manage.py rollup_rebuild` adds older days when wanted).
    days = 62 if ctx.scale in ("quick", "default") else 367
    start = today - dt.timedelta(days=days)
    params = {"cases": cases.get("cases"), "seed": ctx.seed, "days": days}
    chunk_days = 92 if ctx.scale == "full" else None

    def rebuild():
        info = rollup_rebuild(start, today, chunk_days=chunk_days)
        if ctx.scale == "full":
            # Millions of fresh rows: VACUUM sets the visibility map the category chart's index-only
            # scan needs (a running system's autovacuum would have; the test server runs without it).
            from django.db import connection

            with connection.cursor() as cursor:
                for table in ("dailyrollup", "dailytotal", "opencount", "workerdaily"):
                    cursor.execute(f"VACUUM (ANALYZE) dashboards_{table}")
        return info

    ctx.datasets["rollups"] = ensure_dataset("rollups", params, rebuild, log=ctx.log)


DASHBOARD_ROWS = (("district dashboard indicators, 8 clients", "ms p95", DASHBOARD_P95),
                  ("district dashboard charts (trend, categories), 8 clients", "ms p95", DASHBOARD_P95))


@benchmark("dashboard endpoints", feature="dashboards", http=True, rows=DASHBOARD_ROWS, prepare=prepare_dashboards,
           requires=("table:cases_case", "yiwang.dashboards.rollups:rollup_rebuild",
                     "yiwang.dashboards.api.views:IndicatorsView"))
def dashboard_endpoints(ctx):
    from django.urls import reverse

    auth = {"Authorization": ctx.tokens["qu_ddy"]}
    periods = ["days=30", "days=7", "days=14"]
    if ctx.scale == "full":  # only city scale rebuilds rollups that far back
        periods += ["days=90", "days=365"]
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    periods.append(f"month={month}")
    ceiling = ctx.minimal(8)
    size = (f"{ctx.datasets['cases'].get('cases', 0):,} cases, {ctx.datasets['cases'].get('case_steps', 0):,} steps; "
            f"district 141102, periods {', '.join(periods)}")
    indicators = ctx.load([{"path": f"{reverse('api:dashboard-indicators')}?area=141102&{p}", "headers": auth}
                           for p in periods], concurrency=8)
    charts = ctx.load([{"path": f"{reverse(name)}?area=141102&{p}", "headers": auth}
                       for p in periods for name in ("api:dashboard-trend", "api:dashboard-categories")],
                      concurrency=8)
    return [http_row("district dashboard indicators, 8 clients", indicators, ceiling=ceiling, metric="p95",
                     target=DASHBOARD_P95, size=size),
            http_row("district dashboard charts (trend, categories), 8 clients", charts, ceiling=ceiling,
                     metric="p95", target=DASHBOARD_P95, size=size)]


PDF_ROWS = (("subdistrict monthly PDF report", "s", MONTHLY_PDF),)


@benchmark("monthly pdf", feature="dashboards", rows=PDF_ROWS, prepare=prepare_dashboards,
           requires=("table:cases_case", "yiwang.dashboards.reports:build_monthly_pdf",
                     "yiwang.dashboards.rollups:rollup_rebuild"))
def monthly_pdf(ctx):
    from yiwang.dashboards.reports import build_monthly_pdf
    from yiwang.geography.models import Area, AreaLevel

    subdistrict = Area.objects.filter(level=AreaLevel.SUBDISTRICT).order_by("path").first()
    month = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    times, size = [], 0
    for _ in range(2 if ctx.mode == "quick" else 3):
        started = time.perf_counter()
        pdf = build_monthly_pdf(subdistrict, month)
        times.append(time.perf_counter() - started)
        size = len(pdf)
    return [row("subdistrict monthly PDF report", max(times), "s", target=MONTHLY_PDF,
                size=f"{subdistrict.name}, {month:%Y-%m}; {ctx.datasets['cases'].get('cases', 0):,} cases",
                note=f"best {min(times):.2f} s; {size / 1024:.0f} KB PDF; built in-process as the Celery task does")]
