from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeographyConfig(AppConfig):
    name = "yiwang.geography"
    label = "geography"
    verbose_name = _("Geography")

    def ready(self):
        from yiwang.core.navigation import register_nav

        register_nav("map", _("Map"), "geography:map", "geography.view_area", order=10)
        register_nav("area_import", _("Import areas"), "geography:tree_import", "geography.change_area", order=800,
                     group="system")
