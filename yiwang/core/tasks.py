"""Helpers for background work.

Tasks take IDs, never model instances, and are enqueued only after the surrounding transaction
commits, so a worker never sees a row that was rolled back. With no broker configured Celery runs
them eagerly, in-process, at commit time.
"""

from django.db import transaction


def enqueue_on_commit(task, *args, **kwargs) -> None:
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs))
