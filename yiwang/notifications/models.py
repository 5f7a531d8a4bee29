"""The generic notification records: one Notification per message to one person (the in-app inbox
when it has a user) and one NotificationDelivery per external channel it goes out through.

The tables were created by the cases app and keep its names (cases_notification,
cases_notificationdelivery): see docs/decisions/0002-notifications-app.md.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core import pii


class Notification(models.Model):
    """One message to one person (any app may notify). Shown in the in-app inbox when `user` is set,
    and delivered through each channel in `deliveries`. `dedupe_key` makes a notice unique.
    The phone is sealed (core.pii.sealed_columns); SMS backends read the `phone` property."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="notifications")
    phone_cipher = models.TextField(editable=False, default="", blank=True)
    phone_hash = models.CharField(max_length=64, editable=False, default="", blank=True)
    phone_masked = models.CharField(max_length=24, editable=False, default="", blank=True)
    email = models.EmailField(blank=True)
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_notification"
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_inbox")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title

    @property
    def phone(self) -> str:
        """The destination number, decrypted for the SMS backend that sends this notification."""
        return pii.decrypt(self.phone_cipher)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    GAVE_UP = "gave_up", _("gave up")


class NotificationDelivery(models.Model):
    """A notification sent through one external channel (sms, email, wechat); never sent twice."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "cases_notificationdelivery"
        constraints = [models.UniqueConstraint(fields=["notification", "channel"], name="delivery_unique")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.channel} {self.status}"
