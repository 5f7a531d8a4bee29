"""Background work of the dashboards: rollup refreshes, the periodic safety net, monthly reports."""

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

logger = logging.getLogger(__name__)


@shared_task(name="yiwang.dashboards.tasks.rollup_refresh")
def rollup_refresh(grid_path: str, day: str) -> None:
    """Recompute one (grid, day) and the grid's open counts after a case step committed."""
    from .rollups import rollup_refresh as refresh

    try:
        refresh(grid_path, dt.date.fromisoformat(day))
    except Exception:  # never fail the case move that triggered us; the periodic rebuild repairs
        logger.exception("rollup refresh of %s %s failed", grid_path, day)


@shared_task(name="yiwang.dashboards.tasks.rollup_drain")
def rollup_drain() -> int:
    """Refresh every (grid, day) queued by committed steps (settings.YIWANG_ROLLUPS == "queued")."""
    from .rollups import rollup_drain as drain

    return drain()


@shared_task(name="yiwang.dashboards.tasks.rollup_recent")
def rollup_recent() -> dict:
    """Safety net: rebuild today and yesterday in full (covers bulk-loaded steps and lost refreshes)."""
    from .rollups import rollup_rebuild

    today = timezone.localdate()
    return rollup_rebuild(today - dt.timedelta(days=1), today)


@shared_task(name="yiwang.dashboards.tasks.monthly_report_build")
def monthly_report_build(report_id: int) -> None:
    from .reports import monthly_report_run

    monthly_report_run(report_id)
