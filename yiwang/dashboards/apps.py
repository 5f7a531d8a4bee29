from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "yiwang.dashboards"
    label = "dashboards"
    verbose_name = "Dashboards"
