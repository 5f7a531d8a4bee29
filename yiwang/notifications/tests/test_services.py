"""The notification services: inbox entries, deliveries per channel, idempotency, retries, transient texts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yiwang.accounts.tests.factories import UserFactory
from yiwang.notifications import services
from yiwang.notifications.models import DeliveryStatus, Notification, NotificationDelivery
from yiwang.notifications.services import (
    backend_for,
    channel_backends,
    deliver,
    due_delivery_ids,
    inbox_for,
    notification_mark_read,
    notify,
    notify_many,
    notify_transient,
    register_channel,
)
from yiwang.notifications.tasks import retry_deliveries

PHONE = "13912345678"

pytestmark = pytest.mark.django_db


def test_notify_files_an_inbox_entry_and_sends_each_reachable_channel_after_commit(
        recording, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notice = notify(user=user, phone=PHONE, kind="test.hello", title="你好", body="正文", link="/x/",
                        channels=("sms", "email"), dedupe_key="hello:1")  # no address: no email delivery
        assert recording.sms.sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    assert list(inbox_for(user)) == [notice]
    assert recording.sms.sent == [("你好", "正文", PHONE)] and recording.email.sent == []
    delivery = NotificationDelivery.objects.get(notification=notice)
    assert (delivery.channel, delivery.status, delivery.attempts) == ("sms", DeliveryStatus.SENT, 1)
    assert delivery.sent_at is not None


def test_the_same_dedupe_key_records_and_sends_once(recording, django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = notify(user=user, email="a@example.org", kind="k", title="一", channels=("email",), dedupe_key="d:1")
        again = notify(user=user, email="a@example.org", kind="k", title="二", channels=("email",), dedupe_key="d:1")
    assert again.pk == first.pk and again.title == "一"
    assert Notification.objects.count() == 1 and NotificationDelivery.objects.count() == 1
    assert recording.email.sent == [("一", "", "a@example.org")]
    assert deliver(NotificationDelivery.objects.get().pk) == "skipped"  # a sent delivery is never sent again
    assert len(recording.email.sent) == 1


def test_an_unknown_channel_is_refused_before_anything_is_recorded():
    user = UserFactory()
    with pytest.raises(ValueError, match="pigeon"):
        notify(user=user, kind="k", title="t", channels=("pigeon",), dedupe_key="p:1")
    with pytest.raises(ValueError, match="pigeon"):
        notify_many([{"user": user, "kind": "k", "title": "t", "channels": ("pigeon",), "dedupe_key": "p:2"}])
    assert not Notification.objects.exists()


def test_notify_many_inserts_once_and_keeps_the_first_of_a_repeated_key(
        recording, django_capture_on_commit_callbacks):
    a, b = UserFactory(), UserFactory()
    with CaptureQueriesContext(connection) as queries:
        notify_many([{"user_id": a.pk, "kind": "k", "title": "给甲", "dedupe_key": "m:a"},
                     {"user_id": b.pk, "kind": "k", "title": "给乙", "dedupe_key": "m:b"},
                     {"user_id": b.pk, "kind": "k", "title": "重复", "dedupe_key": "m:b"}])
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("INSERT") == 1 and "SELECT" not in statements  # savepoint statements aside
    assert [n.title for n in inbox_for(a)] == ["给甲"] and [n.title for n in inbox_for(b)] == ["给乙"]
    # A key already in the database: that notice goes through notify, with the same outcome.
    with django_capture_on_commit_callbacks(execute=True):
        notify_many([{"user_id": a.pk, "kind": "k", "title": "新的", "dedupe_key": "m:a"},
                     {"phone": PHONE, "kind": "k", "title": "短信", "channels": ("sms",), "dedupe_key": "m:c"}])
    assert [n.title for n in inbox_for(a)] == ["给甲"]
    assert recording.sms.sent == [("短信", "", PHONE)]
    assert Notification.objects.count() == 3


def test_notify_many_skips_a_taken_key_without_a_savepoint_and_records_the_others(
        recording, django_capture_on_commit_callbacks):
    """One INSERT that leaves the taken key out (ON CONFLICT DO NOTHING), instead of a savepoint rolled back
    and every notice sent again one by one; the taken key keeps its first notice and sends nothing."""
    a, b = UserFactory(), UserFactory()
    first = notify(user=a, kind="k", title="先到", dedupe_key="x:taken")
    with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as queries:
        notify_many([{"user_id": b.pk, "kind": "k", "title": "新一", "dedupe_key": "x:1"},
                     {"user_id": b.pk, "phone": PHONE, "kind": "k", "title": "后到", "channels": ("sms",),
                      "dedupe_key": "x:taken"},
                     {"phone": PHONE, "kind": "k", "title": "新二", "channels": ("sms",), "dedupe_key": "x:2"}])
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any(s.upper().startswith(("SAVEPOINT", "ROLLBACK")) for s in sql), sql
    assert sum(s.startswith(f'INSERT INTO "{Notification._meta.db_table}"') for s in sql) == 1, sql
    taken = Notification.objects.get(dedupe_key="x:taken")
    assert (taken.pk, taken.title, taken.user_id) == (first.pk, "先到", a.pk)
    assert [n.title for n in inbox_for(b)] == ["新一"]
    assert Notification.objects.get(dedupe_key="x:2").title == "新二"
    assert recording.sms.sent == [("新二", "", PHONE)]
    assert NotificationDelivery.objects.count() == 1


def test_a_failed_send_is_retried_with_back_off_until_sent_once(recording, django_capture_on_commit_callbacks):
    recording.sms.fail = True
    with django_capture_on_commit_callbacks(execute=True):
        notice = notify(phone=PHONE, kind="k", title="重试", channels=("sms",), dedupe_key="r:1")
    delivery = NotificationDelivery.objects.get(notification=notice)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert "gateway down" in delivery.last_error
    wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(minutes=4) < wait <= timedelta(minutes=5)
    assert due_delivery_ids() == []  # not before the back-off
    assert due_delivery_ids(now=timezone.now() + timedelta(minutes=6)) == [delivery.pk]

    recording.sms.fail = False
    delivery.next_attempt_at = timezone.now() - timedelta(seconds=1)
    delivery.save(update_fields=["next_attempt_at"])
    assert retry_deliveries.apply().get() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)
    assert recording.sms.sent == [("重试", "", PHONE)]
    assert retry_deliveries.apply().get() == 0 and len(recording.sms.sent) == 1


def test_back_off_doubles_and_the_fifth_failure_gives_up(recording, django_capture_on_commit_callbacks):
    recording.sms.fail = True
    with django_capture_on_commit_callbacks(execute=True):
        notify(phone=PHONE, kind="k", title="t", channels=("sms",), dedupe_key="g:1")
    delivery = NotificationDelivery.objects.get()
    waits = []
    for _ in range(services.MAX_ATTEMPTS - 1):
        delivery.refresh_from_db()
        waits.append(round((delivery.next_attempt_at - timezone.now()).total_seconds() / 60))
        assert deliver(delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert waits == [5, 10, 20, 40]
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, services.MAX_ATTEMPTS)
    assert due_delivery_ids(now=timezone.now() + timedelta(days=1)) == []
    recording.sms.fail = False
    assert deliver(delivery.pk) == "skipped" and recording.sms.sent == []


def test_a_transient_text_reaches_the_backend_once_and_only_its_redaction_is_stored(
        recording, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = notify_transient(phone=PHONE, kind="test.code", title="验证码 654321", stored_title="验证码 ******",
                                  body="10分钟内有效", stored_body="10分钟内有效", channels=("sms",),
                                  dedupe_key="code:1")
    assert recording.sms.sent == [("验证码 654321", "10分钟内有效", PHONE)]
    notice.refresh_from_db()
    assert notice.title == "验证码 ******"
    assert NotificationDelivery.objects.get(notification=notice).status == DeliveryStatus.SENT
    assert deliver(NotificationDelivery.objects.get().pk) == "skipped"  # the redacted text is never sent


def test_a_failed_transient_send_gives_up_at_once(recording, django_capture_on_commit_callbacks):
    recording.sms.fail = True
    with django_capture_on_commit_callbacks(execute=True):
        notify_transient(phone=PHONE, kind="test.code", title="验证码 111111", stored_title="验证码 ******",
                         channels=("sms",), dedupe_key="code:2")
    delivery = NotificationDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.GAVE_UP, 1)
    assert due_delivery_ids(now=timezone.now() + timedelta(days=1)) == []


def test_inbox_and_mark_read_touch_only_the_actors_own_notifications():
    me, other = UserFactory(), UserFactory()
    mine = [notify(user=me, kind="k", title=f"我的{i}", dedupe_key=f"me:{i}") for i in range(3)]
    theirs = notify(user=other, kind="k", title="别人的", dedupe_key="other:1")
    assert list(inbox_for(me)) == mine[::-1]  # newest first
    assert notification_mark_read(actor=me, notification_id=theirs.pk) == 0
    assert notification_mark_read(actor=me, notification_id=mine[0].pk) == 1
    assert notification_mark_read(actor=me, notification_id=mine[0].pk) == 0  # already read
    assert notification_mark_read(actor=me) == 2
    assert not inbox_for(me).filter(read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


class Pigeon:
    channel = "pigeon"
    sent: list[str] = []

    def send(self, notification) -> None:
        Pigeon.sent.append(notification.title)


def test_an_app_registers_a_channel_and_settings_override_any_backend(django_capture_on_commit_callbacks):
    registered = dict(services._channel_backends)
    try:
        register_channel("pigeon", f"{__name__}.Pigeon")
        assert isinstance(backend_for("pigeon"), Pigeon)
        Pigeon.sent = []
        with django_capture_on_commit_callbacks(execute=True):
            notify(user=UserFactory(), kind="k", title="信鸽", channels=("pigeon",), dedupe_key="pigeon:1")
        assert Pigeon.sent == ["信鸽"]
        with override_settings(YIWANG_NOTIFY_BACKENDS={"sms": f"{__name__}.Pigeon"}):
            assert isinstance(backend_for("sms"), Pigeon)
    finally:
        services._channel_backends.clear()
        services._channel_backends.update(registered)
    assert "pigeon" not in channel_backends()
    assert backend_for("sms").__class__.__name__ == "ConsoleSMS"
