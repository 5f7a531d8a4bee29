"""REST endpoints for cases: list/create/retrieve, actions, steps, categories, indicators."""

from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.accounts.selectors import department_list_visible_to
from yiwang.core.api import conflict_response
from yiwang.geography.models import Area

from .. import indicator_sources, personal, selectors, services
from ..filtersets import CaseFilterSet
from ..permissions import ADD_CASE, VIEW_INDICATORS
from .serializers import (
    ActInput,
    CaseCreateInput,
    CaseOutput,
    CategoryOutput,
    ReporterRevealOutput,
    RevealInput,
    StepOutput,
)


class NewestFirst(CursorPagination):
    """Keyset pagination: no COUNT(*) over a million cases."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Cases visible to the caller. POST creates (send `idempotency_key`: a replay returns the first case)."""

    serializer_class = CaseOutput
    filterset_class = CaseFilterSet
    pagination_class = NewestFirst

    def get_queryset(self):
        return selectors.case_list_visible_to(self.request.user).select_related("category", "grid", "department")

    @extend_schema(request=CaseCreateInput, responses={201: CaseOutput, 200: CaseOutput})
    def create(self, request):
        if not request.user.has_perm_anywhere(ADD_CASE):
            raise PermissionDenied
        data = CaseCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        key = values.pop("idempotency_key") or request.headers.get("Idempotency-Key", "")
        case = services.case_create(actor=request.user, idempotency_key=key, **values)
        return Response(CaseOutput(case).data, status=status.HTTP_200_OK if case.replayed else status.HTTP_201_CREATED)

    @extend_schema(request=ActInput, responses={200: CaseOutput, 409: None})
    @action(detail=True, methods=["post"])
    def act(self, request, pk=None):
        """Make one workflow move (see workflow.TRANSITIONS). `version` must be the one you saw; 409 otherwise."""
        case = self.get_object()
        data = ActInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        action_name = values.pop("action")
        version = values.pop("version")
        if values["department"]:
            department = department_list_visible_to(request.user).filter(pk=values["department"]).first()
            if department is None:
                raise ValidationError({"department": [_("Choose an active department.")]})
            values["department"] = department
        if values["merged_into"]:
            target = selectors.case_list_visible_to(request.user).filter(
                tracking_code=values["merged_into"].strip().upper()).first()
            if target is None:
                raise ValidationError({"merged_into": [_("Choose another case that is still open.")]})
            values["merged_into"] = target
        else:
            values["merged_into"] = None
        try:
            case = services.case_act(actor=request.user, case=case, action=action_name, expected_version=version,
                                     **values)
        except services.CaseConflict as exc:
            return conflict_response(str(exc))
        return Response(CaseOutput(case).data)

    @extend_schema(responses=StepOutput(many=True))
    @action(detail=True, methods=["get"])
    def steps(self, request, pk=None):
        case = self.get_object()
        return Response(StepOutput(selectors.case_steps(case), many=True).data)

    @extend_schema(responses={200: None})
    @action(detail=True, methods=["get"])
    def actions(self, request, pk=None):
        """The moves the caller may make now."""
        case = self.get_object()
        return Response({"version": case.version, "actions": services.allowed_actions(request.user, case)})

    @extend_schema(request=RevealInput, responses=ReporterRevealOutput)
    @action(detail=True, methods=["post"], url_path="reporter/reveal", url_name="reporter-reveal")
    def reporter_reveal(self, request, pk=None):
        """The reporter's full name and phone for a stated reason (audited; staff who handle the case)."""
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(personal.reporter_reveal(actor=request.user, case=self.get_object(),
                                                 reason=data.validated_data["reason"]))


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The category tree with handling modes and time limits (edited in the admin)."""

    serializer_class = CategoryOutput
    pagination_class = None
    lookup_field = "code"

    def get_queryset(self):
        from ..models import Category
        return Category.objects.filter(active=True).select_related("parent", "default_department").order_by("code")


class IndicatorView(APIView):
    """The seven indicators for a period (`start`, `end` as YYYY-MM-DD), by `by` = area|department|person."""

    @extend_schema(parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str),
                               OpenApiParameter("area", str), OpenApiParameter("by", str)], responses={200: None})
    def get(self, request):
        if not request.user.has_perm_anywhere(VIEW_INDICATORS):
            raise PermissionDenied
        today = timezone.localdate()
        try:
            start = datetime.fromisoformat(request.query_params.get("start", "")).date()
        except ValueError:
            start = today - timedelta(days=90)
        try:
            end = datetime.fromisoformat(request.query_params.get("end", "")).date()
        except ValueError:
            end = today
        tz = timezone.get_current_timezone()
        area = None
        if request.query_params.get("area", "").isdigit():
            area = Area.objects.visible_to(request.user, "geography.view_area").filter(
                path=request.query_params["area"]).first()
        by = request.query_params.get("by") or None
        rows = indicator_sources.indicators(
            request.user, area=area, period_start=datetime.combine(start, time.min, tz),
            period_end=datetime.combine(end + timedelta(days=1), time.min, tz),
            group_by=by if by in ("area", "department", "person") else None)
        return Response({"start": start, "end": end, "rows": [
            {"key": r.key, "label": r.label, **r.rates, "counts": {k: v for k, v in vars(r).items()
                                                                   if isinstance(v, int)}} for r in rows]})
