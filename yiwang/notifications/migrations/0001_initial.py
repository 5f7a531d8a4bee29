# The models moved here from the cases app (docs/decisions/0002-notifications-app.md). Their tables keep
# the names cases created (db_table), so this migration only records them in this app's state; the
# tables themselves were made by cases 0001..0005, which it therefore follows. cases 0008 then drops
# them from the cases state.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("cases", "0005_sealed_phones_drop_plain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("phone_cipher", models.TextField(blank=True, default="", editable=False)),
                ("phone_hash", models.CharField(blank=True, default="", editable=False, max_length=64)),
                ("phone_masked", models.CharField(blank=True, default="", editable=False, max_length=24)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("kind", models.CharField(max_length=40, verbose_name="kind")),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("body", models.TextField(blank=True, verbose_name="message")),
                ("link", models.CharField(blank=True, max_length=300)),
                ("dedupe_key", models.CharField(max_length=200, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("read_at", models.DateTimeField(blank=True, null=True)),
                ("user", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                           related_name="notifications", to=settings.AUTH_USER_MODEL)),
            ],
            options={
                "verbose_name": "notification",
                "verbose_name_plural": "notifications",
                "db_table": "cases_notification",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="NotificationDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("channel", models.CharField(max_length=20)),
                ("status", models.CharField(choices=[("pending", "pending"), ("sent", "sent"), ("failed", "failed"),
                                                     ("gave_up", "gave up")], default="pending", max_length=10)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("last_error", models.CharField(blank=True, max_length=300)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("notification", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                   related_name="deliveries", to="notifications.notification")),
            ],
            options={
                "db_table": "cases_notificationdelivery",
            },
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "read_at"], name="notification_inbox"),
        ),
        migrations.AddIndex(
            model_name="notificationdelivery",
            index=models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ),
        migrations.AddConstraint(
            model_name="notificationdelivery",
            constraint=models.UniqueConstraint(fields=("notification", "channel"), name="delivery_unique"),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
    ]
