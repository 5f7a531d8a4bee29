"""Permission specs for every dashboards route (see yiwang.core.testing.RouteSpec)."""

import datetime as dt

from django.core.files.base import ContentFile

from yiwang.core.testing import RouteSpec

VIEWERS = ("staff", "dispatcher_comm", "dispatcher_sub", "dispatcher_district", "admin")
DENIED = ("resident", "grid_worker", "handler", "volunteer", "nobody")
COMM_A = "141102001001"


def _report(world, done=False):
    from yiwang.dashboards.models import MonthlyReport, ReportStatus

    report, _ = MonthlyReport.objects.get_or_create(area=world.tree.comm_a, month=dt.date(2026, 9, 1),
                                                    defaults={"area_path": world.tree.comm_a.path})
    if done and report.status != ReportStatus.DONE:
        report.file.save("r.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
        report.status = ReportStatus.DONE
        report.save()
    return {"pk": report.pk}


def _area(world):
    return {"path": world.tree.comm_a.path}


ROUTES = [
    RouteSpec("dashboards:home", allowed=VIEWERS, denied=DENIED),
    RouteSpec("dashboards:area", kwargs=_area, allowed=VIEWERS, denied=DENIED, outsider="404",
              marker=lambda w: w.tree.comm_a.name),
    RouteSpec("dashboards:bigscreen_home", allowed=VIEWERS, denied=DENIED),
    RouteSpec("dashboards:bigscreen", kwargs=_area, allowed=VIEWERS, denied=DENIED, outsider="404",
              marker=lambda w: w.tree.comm_a.name),
    RouteSpec("dashboards:export", kwargs=lambda w: {**_area(w), "which": "overdue"}, allowed=VIEWERS,
              denied=DENIED, outsider="404"),
    # POST only (a GET answers 405); behaviour in test_reports.py.
    RouteSpec("dashboards:report_request", kwargs=_area, allowed=(), denied=()),
    RouteSpec("dashboards:report", kwargs=_report, allowed=VIEWERS, denied=DENIED, outsider="404"),
    RouteSpec("dashboards:report_download", kwargs=lambda w: _report(w, done=True), allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    RouteSpec("api:dashboard-indicators", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    RouteSpec("api:dashboard-trend", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    RouteSpec("api:dashboard-categories", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    RouteSpec("api:dashboard-rankings", api=True, query=f"area={COMM_A}&kind=workers", allowed=VIEWERS,
              denied=DENIED, outsider="404", marker=lambda w: w.people.grid_worker.display_name),
    RouteSpec("api:dashboard-cases", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    RouteSpec("api:dashboard-map", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("api:dashboard-population", api=True, query=f"area={COMM_A}", allowed=VIEWERS, denied=DENIED,
              outsider="404"),
    # POST only; a GET answers 405 to everyone signed in. Behaviour in test_reports.py.
    RouteSpec("api:dashboard-reports", api=True, allowed=(), denied=()),
    RouteSpec("api:dashboard-report", api=True, kwargs=_report, allowed=VIEWERS, denied=DENIED, outsider="404"),
]
