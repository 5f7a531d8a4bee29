"""Notifications: an in-app inbox per user plus pluggable external channels. The public API of the app;
see README.md. Any app may call

    notify(user=u, kind="cases.dispatched", title=..., body=..., link=..., dedupe_key="case:7:dispatch:3")
    notify(phone="13800000000", kind="cases.public_step", title=..., channels=("sms",), dedupe_key=...)
    notify_many([{"user_id": 7, "kind": ..., "title": ..., "dedupe_key": ...}, ...])   # one INSERT
    notify_transient(phone=..., kind=..., title="code 123456", stored_title="code ******", channels=("sms",), ...)

`dedupe_key` is unique: calling twice with the same key returns the first notification and sends
nothing again. A user always gets the inbox entry; each external channel becomes a
NotificationDelivery row, sent by the `deliver_notification` task after commit, retried with
back-off by the periodic `retry_deliveries` task, and marked sent exactly once.

Channels: the defaults (sms, email, wechat) write to the console log (phones masked). An app adds a
channel with `register_channel(name, "dotted.path.Class")` in its AppConfig.ready();
settings.YIWANG_NOTIFY_BACKENDS ({"sms": "dotted.path.Class", ...}) overrides both. A backend has
`send(notification) -> None` and raises on failure. The phone is stored sealed
(core.pii.sealed_columns); `notification.phone` decrypts it.

A message that must not be kept, such as a one-time verification code, goes through `notify_transient`:
the notification row (and so the admin, any inbox and the delivery records) holds only the redacted
text, and the backend receives the real text once, in this process, right after commit. It is never
put on a task queue (the broker would hold it) nor retried later (nothing holds it any more): a failed
send is marked "gave up" at once and the person asks for a new code.
"""

import copy
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from yiwang.core import pii
from yiwang.core.inserts import insert_new
from yiwang.core.tasks import enqueue_on_commit

from .models import DeliveryStatus, Notification, NotificationDelivery

MAX_ATTEMPTS = 5

# channel -> dotted path of its backend class; register_channel adds to it, settings override it.
_channel_backends: dict[str, str] = {
    "sms": "yiwang.notifications.backends.ConsoleSMS",
    "email": "yiwang.notifications.backends.ConsoleEmail",
    "wechat": "yiwang.notifications.backends.ConsoleWeChat",
}


def register_channel(channel: str, backend_path: str) -> None:
    """Add a channel (or replace a default's backend); settings.YIWANG_NOTIFY_BACKENDS still wins."""
    _channel_backends[channel] = backend_path


def channel_backends() -> dict[str, str]:
    """Every known channel with the dotted path of the backend that sends it."""
    return {**_channel_backends, **getattr(settings, "YIWANG_NOTIFY_BACKENDS", {})}


def backend_for(channel: str):
    """A backend instance for `channel`; KeyError for a channel nobody registered."""
    return import_string(channel_backends()[channel])()


def _check_channels(channels) -> None:
    unknown = sorted(set(channels) - set(channel_backends()))
    if unknown:
        raise ValueError(f"unknown notification channels: {unknown}")


def _notification(*, user=None, user_id=None, phone: str = "", email: str = "", kind: str, title: str, body: str = "",
                  link: str = "", dedupe_key: str, channels: tuple[str, ...] = ()) -> Notification:
    """The unsaved row (its `channels` become deliveries once it is saved, see _queue_deliveries)."""
    return Notification(user_id=user.pk if user is not None else user_id,
                        **pii.sealed_columns("phone", phone, kind="phone"), email=email, kind=kind,
                        title=str(title)[:200], body=str(body), link=link[:300], dedupe_key=dedupe_key[:200])


def _reachable(channels, phone: str, email: str) -> list[str]:
    """The channels that have somewhere to send to (no SMS without a phone, no email without an address)."""
    return [channel for channel in channels
            if not (channel == "sms" and not phone) and not (channel == "email" and not email)]


def _deliveries(notification: Notification, channels, phone: str, email: str) -> list[int]:
    """Create a delivery row per channel that can reach the recipient; their keys."""
    return [NotificationDelivery.objects.create(notification=notification, channel=channel).pk
            for channel in _reachable(channels, phone, email)]


def _queue_deliveries(delivery_ids: list[int]) -> None:
    from .tasks import deliver_notification

    for delivery_id in delivery_ids:
        enqueue_on_commit(deliver_notification, delivery_id)


def _record_once(dedupe_key: str, build, channels, phone: str, email: str) -> tuple[Notification, list[int]]:
    """Save build()'s notification with its deliveries, unless one with this dedupe key is recorded already
    (before, or by a concurrent call): then that one, and no deliveries to send."""
    _check_channels(channels)
    existing = Notification.objects.filter(dedupe_key=dedupe_key[:200]).first()
    if existing is not None:
        return existing, []
    try:
        with transaction.atomic():
            notification = build()
            notification.save()
            return notification, _deliveries(notification, channels, phone, email)
    except IntegrityError:
        return Notification.objects.get(dedupe_key=dedupe_key[:200]), []


def notify(*, user=None, user_id: int | None = None, phone: str = "", email: str = "", kind: str, title: str,
           body: str = "", link: str = "", channels: tuple[str, ...] = (), dedupe_key: str) -> Notification:
    """Record one notification (idempotent on dedupe_key) and queue its external deliveries."""
    notification, delivery_ids = _record_once(
        dedupe_key, lambda: _notification(user=user, user_id=user_id, phone=phone, email=email, kind=kind,
                                          title=title, body=body, link=link, dedupe_key=dedupe_key),
        channels, phone, email)
    _queue_deliveries(delivery_ids)
    return notification


def notify_many(notices: list[dict]) -> None:
    """Record several notifications (each a dict of `notify` arguments) with one INSERT.

    The outcome is that of calling `notify` for each in order: a repeated dedupe key keeps its first
    notice, and a notice whose key is already taken in the database goes through `notify`. The INSERT
    skips taken keys (ON CONFLICT DO NOTHING) rather than failing, so it needs no savepoint."""
    unique: dict[str, dict] = {}
    for notice in notices:
        unique.setdefault(notice["dedupe_key"][:200], notice)
    if not unique:
        return
    _check_channels({channel for notice in unique.values() for channel in notice.get("channels", ())})
    rows = [_notification(**notice) for notice in unique.values()]
    try:
        insert_new(rows, skip_conflicts_on="dedupe_key")
    except NotImplementedError:  # a database without INSERT ... ON CONFLICT ... RETURNING: one by one
        pass
    for row, notice in zip(rows, unique.values(), strict=True):
        if row.pk is None:
            notify(**notice)
        elif notice.get("channels"):
            _queue_deliveries(_deliveries(row, notice["channels"], notice.get("phone", ""), notice.get("email", "")))


def notify_transient(*, phone: str = "", email: str = "", kind: str, title: str, body: str = "",
                     stored_title: str, stored_body: str = "", channels: tuple[str, ...],
                     dedupe_key: str) -> Notification:
    """Send `title`/`body` once through each channel while recording only `stored_title`/`stored_body`
    (the text with its secret redacted). The real text lives in this call's memory until the
    deliveries run right after commit; a replayed dedupe key returns the first notification and sends
    nothing."""
    notification, delivery_ids = _record_once(
        dedupe_key, lambda: _notification(phone=phone, email=email, kind=kind, title=stored_title, body=stored_body,
                                          dedupe_key=dedupe_key),
        channels, phone, email)
    text = (str(title)[:200], str(body))
    if delivery_ids:
        transaction.on_commit(lambda: [deliver(delivery_id, text=text) for delivery_id in delivery_ids])
    return notification


def deliver(delivery_id: int, *, text: tuple[str, str] | None = None) -> str:
    """Send one delivery if it is still due; the row lock makes a concurrent second send impossible.
    Returns "sent", "failed" (retried later, or given up after MAX_ATTEMPTS) or "skipped".

    `text` (title, body) replaces the stored, redacted text for the backend only (notify_transient);
    such a delivery is tried once, since nothing could resend it."""
    with transaction.atomic():
        delivery = (NotificationDelivery.objects.select_for_update(of=("self",)).select_related("notification__user")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status in (DeliveryStatus.SENT, DeliveryStatus.GAVE_UP):
            return "skipped"
        delivery.attempts += 1
        message = delivery.notification
        if text is not None:
            message = copy.copy(message)  # the backend reads the real text; the row keeps the redacted one
            message.title, message.body = text
        try:
            backend_for(delivery.channel).send(message)
        except Exception as exc:  # any backend failure is retried later
            delivery.last_error = f"{exc.__class__.__name__}: {exc}"[:300]
            if delivery.attempts >= MAX_ATTEMPTS or text is not None:
                delivery.status = DeliveryStatus.GAVE_UP
            else:
                delivery.status = DeliveryStatus.FAILED
                delivery.next_attempt_at = timezone.now() + timedelta(minutes=5 * 2 ** (delivery.attempts - 1))
            delivery.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            return "failed"
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.save(update_fields=["attempts", "status", "sent_at"])
        return "sent"


def due_delivery_ids(now=None, limit: int = 500) -> list[int]:
    """The failed deliveries whose back-off has elapsed, for the retry sweep."""
    now = now or timezone.now()
    return list(NotificationDelivery.objects.filter(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
                .values_list("pk", flat=True)[:limit])


def inbox_for(user):
    """The user's own notifications, newest first."""
    return Notification.objects.filter(user=user)


def notification_mark_read(*, actor, notification_id: int | None = None) -> int:
    """Mark one of the actor's unread notifications (or all of them) read; returns how many changed."""
    qs = Notification.objects.filter(user=actor, read_at__isnull=True)
    if notification_id is not None:
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=timezone.now())
