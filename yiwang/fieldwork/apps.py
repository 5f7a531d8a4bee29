from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldworkConfig(AppConfig):
    name = "yiwang.fieldwork"
    label = "fieldwork"
    verbose_name = _("Fieldwork")

    def ready(self):
        from yiwang.accounts.roles import Role, grant
        from yiwang.core.navigation import register_nav
        from yiwang.core.panels import register_area_panel

        from . import permissions as P
        from .panels import coverage_panel

        grant(Role.GRID_WORKER, P.USE_APP, P.ADD_PATROL, P.ADD_VISIT, P.CHANGE_VISIT, P.VIEW_PATROL, P.VIEW_VISIT)
        for role in (Role.STAFF, Role.DISPATCHER, Role.ADMIN):
            grant(role, P.VIEW_PATROL, P.VIEW_VISIT, P.VIEW_COVERAGE)
        grant(Role.STAFF, P.SET_VISIT_SCHEDULE)
        grant(Role.ADMIN, P.SET_VISIT_SCHEDULE)

        register_nav("fieldwork_app", _("Phone app"), "fieldwork:app", P.USE_APP, order=30, group="fieldwork")
        register_nav("fieldwork_coverage", _("Field coverage"), "fieldwork:coverage", P.VIEW_COVERAGE, order=60,
                     group="fieldwork")
        register_area_panel("fieldwork_coverage", coverage_panel, order=60)

        from . import integrations  # noqa: F401  (registers sync handlers for events, logs, corrections)
