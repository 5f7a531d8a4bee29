from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeographyConfig(AppConfig):
    name = "yiwang.geography"
    label = "geography"
    verbose_name = _("Geography")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from yiwang.core.navigation import register_nav

        from .models import Area
        from .spatial import invalidate_grid_index

        post_save.connect(invalidate_grid_index, sender=Area, dispatch_uid="grid_index_save")
        post_delete.connect(invalidate_grid_index, sender=Area, dispatch_uid="grid_index_delete")

        register_nav("map", _("Map"), "geography:map", "geography.view_area", order=10)
        register_nav("area_import", _("Import areas"), "geography:tree_import", "geography.change_area", order=800,
                     group="system")
