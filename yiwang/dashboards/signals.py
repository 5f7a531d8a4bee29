"""Keep rollups current: every committed case step brings its grid and day up to date.

Two modes (settings.YIWANG_ROLLUPS, README "Rollups"):

- "immediate" (the embedded default, no broker): a refresh recounts the (grid, day) from the raw steps
  right after commit, so one refresh covers every step of that grid and day written in the transaction
  (an offline sync batch writes dozens: one refresh per (grid, day) per transaction). A case reported in
  a transaction of its own (the API, the report pages, Open311) is counted in that transaction instead
  (`case_created`, rollups.count_new_case): adding one to the right counters costs a fraction of a
  recount. Inside a caller's longer transaction (the sync batch) the refresh after commit stays, so that
  the rows shared by every grid (district, subdistrict) are not held locked while the caller goes on.
- "queued" (production): the step's transaction only adds a RollupPending row for its (grid, day), once
  per transaction; the periodic drain (rollups.rollup_drain, a Celery beat task) recounts each queued key
  once, however many steps it received. The request writes no shared row and waits on no other request.
"""

from django.conf import settings
from django.db import connection, transaction


class _Hook:
    """An on-commit hook of one (grid, day) that later steps of the transaction find by its `key`
    (_already_scheduled). In immediate mode it runs the refresh after the commit; in queued mode it only
    marks the key as queued in this transaction (a rollback that drops the queued row drops it too)."""

    def __init__(self, kind: str, grid_path: str, day: str, run=None):
        self.key = (kind, grid_path, day)
        self.ran = False
        self._run = run

    def __call__(self):
        self.ran = True
        if self._run is not None:
            self._run(*self.key[1:])


def _refresh(grid_path: str, day: str) -> None:
    from .tasks import rollup_refresh

    if rollup_refresh.app.conf.task_always_eager:
        rollup_refresh.run(grid_path, day)  # no broker: the task body here, without Celery's eager tracing
    else:
        rollup_refresh.apply_async(args=(grid_path, day))


def queued() -> bool:
    return settings.YIWANG_ROLLUPS == "queued"


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


def _transaction_ends_with_this_block(connection) -> bool:
    """Whether the innermost atomic block is the whole transaction (not a savepoint inside a caller's
    longer one). The blocks a test case wraps around each test are not the caller's (as for Django's
    `durable` atomic blocks)."""
    return [block._from_testcase for block in connection.atomic_blocks].count(False) == 1


def new_case_written(sender, case, steps, **kwargs):
    from .rollups import count_new_case

    if queued():
        return  # its steps queue their (grid, day) like any other step (step_committed)
    if not _transaction_ends_with_this_block(connection):
        return  # the refresh after commit counts it (step_committed)
    if count_new_case(case, steps):
        for step in steps:
            step.rollups_counted = True  # step_committed: nothing left to refresh for it


def step_committed(sender, instance, created, raw=False, **kwargs):
    if not created or raw or not instance.area_path or getattr(instance, "rollups_counted", False):
        return
    from .rollups import local_day, queue_refresh

    day = local_day(instance.at)
    if queued():
        mark = _Hook("dashboards.rollup_pending", instance.area_path, day.isoformat())
        if not _already_scheduled(mark.key):
            queue_refresh(instance.area_path, day)
            transaction.on_commit(mark)
        return
    hook = _Hook("dashboards.rollup_refresh", instance.area_path, day.isoformat(), run=_refresh)
    if _already_scheduled(hook.key):
        return
    transaction.on_commit(hook)  # as yiwang.core.tasks.enqueue_on_commit does, with a findable hook
