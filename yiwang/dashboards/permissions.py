"""Permission strings of the dashboards app (granted in apps.DashboardsConfig.ready())."""

VIEW_DASHBOARD = "dashboards.view_dashboard"
EXPORT = "dashboards.export"
