# Notification and NotificationDelivery moved to the notifications app, which took over their tables
# (notifications 0001; docs/decisions/0002-notifications-app.md). Here they leave the cases state only:
# the tables and their rows stay. Their content types follow them, so admin history and any permission
# granted on them keep pointing at the same models.

from django.db import migrations

MOVED = ("notification", "notificationdelivery")


def _relabel(apps, old: str, new: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=new, model=model).exists():
            ContentType.objects.filter(app_label=old, model=model).update(app_label=new)


def content_types_to_notifications(apps, schema_editor):
    _relabel(apps, "cases", "notifications")


def content_types_to_cases(apps, schema_editor):
    _relabel(apps, "notifications", "cases")


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0007_calendar_override"),
        ("notifications", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="notificationdelivery", name="notification"),
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="NotificationDelivery"),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_to_notifications, content_types_to_cases),
    ]
