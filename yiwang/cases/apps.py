from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yiwang.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from yiwang.accounts.roles import Role, grant
        from yiwang.core.health import register_health_warning
        from yiwang.core.navigation import register_nav
        from yiwang.core.periodic import register_periodic

        from .permissions import (
            ADD_CASE,
            DISPATCH_CASE,
            HANDLE_CASE,
            REVEAL_REPORTER,
            VERIFY_CASE,
            VIEW_CASE,
            VIEW_INDICATORS,
        )

        grant(Role.ADMIN, VIEW_CASE, ADD_CASE, DISPATCH_CASE, VERIFY_CASE, VIEW_INDICATORS, REVEAL_REPORTER)
        grant(Role.DISPATCHER, VIEW_CASE, ADD_CASE, DISPATCH_CASE, VERIFY_CASE, VIEW_INDICATORS, REVEAL_REPORTER)
        grant(Role.STAFF, VIEW_CASE, ADD_CASE, VERIFY_CASE, VIEW_INDICATORS, REVEAL_REPORTER)
        grant(Role.GRID_WORKER, VIEW_CASE, ADD_CASE, VERIFY_CASE)
        # Handlers see the cases dispatched to their department (selectors._visibility_q), not an area;
        # HANDLE_CASE only shows them the menu entry.
        grant(Role.HANDLER, HANDLE_CASE, REVEAL_REPORTER)

        register_nav("cases", _("Cases"), "cases:queue", VIEW_CASE, order=30)
        register_nav("cases_handler", _("Cases"), "cases:queue", HANDLE_CASE, order=31)
        register_nav("case_indicators", _("Indicators"), "cases:indicators", VIEW_INDICATORS, order=35)

        register_periodic("cases.sla_sweep", "yiwang.cases.tasks.sla_sweep", seconds=300)

        # The working calendar's per-process copy of the administrators' days follows every change.
        from django.db.models.signals import post_delete, post_save

        from . import workcal
        from .models import CalendarOverride

        register_health_warning("cases.calendar", "yiwang.cases.workcal.calendar_warnings")
        post_save.connect(workcal.overrides_changed, sender=CalendarOverride, dispatch_uid="workcal_overrides_saved")
        post_delete.connect(workcal.overrides_changed, sender=CalendarOverride,
                            dispatch_uid="workcal_overrides_deleted")
