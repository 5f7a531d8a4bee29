"""The move from the cases app: rows recorded under the old models are read by the new ones."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from yiwang.notifications.models import DeliveryStatus, Notification

BEFORE_MOVE = [("cases", "0007_calendar_override"), ("notifications", None)]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it():
    user = get_user_model().objects.create(username="before_move")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_MOVE)
    try:
        old = executor.loader.project_state([BEFORE_MOVE[0]]).apps
        OldNotification = old.get_model("cases", "Notification")
        OldDelivery = old.get_model("cases", "NotificationDelivery")
        with pytest.raises(LookupError):
            old.get_model("notifications", "Notification")
        notice = OldNotification.objects.create(user_id=user.pk, kind="cases.dispatch", title="派遣前",
                                                dedupe_key="move:1")
        OldDelivery.objects.create(notification=notice, channel="sms", status="failed", attempts=2)
        ContentType.objects.filter(app_label="notifications").delete()  # as in a database made before the move
        ContentType.objects.get_or_create(app_label="cases", model="notification")
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    ContentType.objects.clear_cache()
    moved = Notification.objects.get(dedupe_key="move:1")
    assert (moved.pk, moved.user, moved.title) == (notice.pk, user, "派遣前")
    assert list(moved.deliveries.values_list("channel", "status", "attempts")) == [("sms", DeliveryStatus.FAILED, 2)]
    assert ContentType.objects.get_for_model(Notification).app_label == "notifications"
    assert not ContentType.objects.filter(app_label="cases", model="notification").exists()
