from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "yiwang.dashboards"
    label = "dashboards"
    verbose_name = _("Dashboards")

    def ready(self):
        from django.conf import settings
        from django.db.models.signals import post_save

        from yiwang.accounts.roles import Role, grant
        from yiwang.cases.indicator_sources import register_indicator_source
        from yiwang.cases.models import CaseStep
        from yiwang.cases.signals import case_created
        from yiwang.core.health import register_health_warning
        from yiwang.core.navigation import register_nav
        from yiwang.core.periodic import register_periodic

        from .indicator_source import rollup_indicator_counts
        from .permissions import EXPORT, VIEW_DASHBOARD
        from .signals import new_case_written, step_committed

        grant(Role.ADMIN, VIEW_DASHBOARD, EXPORT)
        grant(Role.DISPATCHER, VIEW_DASHBOARD, EXPORT)
        grant(Role.STAFF, VIEW_DASHBOARD, EXPORT)

        register_nav("dashboard", _("Command centre"), "dashboards:home", VIEW_DASHBOARD, order=15)
        register_nav("bigscreen", _("Big screen"), "dashboards:bigscreen_home", VIEW_DASHBOARD, order=16)
        register_periodic("dashboards.rollup_recent", "yiwang.dashboards.tasks.rollup_recent", seconds=900)
        if settings.YIWANG_ROLLUPS == "queued":
            register_periodic("dashboards.rollup_drain", "yiwang.dashboards.tasks.rollup_drain",
                              seconds=settings.YIWANG_ROLLUP_DRAIN_SECONDS)
        register_health_warning("dashboards.rollup_queue", "yiwang.dashboards.rollups.pending_warnings")
        post_save.connect(step_committed, sender=CaseStep, dispatch_uid="dashboards.step_committed")
        case_created.connect(new_case_written, dispatch_uid="dashboards.count_new_case")
        # The case indicators page and API read the rollups instead of counting the steps.
        register_indicator_source(rollup_indicator_counts)
