from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from yiwang.core.api import Pagination, conflict_response
from yiwang.geography.models import Area, AreaLevel

from .. import selectors, services
from ..filtersets import (
    ChangeRequestFilterSet,
    ComponentFilterSet,
    HouseholdFilterSet,
    OrganisationFilterSet,
    ResidentFilterSet,
    SituationLogFilterSet,
    resident_paginator_class,
)
from ..models import Household, HouseholdMember, Resident, SpecialGroup
from ..permissions import ADD_SITUATION, CHANGE_RESIDENT, VIEW_RESIDENT
from .serializers import (
    ChangeRequestOutput,
    ComponentOutput,
    HouseholdOutput,
    OrganisationOutput,
    RecordEditInput,
    ResidentCreateInput,
    ResidentOutput,
    RevealInput,
    RevealOutput,
    ReviewInput,
    SituationLogInput,
    SituationLogOutput,
    SpecialGroupOutput,
)


def _edit(request, obj, output):
    data = RecordEditInput(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        outcome, result = services.record_edit(actor=request.user, target=obj, changes=data.validated_data["changes"],
                                               reason=data.validated_data.get("reason", ""),
                                               expected_version=data.validated_data.get("version"))
    except services.ConflictError as exc:
        return conflict_response(str(exc))
    if outcome == "pending":
        return Response({"status": "pending", "change_request": ChangeRequestOutput(result).data},
                        status=status.HTTP_202_ACCEPTED)
    obj.refresh_from_db()
    return Response({"status": "applied", "record": output(obj).data})


class ResidentPagination(Pagination):
    """With `?q=` the count stops at 1,000 (`count_capped` says there are more): see CappedCountPaginator."""

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = resident_paginator_class(request.query_params)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_capped"] = getattr(self.page.paginator, "capped", False)
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_capped"] = {"type": "boolean"}
        return schema


class ResidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Residents of the caller's areas, masked. POST creates (staff); PATCH edits or proposes."""

    serializer_class = ResidentOutput
    filterset_class = ResidentFilterSet
    pagination_class = ResidentPagination

    def get_queryset(self):
        residents = selectors.resident_list_visible_to(self.request.user).order_by("id")
        # Lists load what ResidentOutput shows: no ciphertexts, no grid (its code is the area path).
        if self.action in ("list", "search"):
            return residents.only(*selectors.SEARCH_FIELDS)
        return residents.select_related("grid")

    def retrieve(self, request, *args, **kwargs):
        resident = self.get_object()
        tags = list(selectors.resident_tags_visible(request.user, resident))
        if tags or resident.is_child:
            services.resident_record_sensitive_view(actor=request.user, resident=resident,
                                                    groups=[t.group.code for t in tags])
        data = dict(ResidentOutput(resident).data)
        data["special_groups"] = [{"code": t.group.code, "name": t.group.name, "helper": t.helper_id,
                                   "visit_interval_days": t.visit_interval_days} for t in tags]
        return Response(data)

    @extend_schema(request=ResidentCreateInput, responses={201: ResidentOutput})
    def create(self, request):
        data = ResidentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        grid = get_object_or_404(Area.objects.visible_to(request.user, CHANGE_RESIDENT), pk=values.pop("grid"),
                                 level=AreaLevel.GRID)
        resident = services.resident_create(actor=request.user, grid=grid, **values)
        return Response(ResidentOutput(resident).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RecordEditInput, responses={200: dict, 202: dict, 409: dict})
    def partial_update(self, request, pk=None):
        return _edit(request, self.get_object(), ResidentOutput)

    @extend_schema(request=RevealInput, responses=RevealOutput)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """Full ID number and phone for a stated reason (audited)."""
        data = RevealInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.resident_reveal(actor=request.user, resident=self.get_object(),
                                                 reason=data.validated_data["reason"]))

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True)], responses=ResidentOutput(many=True))
    @action(detail=False, methods=["get"])
    def search(self, request):
        """Name, pinyin (full or initials), ID number, phone, address or special group; scoped."""
        limit = request.query_params.get("limit", "")
        limit = min(int(limit), 100) if limit.isdigit() and int(limit) > 0 else 20
        hits = selectors.resident_search(request.user, request.query_params.get("q", ""), limit=limit)
        return Response(ResidentOutput(list(hits), many=True).data)


class HouseholdViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = HouseholdOutput
    filterset_class = HouseholdFilterSet

    def get_queryset(self):
        current = HouseholdMember.objects.filter(left_on__isnull=True).select_related("resident")
        return selectors.household_list_visible_to(self.request.user).order_by("id").prefetch_related(
            Prefetch("memberships", queryset=current, to_attr="current_memberships"))

    @extend_schema(request=RecordEditInput, responses={200: dict, 202: dict})
    def partial_update(self, request, pk=None):
        return _edit(request, self.get_object(), HouseholdOutput)


class OrganisationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = OrganisationOutput
    filterset_class = OrganisationFilterSet

    def get_queryset(self):
        return selectors.organisation_list_visible_to(self.request.user).order_by("id")

    @extend_schema(request=RecordEditInput, responses={200: dict, 202: dict})
    def partial_update(self, request, pk=None):
        return _edit(request, self.get_object(), OrganisationOutput)


class ComponentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ComponentOutput
    filterset_class = ComponentFilterSet

    def get_queryset(self):
        return selectors.component_list_visible_to(self.request.user).order_by("id")

    @extend_schema(request=RecordEditInput, responses={200: dict, 202: dict})
    def partial_update(self, request, pk=None):
        return _edit(request, self.get_object(), ComponentOutput)


class SituationLogViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SituationLogOutput
    filterset_class = SituationLogFilterSet

    def get_queryset(self):
        return selectors.situation_list_visible_to(self.request.user).prefetch_related("residents", "households")

    @extend_schema(request=SituationLogInput, responses={201: SituationLogOutput})
    def create(self, request):
        data = SituationLogInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        grid = get_object_or_404(Area.objects.visible_to(request.user, ADD_SITUATION), pk=values.pop("grid"),
                                 level=AreaLevel.GRID)
        residents = list(Resident.objects.visible_to(request.user, VIEW_RESIDENT).filter(
            pk__in=values.pop("residents", [])))
        households = list(Household.objects.visible_to(request.user, VIEW_RESIDENT).filter(
            pk__in=values.pop("households", [])))
        log = services.situation_log_create(actor=request.user, grid=grid, residents=residents,
                                            households=households, **values)
        return Response(SituationLogOutput(log).data, status=status.HTTP_201_CREATED)


class ChangeRequestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ChangeRequestOutput
    filterset_class = ChangeRequestFilterSet

    def get_queryset(self):
        if not self.request.user.has_perm_anywhere(VIEW_RESIDENT):
            raise PermissionDenied
        return selectors.change_request_list_visible_to(self.request.user)

    @extend_schema(request=ReviewInput, responses=ChangeRequestOutput)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = services.change_request_approve(actor=request.user, change_request=self.get_object(),
                                                     note=data.validated_data.get("note", ""))
        except services.ConflictError as exc:
            return conflict_response(str(exc))
        return Response(ChangeRequestOutput(result).data)

    @extend_schema(request=ReviewInput, responses=ChangeRequestOutput)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.change_request_reject(actor=request.user, change_request=self.get_object(),
                                                note=data.validated_data.get("note", ""))
        return Response(ChangeRequestOutput(result).data)


class SpecialGroupViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SpecialGroupOutput
    pagination_class = None

    def get_queryset(self):
        if not self.request.user.has_perm_anywhere(VIEW_RESIDENT):
            raise PermissionDenied
        return SpecialGroup.objects.all()
