"""Delivery of notifications through external channels, and the periodic retry of failed ones.

The tasks lived in the cases app under the names yiwang.cases.tasks.*; the aliases at the end keep
messages already queued under those names (and beat schedules not yet restarted) working.
"""

from celery import shared_task


@shared_task(name="yiwang.notifications.tasks.deliver_notification")
def deliver_notification(delivery_id: int) -> str:
    from .services import deliver

    return deliver(delivery_id)


@shared_task(name="yiwang.notifications.tasks.retry_deliveries")
def retry_deliveries() -> int:
    from .services import deliver, due_delivery_ids

    ids = due_delivery_ids()
    for delivery_id in ids:
        deliver(delivery_id)
    return len(ids)


@shared_task(name="yiwang.cases.tasks.deliver_notification")
def legacy_deliver_notification(delivery_id: int) -> str:
    """The pre-0002 name (docs/decisions/0002-notifications-app.md); drop once no queue holds it."""
    return deliver_notification(delivery_id)


@shared_task(name="yiwang.cases.tasks.retry_deliveries")
def legacy_retry_deliveries() -> int:
    """The pre-0002 name of retry_deliveries."""
    return retry_deliveries()
