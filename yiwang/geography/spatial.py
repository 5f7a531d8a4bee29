"""Geometry checks and point-in-grid lookup (shapely).

Messages name the area and the problem in the user's language, because they are shown as-is on
import reports and forms.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Max
from django.utils.translation import gettext as _
from shapely import STRtree
from shapely.errors import GEOSException
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from yiwang.core.refcache import RefCache

from .models import Area, AreaLevel

POLYGON_TYPES = {"Polygon", "MultiPolygon"}


def overlap_tolerance() -> float:
    """Share of a grid's area that may overlap a neighbour or stick out of its community."""
    return float(getattr(settings, "YIWANG_OVERLAP_TOLERANCE", 0.005))


def _rings(geometry: dict):
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    else:
        for polygon in geometry["coordinates"]:
            yield from polygon


def geometry_problems(label: str, geometry) -> tuple[list[str], BaseGeometry | None]:
    """Structural checks on a GeoJSON geometry; returns problems and the shapely shape if usable."""
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        return [_("%(area)s: the boundary must be a GeoJSON Polygon or MultiPolygon.") % {"area": label}], None
    try:
        rings = list(_rings(geometry))
        for ring in rings:
            if len(ring) < 4:
                return [_("%(area)s: a ring needs at least four positions.") % {"area": label}], None
            for position in ring:
                lon, lat = float(position[0]), float(position[1])
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return [_("%(area)s: coordinate %(lon)s, %(lat)s is not a longitude/latitude.")
                            % {"area": label, "lon": lon, "lat": lat}], None
            if list(ring[0][:2]) != list(ring[-1][:2]):
                return [_("%(area)s: the boundary is not closed (first and last points differ).")
                        % {"area": label}], None
        geom = shape(geometry)
    except (TypeError, ValueError, IndexError, KeyError, GEOSException):
        return [_("%(area)s: the boundary coordinates are malformed.") % {"area": label}], None
    if not geom.is_valid:
        return [_("%(area)s: the boundary is not a valid polygon (%(reason)s).")
                % {"area": label, "reason": explain_validity(geom)}], None
    if geom.is_empty or geom.area == 0:
        return [_("%(area)s: the boundary is empty.") % {"area": label}], None
    return [], geom


def grid_placement_problems(label: str, geom: BaseGeometry, parent_label: str, parent_geom: BaseGeometry | None,
                            siblings: dict[str, BaseGeometry]) -> list[str]:
    """A grid must stay inside its community and not overlap a sibling beyond the tolerance."""
    problems = []
    tolerance = overlap_tolerance()
    if parent_geom is not None:
        outside = geom.difference(parent_geom).area / geom.area
        if outside > tolerance:
            problems.append(_("%(area)s: %(pct).1f%% of the grid lies outside its community %(parent)s.")
                            % {"area": label, "pct": outside * 100, "parent": parent_label})
    for sibling_label, sibling in siblings.items():
        if not geom.intersects(sibling):
            continue
        shared = geom.intersection(sibling).area / min(geom.area, sibling.area)
        if shared > tolerance:
            problems.append(_("%(area)s: overlaps grid %(other)s (%(pct).1f%% of the smaller grid).")
                            % {"area": label, "other": sibling_label, "pct": shared * 100})
    return problems


def validate_grid_boundary(grid: Area, geometry: dict) -> list[str]:
    """All problems with giving `grid` this boundary, checked against stored neighbours."""
    label = f"{grid.name} ({grid.code})"
    problems, geom = geometry_problems(label, geometry)
    if geom is None or grid.level != AreaLevel.GRID:
        return problems
    community = grid.parent
    parent_geom = shape(community.boundary) if community and community.boundary else None
    siblings = {
        f"{s.name} ({s.code})": shape(s.boundary)
        for s in Area.objects.filter(parent=community, level=AreaLevel.GRID).exclude(pk=grid.pk)
        if s.boundary
    }
    return problems + grid_placement_problems(label, geom, f"{community.name}" if community else "",
                                              parent_geom, siblings)


@dataclass
class _GridIndex:
    tree: STRtree
    grid_ids: list[int]
    shapes: list[BaseGeometry]
    memo: dict = field(default_factory=dict)


# Another process may change grids; re-check the database's grid signature at most this often.
# Changes made in this process invalidate the index at once (see invalidate_grid_index).
RECHECK_SECONDS = 2.0


def _grid_signature() -> tuple:
    agg = Area.objects.filter(level=AreaLevel.GRID).aggregate(n=Count("id"), changed=Max("updated_at"))
    return agg["n"], agg["changed"]


def _build_grid_index() -> _GridIndex:
    ids, shapes = [], []
    for grid_id, boundary in (Area.objects.filter(level=AreaLevel.GRID, boundary__isnull=False)
                              .order_by("path").values_list("id", "boundary")):
        try:
            geom = shape(boundary)
        except (TypeError, ValueError, KeyError, GEOSException):
            continue
        ids.append(grid_id)
        shapes.append(geom)
    return _GridIndex(STRtree(shapes), ids, shapes)


# The index per process (core.refcache), re-validated by the grid signature (count and last change).
_GRID_INDEX = RefCache("geography.grid_index", _build_grid_index, _grid_signature,
                       recheck_seconds=lambda: RECHECK_SECONDS)


def invalidate_grid_index(**kwargs) -> None:
    """Forget the in-process index; connected to Area saves and deletes in GeographyConfig.ready()."""
    _GRID_INDEX.forget(using=kwargs.get("using"))


def _grid_index() -> _GridIndex:
    return _GRID_INDEX.get()


def grid_id_for_point(lon: float, lat: float) -> int | None:
    """The id of the grid covering (lon, lat) in WGS-84, or None outside every grid.

    Points on a shared edge go to the grid with the lowest code, so the answer is deterministic.
    """
    index = _grid_index()
    point = Point(lon, lat)
    hits = sorted(int(i) for i in index.tree.query(point, predicate="intersects"))
    return index.grid_ids[hits[0]] if hits else None


def grid_memo(key, compute):
    """`compute()` once per key for as long as the grid index holds: what is derived from the grids alone
    (intake's grid row, say) is dropped with the index when a grid changes, here at once, in another
    process within RECHECK_SECONDS (the grid signature: count and last change)."""
    memo = _grid_index().memo
    try:
        return memo[key]
    except KeyError:
        value = memo[key] = compute()
        return value


def grid_for_point(lon: float, lat: float) -> Area | None:
    grid_id = grid_id_for_point(lon, lat)
    return Area.objects.select_related("parent").get(pk=grid_id) if grid_id else None
