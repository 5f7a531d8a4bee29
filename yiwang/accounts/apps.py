from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "yiwang.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from yiwang.core.navigation import register_nav
        from yiwang.core.panels import register_area_panel

        from .panels import staff_panel

        register_area_panel("staff", staff_panel, order=10)

        register_nav("tokens", _("API tokens"), "accounts:api_tokens", None, order=900, group="system")
