"""Keep rollups current: every committed case step schedules a refresh of its grid and day."""

from yiwang.core.tasks import enqueue_on_commit


def step_committed(sender, instance, created, raw=False, **kwargs):
    if not created or raw or not instance.area_path:
        return
    from .rollups import local_day
    from .tasks import rollup_refresh

    enqueue_on_commit(rollup_refresh, instance.area_path, local_day(instance.at).isoformat())
