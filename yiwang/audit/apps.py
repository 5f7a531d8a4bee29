from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "yiwang.audit"
    label = "audit"
    verbose_name = _("Audit")

    def ready(self):
        from yiwang.core.navigation import register_nav

        register_nav("audit", _("Audit log"), "audit:list", "audit.view_auditevent", order=850, group="system")
