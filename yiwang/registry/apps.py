from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "yiwang.registry"
    label = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from yiwang.core.navigation import register_nav
        from yiwang.core.panels import register_area_panel

        from . import permissions as p
        from .panels import needs_panel

        p.grant_registry_permissions()
        register_nav("registry", _("Residents"), "registry:resident_list", p.VIEW_RESIDENT, order=20)
        register_nav("registry_search", _("Search"), "registry:search", p.VIEW_RESIDENT, order=21)
        register_nav("organisations", _("Organisations"), "registry:organisation_list", p.VIEW_ORGANISATION,
                     order=22)
        register_nav("components", _("Components"), "registry:component_list", p.VIEW_COMPONENT, order=23)
        register_nav("situation", _("Situation log"), "registry:situation_list", p.ADD_SITUATION, order=24)
        register_nav("change_requests", _("Change requests"), "registry:change_request_list", p.VIEW_RESIDENT,
                     order=25)
        register_area_panel("registry_needs", needs_panel, order=20)
