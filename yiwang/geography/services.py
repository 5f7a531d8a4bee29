"""Writes to the area tree: boundary updates and GeoJSON import of a whole tree.

Import validates the entire file before touching the database and then writes in one
transaction, so a bad file changes nothing.
"""

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from shapely.geometry import shape

from yiwang.audit.services import apply_changes, audit_record
from yiwang.core.scoping import require_perm_at

from .models import PATH_LENGTH, Area, AreaLevel, Building, level_of_code, split_code
from .spatial import geometry_problems, grid_placement_problems, validate_grid_boundary

CHANGE_AREA = "geography.change_area"
CHANGE_BUILDING = "geography.change_building"


def centroid_of(geometry: dict) -> tuple[float, float]:
    point = shape(geometry).representative_point()
    return round(point.x, 7), round(point.y, 7)


@transaction.atomic
def area_update(*, actor, area: Area, name: str | None = None, boundary: dict | None = None,
                households_estimate: int | None = None) -> Area:
    """Rename an area or replace its boundary; grid boundaries must pass validate_grid_boundary."""
    require_perm_at(actor, CHANGE_AREA, area.path)
    area = Area.objects.select_for_update().get(pk=area.pk)
    data = {}
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": _("The name cannot be empty.")})
        data["name"] = name.strip()
    if households_estimate is not None:
        data["households_estimate"] = households_estimate
    if boundary is not None:
        problems = (validate_grid_boundary(area, boundary) if area.level == AreaLevel.GRID
                    else geometry_problems(area.name, boundary)[0])
        if problems:
            raise ValidationError({"boundary": problems})
        data["boundary"] = boundary
        data["centroid_lon"], data["centroid_lat"] = centroid_of(boundary)
    changes = apply_changes(area, data)
    if changes:
        area.save()
        if "boundary" in changes:
            changes["boundary"] = _("(boundary replaced)")
        audit_record(actor=actor, action="area.update", obj=area, changes=changes)
    return area


@transaction.atomic
def building_create(*, actor, grid: Area, number: str, name: str, address: str, lon: float, lat: float,
                    floors: int = 6, units: int = 2) -> Building:
    require_perm_at(actor, CHANGE_BUILDING, grid.path)
    if grid.level != AreaLevel.GRID:
        raise ValidationError({"grid": _("A building must belong to a grid.")})
    if Building.objects.filter(grid=grid, number=number).exists():
        raise ValidationError({"number": _("Building number %(n)s already exists in this grid.") % {"n": number}})
    building = Building.objects.create(grid=grid, number=number, name=name, address=address, lon=lon, lat=lat,
                                       floors=floors, units=units)
    audit_record(actor=actor, action="building.create", obj=building,
                 changes={"name": name, "address": address, "lon": lon, "lat": lat})
    return building


# -- GeoJSON import / export ----------------------------------------------------------------------

@dataclass
class TreeImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


def _parse_features(payload) -> list[dict]:
    if isinstance(payload, (bytes, str)):
        try:
            payload = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(_("The file is not valid JSON: %(error)s") % {"error": exc}) from exc
    if not isinstance(payload, dict) or payload.get("type") != "FeatureCollection" \
            or not isinstance(payload.get("features"), list):
        raise ValidationError(_("The file must be a GeoJSON FeatureCollection with a list of features."))
    return payload["features"]


def _feature_rows(features: list[dict]) -> tuple[list[dict], list[str]]:
    rows, errors, seen = [], [], {}
    for index, feature in enumerate(features, start=1):
        where = _("Feature %(n)d") % {"n": index}
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            errors.append(_("%(where)s: has no properties.") % {"where": where})
            continue
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        parent_code = str(props.get("parent_code") or "").strip()
        if not (len(code) == 15 and code.isdigit()):
            errors.append(_("%(where)s: code “%(code)s” must be 15 digits.") % {"where": where, "code": code})
            continue
        where = f"{name or where} ({code})"
        try:
            level = AreaLevel.from_slug(props.get("level"))
        except (KeyError, ValueError):
            errors.append(_("%(where)s: unknown level “%(level)s” (use district, subdistrict, community or grid).")
                          % {"where": where, "level": props.get("level")})
            continue
        if level_of_code(code) != level:
            errors.append(_("%(where)s: the code does not match level %(level)s.")
                          % {"where": where, "level": level.label})
            continue
        if not name:
            errors.append(_("%(where)s: the name is missing.") % {"where": where})
            continue
        if code in seen:
            errors.append(_("%(where)s: duplicate code, also used by feature %(n)d.") % {"where": where, "n": seen[code]})
            continue
        seen[code] = index
        if level != AreaLevel.DISTRICT and not parent_code:
            errors.append(_("%(where)s: parent_code is missing.") % {"where": where})
            continue
        if level != AreaLevel.DISTRICT and not code.startswith(parent_code[: PATH_LENGTH[AreaLevel(level - 1)]]):
            errors.append(_("%(where)s: the code does not begin with its parent's code %(parent)s.")
                          % {"where": where, "parent": parent_code})
            continue
        geometry = feature.get("geometry")
        problems, geom = geometry_problems(where, geometry) if geometry is not None else ([], None)
        errors.extend(problems)
        rows.append({"code": code, "name": name, "level": level, "parent_code": parent_code,
                     "geometry": geometry if geom is not None else None, "shape": geom, "label": where,
                     "households": props.get("households")})
    return rows, errors


def _placement_errors(rows: list[dict]) -> list[str]:
    """Grids against their community and sibling grids, using the file's shapes over stored ones."""
    by_code = {row["code"]: row for row in rows}
    stored = {a.code: a for a in Area.objects.filter(level__in=[AreaLevel.COMMUNITY, AreaLevel.GRID])}
    errors = []
    grids_by_parent: dict[str, dict[str, tuple]] = {}
    for code, area in stored.items():
        if area.level == AreaLevel.GRID and area.boundary and code not in by_code:
            parent_code = code[:12] + "000"
            grids_by_parent.setdefault(parent_code, {})[code] = (f"{area.name} ({code})", shape(area.boundary))
    for row in rows:
        if row["level"] == AreaLevel.GRID and row["shape"] is not None:
            grids_by_parent.setdefault(row["parent_code"], {})[row["code"]] = (row["label"], row["shape"])
    for row in rows:
        if row["level"] != AreaLevel.GRID or row["shape"] is None:
            continue
        parent = by_code.get(row["parent_code"])
        parent_shape = parent["shape"] if parent else (
            shape(stored[row["parent_code"]].boundary)
            if row["parent_code"] in stored and stored[row["parent_code"]].boundary else None)
        parent_label = parent["name"] if parent else (
            stored[row["parent_code"]].name if row["parent_code"] in stored else row["parent_code"])
        siblings = {label: geom for code, (label, geom) in grids_by_parent.get(row["parent_code"], {}).items()
                    if code != row["code"] and (code not in by_code or code > row["code"])}
        errors.extend(grid_placement_problems(row["label"], row["shape"], parent_label, parent_shape, siblings))
    return errors


def area_tree_import(*, actor, payload) -> TreeImportResult:
    """Create or update areas from a FeatureCollection (properties: code, name, level, parent_code).

    Everything is checked first (structure, codes, parents, polygons, overlaps); any problem raises a
    ValidationError listing all of them and nothing is written.
    """
    rows, errors = _feature_rows(_parse_features(payload))
    existing = {a.code: a for a in Area.objects.all()}
    file_codes = {row["code"] for row in rows}
    for row in rows:
        if row["level"] != AreaLevel.DISTRICT and row["parent_code"] not in file_codes \
                and row["parent_code"] not in existing:
            errors.append(_("%(where)s: unknown parent code %(parent)s.")
                          % {"where": row["label"], "parent": row["parent_code"]})
        target_path = row["code"][: PATH_LENGTH[row["level"]]]
        require_perm_at(actor, CHANGE_AREA, target_path)
    if not errors:
        errors = _placement_errors(rows)
    if errors:
        raise ValidationError(errors)
    result = TreeImportResult()
    with transaction.atomic():
        for row in sorted(rows, key=lambda r: (r["level"], r["code"])):
            result.codes.append(row["code"])
            division, street, community, grid = split_code(row["code"])
            data = {"name": row["name"]}
            if row["geometry"] is not None:
                data["boundary"] = row["geometry"]
                data["centroid_lon"], data["centroid_lat"] = centroid_of(row["geometry"])
            if row["households"] is not None:
                data["households_estimate"] = int(row["households"])
            area = existing.get(row["code"])
            if area is None:
                parent = existing.get(row["parent_code"]) if row["level"] != AreaLevel.DISTRICT else None
                area = Area(level=row["level"], parent=parent, division_code=division, street_no=street,
                            community_no=community, grid_no=grid, **data)
                area.save()
                existing[row["code"]] = area
                result.created += 1
                audit_record(actor=actor, action="area.import_create", obj=area, changes={"name": area.name})
            else:
                changes = apply_changes(area, data)
                if changes:
                    area.save()
                    changes.pop("boundary", None)
                    audit_record(actor=actor, action="area.import_update", obj=area, changes=changes)
                    result.updated += 1
                else:
                    result.unchanged += 1
    return result


def area_tree_export(areas) -> dict:
    """A FeatureCollection of the given areas, in the same shape import accepts."""
    features = []
    for area in areas.select_related("parent").order_by("path"):
        features.append({
            "type": "Feature",
            "properties": {"code": area.code, "name": area.name, "level": area.level_enum.slug,
                           "parent_code": area.parent.code if area.parent_id else None,
                           "households": area.households_estimate},
            "geometry": area.boundary,
        })
    return {"type": "FeatureCollection", "features": features}
