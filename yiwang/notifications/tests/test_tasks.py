"""Task names: the current ones, the names used while the app was part of cases, and the periodic retry."""

import pytest
from django.conf import settings
from django.utils.module_loading import import_string

from config.celery import app
from yiwang.notifications import tasks  # noqa: F401  (registers the task names, as a worker's autodiscovery does)
from yiwang.notifications.models import DeliveryStatus, NotificationDelivery
from yiwang.notifications.services import notify

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["yiwang.notifications.tasks.deliver_notification",
                                  "yiwang.cases.tasks.deliver_notification"])
def test_a_queued_delivery_runs_under_the_current_and_the_old_task_name(name, recording):
    notice = notify(phone="13912345678", kind="k", title="t", channels=("sms",), dedupe_key="q:1")
    delivery = NotificationDelivery.objects.get(notification=notice)  # captured: not sent yet
    assert app.tasks[name].apply(args=[delivery.pk]).get() == "sent"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and len(recording.sms.sent) == 1
    assert app.tasks[name].apply(args=[delivery.pk]).get() == "skipped"


@pytest.mark.parametrize("name", ["yiwang.notifications.tasks.retry_deliveries",
                                  "yiwang.cases.tasks.retry_deliveries"])
def test_the_retry_sweep_runs_under_the_current_and_the_old_task_name(name):
    assert app.tasks[name].apply().get() == 0


def test_the_retry_sweep_is_scheduled_every_two_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications.retry_deliveries"]
    assert entry["schedule"] == 120.0
    assert import_string(entry["task"]).name == "yiwang.notifications.tasks.retry_deliveries"
    assert "cases.retry_deliveries" not in settings.CELERY_BEAT_SCHEDULE  # not run twice
