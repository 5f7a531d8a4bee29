from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "yiwang.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from yiwang.core.navigation import register_nav
        from yiwang.core.periodic import register_periodic

        register_nav("inbox", _("Inbox"), "notifications:inbox", None, order=890)
        register_periodic("notifications.retry_deliveries", "yiwang.notifications.tasks.retry_deliveries",
                          seconds=120)
