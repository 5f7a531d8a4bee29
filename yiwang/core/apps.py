from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yiwang.core"
    label = "core"
    verbose_name = "Core"

    def ready(self):
        from django.conf import settings

        from .inserts import cache_long_query_templates
        from .periodic import register_periodic

        cache_long_query_templates()

        register_periodic("core.heartbeat", "yiwang.core.tasks.heartbeat",
                          seconds=getattr(settings, "YIWANG_HEARTBEAT_SECONDS", 60))
