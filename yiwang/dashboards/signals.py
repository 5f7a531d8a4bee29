"""Keep rollups current: every committed case step schedules a refresh of its grid and day.

A refresh recounts the (grid, day) from the raw steps, so one refresh after commit covers every step
of that grid and day written in the transaction. Case intake writes two (create, then the automatic
accept); scheduling the refresh once per (grid, day) per transaction halves the work done at commit.
"""

from django.db import connection, transaction


class _Refresh:
    """The on-commit hook of one (grid, day); `key` lets a later step in the transaction find it."""

    def __init__(self, grid_path: str, day: str):
        self.key = ("dashboards.rollup_refresh", grid_path, day)

    def __call__(self):
        from .tasks import rollup_refresh

        rollup_refresh.apply_async(args=self.key[1:])


def _already_scheduled(key: tuple) -> bool:
    """Whether a hook for `key` is pending and survives whatever rollback would undo the current step:
    the pending hook's savepoints must all still be open (a rollback dropping it drops this step too)."""
    if not connection.in_atomic_block:
        return False
    open_savepoints = set(connection.savepoint_ids)
    return any(getattr(func, "key", None) == key and sids <= open_savepoints
               for sids, func, *_rest in connection.run_on_commit)


def step_committed(sender, instance, created, raw=False, **kwargs):
    if not created or raw or not instance.area_path:
        return
    from .rollups import local_day

    hook = _Refresh(instance.area_path, local_day(instance.at).isoformat())
    if _already_scheduled(hook.key):
        return
    transaction.on_commit(hook)  # as yiwang.core.tasks.enqueue_on_commit does, with a findable hook
