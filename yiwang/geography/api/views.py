from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .. import selectors, services
from ..filtersets import AreaFilterSet, BuildingFilterSet
from ..spatial import grid_for_point
from .serializers import AreaOutput, AreaUpdateInput, BuildingCreateInput, BuildingOutput


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    """Areas visible to the caller. PATCH renames or re-draws (administrators)."""

    serializer_class = AreaOutput
    filterset_class = AreaFilterSet

    def get_queryset(self):
        return selectors.area_list_visible_to(self.request.user).select_related("parent")

    @extend_schema(request=AreaUpdateInput, responses=AreaOutput)
    def partial_update(self, request, pk=None):
        area = self.get_object()
        data = AreaUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        area = services.area_update(actor=request.user, area=area, **data.validated_data)
        return Response(AreaOutput(area).data)

    @extend_schema(parameters=[OpenApiParameter("lon", float, required=True),
                               OpenApiParameter("lat", float, required=True)], responses=AreaOutput)
    @action(detail=False, methods=["get"], url_path="lookup")
    def lookup(self, request):
        """The grid covering a WGS-84 point, if the caller may see it."""
        try:
            lon, lat = float(request.query_params["lon"]), float(request.query_params["lat"])
        except (KeyError, ValueError) as exc:
            raise ValidationError({"lon": [_("Give lon and lat as decimal degrees.")]}) from exc
        grid = grid_for_point(lon, lat)
        if grid is None or not self.get_queryset().filter(pk=grid.pk).exists():
            return Response({"error": {"status": 404, "code": "not_found",
                                       "message": _("No grid of yours covers this point.")}}, status=404)
        return Response(AreaOutput(grid).data)

    @extend_schema(responses={200: dict})
    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request):
        """The visible tree as a GeoJSON FeatureCollection (the import format)."""
        return Response(services.area_tree_export(self.filter_queryset(self.get_queryset())))

    @extend_schema(request=dict, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="import")
    def import_tree(self, request):
        """Create or update areas from a FeatureCollection; all-or-nothing."""
        result = services.area_tree_import(actor=request.user, payload=request.data)
        return Response({"created": result.created, "updated": result.updated, "unchanged": result.unchanged})

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)


class BuildingViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = BuildingOutput
    filterset_class = BuildingFilterSet

    def get_queryset(self):
        return selectors.building_list_visible_to(self.request.user)

    @extend_schema(request=BuildingCreateInput, responses={201: BuildingOutput})
    def create(self, request):
        data = BuildingCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        grid = get_object_or_404(selectors.area_list_visible_to(request.user), pk=values.pop("grid"))
        building = services.building_create(actor=request.user, grid=grid, **values)
        return Response(BuildingOutput(building).data, status=status.HTTP_201_CREATED)
