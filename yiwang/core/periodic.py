"""Periodic work that runs under Celery beat in production and in-process on the embedded default.

Apps register their periodic tasks in AppConfig.ready():

    register_periodic("cases.sla_sweep", "yiwang.cases.tasks.sla_sweep", seconds=300)

Registration writes settings.CELERY_BEAT_SCHEDULE (read by `celery beat`). When no broker is
configured, `run_periodic_forever` (started by `manage.py serve`) calls the same tasks on the
same intervals in a daemon thread.
"""

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def register_periodic(name: str, task_path: str, *, seconds: int) -> None:
    settings.CELERY_BEAT_SCHEDULE[name] = {"task": task_path, "schedule": float(seconds)}


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run every registered task whose interval has elapsed; returns the names run."""
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if now - last_run.get(name, 0.0) < entry["schedule"]:
            continue
        last_run[name] = now
        try:
            import_string(entry["task"]).apply()
            ran.append(name)
        except Exception:  # a failing job must not stop the others
            logger.exception("periodic task %s failed", name)
        finally:
            close_old_connections()
    return ran


def run_periodic_forever(stop: threading.Event, tick: float = 5.0) -> None:
    last_run: dict[str, float] = {}  # everything runs at the first tick, then on its interval
    while not stop.wait(tick):
        run_due(last_run, time.time())


def start_in_process_runner() -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=run_periodic_forever, args=(stop,), daemon=True, name="yiwang-periodic").start()
    return stop
