"""Reads over the area tree, always scoped to the actor."""

from django.db.models import Count

from yiwang.core.scoping import get_visible_or_404

from .models import Area, AreaLevel, Building

VIEW_AREA = "geography.view_area"
VIEW_BUILDING = "geography.view_building"


def area_list_visible_to(actor, *, within: str | None = None, level: int | None = None):
    areas = Area.objects.visible_to(actor, VIEW_AREA)
    if within:
        areas = areas.within(within)
    if level:
        areas = areas.filter(level=level)
    return areas


def area_get_visible(actor, pk: int) -> Area:
    return get_visible_or_404(Area.objects.select_related("parent"), actor, VIEW_AREA, pk=pk)


def building_list_visible_to(actor, *, within: str | None = None):
    buildings = Building.objects.visible_to(actor, VIEW_BUILDING).select_related("grid")
    return buildings.within(within) if within else buildings


def map_features(actor, *, within: str | None = None, levels=(AreaLevel.SUBDISTRICT, AreaLevel.COMMUNITY,
                                                                 AreaLevel.GRID)) -> dict:
    """GeoJSON for the map page: the visible areas below the current one, lightest first."""
    areas = area_list_visible_to(actor, within=within).filter(level__in=levels, boundary__isnull=False)
    building_counts = dict(
        Building.objects.visible_to(actor, VIEW_BUILDING).within(within or "")
        .values_list("grid_id").annotate(n=Count("id")).values_list("grid_id", "n")
    )
    features = []
    for area in areas.only("id", "level", "name", "division_code", "street_no", "community_no", "grid_no",
                           "path", "boundary", "households_estimate"):
        features.append({
            "type": "Feature",
            "geometry": area.boundary,
            "properties": {"id": area.id, "code": area.code, "name": area.name, "level": area.level_enum.slug,
                           "households": area.households_estimate,
                           "buildings": building_counts.get(area.id) if area.level == AreaLevel.GRID else None},
        })
    return {"type": "FeatureCollection", "features": features}


def area_children_summary(area: Area, actor):
    return (area_list_visible_to(actor).filter(parent=area)
            .annotate(n_children=Count("children", distinct=True)).order_by("path"))
