"""Background work for cases: notification delivery and its retries, and the deadline sweep."""

from celery import shared_task


@shared_task(name="yiwang.cases.tasks.deliver_notification")
def deliver_notification(delivery_id: int) -> str:
    from .notifications import deliver

    return deliver(delivery_id)


@shared_task(name="yiwang.cases.tasks.retry_deliveries")
def retry_deliveries() -> int:
    from .notifications import deliver, due_delivery_ids

    ids = due_delivery_ids()
    for delivery_id in ids:
        deliver(delivery_id)
    return len(ids)


@shared_task(name="yiwang.cases.tasks.sla_sweep")
def sla_sweep() -> dict:
    from .services import case_deadline_sweep

    return case_deadline_sweep()
