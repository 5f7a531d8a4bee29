"""Helpers for background work.

Tasks take IDs, never model instances, and are enqueued only after the surrounding transaction
commits, so a worker never sees a row that was rolled back. With no broker configured Celery runs
them eagerly, in-process, at commit time.
"""

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone


def enqueue_on_commit(task, *args, **kwargs) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))


HEARTBEAT_CACHE_KEY = "yiwang:periodic:heartbeat"


@shared_task(name="yiwang.core.tasks.heartbeat")
def heartbeat() -> str:
    """Periodic proof of life: /healthz shows when periodic work last ran (beat or in-process)."""
    stamp = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, stamp, timeout=None)
    return stamp


@shared_task(name="yiwang.core.tasks.ping")
def ping() -> str:
    return "pong"
