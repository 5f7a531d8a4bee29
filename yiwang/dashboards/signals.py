"""Keep rollups current: every committed case step schedules a refresh of its grid and day.

A refresh recounts the (grid, day) from the raw steps, so one refresh after commit covers every step
of that grid and day written in the transaction. Case intake writes two (create, then the automatic
accept), an offline sync batch dozens: the refresh is scheduled once per (grid, day) per transaction.
"""

from django.db import connection, transaction


class _Refresh:
    """The on-commit hook of one (grid, day); `key` lets a later step in the transaction find it."""

    def __init__(self, grid_path: str, day: str):
        self.key = ("dashboards.rollup_refresh", grid_path, day)
        self.ran = False

    def __call__(self):
        from .tasks import rollup_refresh

        self.ran = True
        if rollup_refresh.app.conf.task_always_eager:
            rollup_refresh.run(*self.key[1:])  # no broker: the task body here, without Celery's eager tracing
        else:
            rollup_refresh.apply_async(args=self.key[1:])


def _already_scheduled(key: tuple) -> bool:
    """Whether a hook for `key` is pending and will run if the current step commits.

    A pending hook is dropped only when a savepoint that was open at its registration rolls back.
    Savepoints released since can no longer roll back, and the ones still open enclose the current
    step too: whatever rollback drops the pending hook drops this step as well. So any pending hook
    for the key will do, including one registered in a sibling savepoint already released (the
    offline sync applies each record in its own savepoint: 40 event reports, one refresh). A hook
    that has already run does not (only a test harness runs hooks before the commit)."""
    return connection.in_atomic_block and any(getattr(func, "key", None) == key and not func.ran
                                              for _sids, func, *_rest in connection.run_on_commit)


def step_committed(sender, instance, created, raw=False, **kwargs):
    if not created or raw or not instance.area_path:
        return
    from .rollups import local_day

    hook = _Refresh(instance.area_path, local_day(instance.at).isoformat())
    if _already_scheduled(hook.key):
        return
    transaction.on_commit(hook)  # as yiwang.core.tasks.enqueue_on_commit does, with a findable hook
