"""JSON endpoints of the dashboards (used by the pages and the big screen). All read rollups and are
scoped: an area outside the caller's scope answers 404, a bad period 400 with a clear message."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors as S
from ..models import MonthlyReport
from ..permissions import VIEW_DASHBOARD
from ..reports import monthly_report_request, report_status
from .serializers import ReportRequestInput


class CanViewDashboard(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm_anywhere(VIEW_DASHBOARD))


class DashboardView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanViewDashboard]

    def area_and_period(self, request):
        area = S.dashboard_area(request.user, request.query_params.get("area"))
        return area, S.Period.parse(request.query_params)


class IndicatorsView(DashboardView):
    """Tiles: 响应率, 解决率, 满意率, on-time closure, overdue now, today's intake, and the raw counters."""

    def get(self, request):
        area, period = self.area_and_period(request)
        return Response(S.indicators(area, period))


class TrendView(DashboardView):
    def get(self, request):
        area, period = self.area_and_period(request)
        return Response(S.trend(area, period))


class CategoriesView(DashboardView):
    def get(self, request):
        area, period = self.area_and_period(request)
        return Response(S.categories(area, period))


class RankingsView(DashboardView):
    """?kind=areas (default) | departments | workers, each scored and graded."""

    def get(self, request):
        area, period = self.area_and_period(request)
        kind = request.query_params.get("kind", "areas")
        builders = {"areas": S.rank_areas, "departments": S.rank_departments, "workers": S.rank_workers}
        if kind not in builders:
            raise ValidationError({"kind": ["areas, departments, workers"]})
        return Response({"kind": kind, "items": builders[kind](area, period)})


class CaseListView(DashboardView):
    """?list=overdue | supervised: open cases under the area that the caller may see."""

    def get(self, request):
        area = S.dashboard_area(request.user, request.query_params.get("area"))
        which = request.query_params.get("list", "overdue")
        if which not in ("overdue", "supervised"):
            raise ValidationError({"list": ["overdue, supervised"]})
        return Response({"list": which, "items": [S.case_row(c) for c in S.case_list(request.user, area, which)]})


class MapView(DashboardView):
    def get(self, request):
        area, period = self.area_and_period(request)
        return Response(S.map_data(request.user, area, period, category=request.query_params.get("category", ""),
                                   state=request.query_params.get("state", "")))


class PopulationView(DashboardView):
    def get(self, request):
        area, period = self.area_and_period(request)
        return Response({"population": S.population(request.user, area),
                         "fieldwork": S.fieldwork(request.user, area, period)})


class ReportListView(DashboardView):
    """POST {area, month}: request a monthly PDF (built once however often it is asked for)."""

    def post(self, request):
        data = ReportRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        area = S.dashboard_area(request.user, data.validated_data["area"])
        report, created = monthly_report_request(actor=request.user, area=area, month=data.validated_data["month"])
        return Response(report_status(report), status=201 if created else 200)


class ReportDetailView(DashboardView):
    def get(self, request, pk: int):
        report = get_object_or_404(MonthlyReport.objects.visible_to(request.user, VIEW_DASHBOARD), pk=pk)
        if report is None:
            raise Http404
        return Response(report_status(report))
