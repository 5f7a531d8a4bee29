"""Background work for cases: the deadline sweep (notification delivery is in yiwang.notifications.tasks)."""

from celery import shared_task


@shared_task(name="yiwang.cases.tasks.sla_sweep")
def sla_sweep() -> dict:
    from .services import case_deadline_sweep

    return case_deadline_sweep()
