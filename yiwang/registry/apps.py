from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
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
        group = {"group": "registry"}
        register_nav("registry", _("Residents"), "registry:resident_list", p.VIEW_RESIDENT, order=20, **group)
        register_nav("households", _("Households"), "registry:household_list", p.VIEW_RESIDENT, order=21, **group)
        register_nav("dwellings", _("Dwellings"), "registry:dwelling_list", p.VIEW_RESIDENT, order=22, **group)
        register_nav("rentals", _("Rentals"), "registry:rental_list", p.VIEW_RESIDENT, order=23, **group)
        register_nav("registry_search", _("Search"), "registry:search", p.VIEW_RESIDENT, order=24, **group)
        register_nav("organisations", _("Organisations"), "registry:organisation_list", p.VIEW_ORGANISATION,
                     order=25, **group)
        register_nav("components", _("Components"), "registry:component_list", p.VIEW_COMPONENT, order=26, **group)
        register_nav("situation", _("Situation log"), "registry:situation_list", p.ADD_SITUATION, order=27, **group)
        register_nav("change_requests", _("Change requests"), "registry:change_request_list", p.VIEW_RESIDENT,
                     order=28, **group)
        register_area_panel("registry_needs", needs_panel, order=20)
        # Reference data comes from a data migration, but transactional tests (and `flush`) empty
        # every table; flush emits post_migrate, so put the reference data back there.
        post_migrate.connect(_ensure_reference_data, sender=self, dispatch_uid="registry_reference_data")
        # Search keeps the special groups' names for a minute; a change made in this process counts at once.
        from .models import SpecialGroup
        from .selectors import forget_special_group_names

        post_save.connect(forget_special_group_names, sender=SpecialGroup, dispatch_uid="registry_group_names_save")
        post_delete.connect(forget_special_group_names, sender=SpecialGroup,
                            dispatch_uid="registry_group_names_delete")


def _ensure_reference_data(sender, using="default", **kwargs):
    from django.apps import apps

    from .models import ComponentCategory, SpecialGroup
    from .seed import COMPONENT_TREE, SPECIAL_GROUPS, load_seed

    categories = sum(len(minors) for _code, _name, minors in COMPONENT_TREE)
    if (SpecialGroup.objects.using(using).count() < len(SPECIAL_GROUPS)
            or ComponentCategory.objects.using(using).count() < categories):
        load_seed(apps)
