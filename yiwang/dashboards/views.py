"""Pages: the dashboard per level, the big screen, exports and the monthly report's progress page.
Figures are fetched by the pages from the JSON endpoints under /api/v1/dashboards/."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases.models import Category

from . import selectors as S
from .exports import export_list
from .models import MonthlyReport, ReportStatus
from .permissions import EXPORT, VIEW_DASHBOARD
from .reports import monthly_report_request, report_status


def _require(request, perm=VIEW_DASHBOARD):
    if not request.user.has_perm_anywhere(perm):
        raise PermissionDenied


def _breadcrumbs(actor, area):
    roots = {a.path for a in S.dashboard_roots(actor)}
    crumbs, node = [], area
    while node is not None:
        crumbs.append(node)
        if node.path in roots:
            break
        node = node.parent
    return list(reversed(crumbs))


def _context(request, area, **extra):
    try:
        period = S.Period.parse(request.GET)
        period_error = ""
    except ValidationError as exc:
        period = S.Period.parse({})
        period_error = " ".join(exc.messages)
    return {"area": area, "level": S.LEVEL_NAMES[area.level], "period": period, "period_error": period_error,
            "crumbs": _breadcrumbs(request.user, area), "children": S.children_of(request.user, area),
            "can_export": request.user.has_perm_anywhere(EXPORT), **extra}


@login_required
def home(request):
    """The viewer's highest area (drill down from there)."""
    return area(request, None)


@login_required
def area(request, path):
    _require(request)
    area = S.dashboard_area(request.user, path)
    categories = Category.objects.filter(parent__isnull=True, active=True).order_by("code")
    return render(request, "dashboards/dashboard.html",
                  _context(request, area, categories=categories, states=S.STATE_CHOICES,
                           this_month=timezone.localdate().strftime("%Y-%m"),
                           last_month=(timezone.localdate().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")))


@login_required
def bigscreen_home(request):
    return bigscreen(request, None)


@login_required
def bigscreen(request, path):
    _require(request)
    area = S.dashboard_area(request.user, path)
    try:
        refresh = max(10, min(int(request.GET.get("refresh", 30)), 3600))
    except ValueError:
        refresh = 30
    return render(request, "dashboards/bigscreen.html", _context(request, area, refresh=refresh))


@login_required
def export(request, path, which):
    _require(request, EXPORT)
    area = S.dashboard_area(request.user, path)
    if which not in ("overdue", "supervised", "open", "areas", "departments", "workers"):
        raise Http404
    try:
        period = S.Period.parse(request.GET)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8")
    filename, data = export_list(actor=request.user, area=area, which=which, period=period)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def report_request(request, path):
    _require(request)
    area = S.dashboard_area(request.user, path)
    month = (request.POST.get("month") or "").strip()
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        messages.error(request, _("Give the month as YYYY-MM."))
        return redirect("dashboards:area", path=area.path)
    if first > timezone.localdate():
        messages.error(request, _("That month has not started yet."))
        return redirect("dashboards:area", path=area.path)
    report, created = monthly_report_request(actor=request.user, area=area, month=first)
    if not created:
        messages.info(request, _("This report was already requested; showing its progress."))
    return redirect("dashboards:report", pk=report.pk)


def _report_visible(request, pk) -> MonthlyReport:
    return get_object_or_404(MonthlyReport.objects.visible_to(request.user, VIEW_DASHBOARD).select_related("area"),
                             pk=pk)


@login_required
def report(request, pk):
    _require(request)
    report = _report_visible(request, pk)
    return render(request, "dashboards/report.html", {"report": report, "status": report_status(report)})


@login_required
def report_download(request, pk):
    _require(request)
    report = _report_visible(request, pk)
    if report.status != ReportStatus.DONE or not report.file:
        raise Http404
    from yiwang.audit.services import audit_record

    audit_record(actor=request.user, action="dashboards.report_download", obj=report, area_path=report.area_path)
    return FileResponse(report.file.open("rb"), as_attachment=True,
                        filename=f"{report.area_path}-{report.month:%Y-%m}.pdf", content_type="application/pdf")
