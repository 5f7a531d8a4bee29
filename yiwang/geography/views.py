import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yiwang.accounts.selectors import current_area
from yiwang.core.panels import area_panels
from yiwang.core.scoping import require_perm_anywhere

from . import selectors, services
from .forms import TreeImportForm
from .models import AreaLevel


@login_required
def map_page(request):
    """The map of the current area: subdistricts, communities and grids as polygons."""
    require_perm_anywhere(request.user, selectors.VIEW_AREA)
    area = current_area(request)
    return render(request, "geography/map.html", {
        "area": area,
        "tile_url": settings.YIWANG_TILE_URL,
        "tile_attribution": settings.YIWANG_TILE_ATTRIBUTION,
        "tile_gcj02": settings.YIWANG_TILE_GCJ02,
    })


@login_required
def map_data(request):
    require_perm_anywhere(request.user, selectors.VIEW_AREA)
    area = current_area(request)
    data = selectors.map_features(request.user, within=area.path if area else None)
    return JsonResponse(data)


@login_required
def area_detail(request, pk: int):
    area = selectors.area_get_visible(request.user, pk)
    children = selectors.area_children_summary(area, request.user)
    buildings = None
    if area.level == AreaLevel.GRID:
        buildings = selectors.building_list_visible_to(request.user).filter(grid=area)
    template = "geography/_area_panel.html" if request.headers.get("HX-Request") else "geography/area_detail.html"
    return render(request, template, {
        "area": area,
        "children": children,
        "buildings": buildings,
        "panels": area_panels(area, request.user),
        "ancestors": selectors.area_list_visible_to(request.user).filter(path__in=area.ancestor_paths()),
    })


@login_required
def tree_export(request):
    require_perm_anywhere(request.user, selectors.VIEW_AREA)
    area = current_area(request)
    data = services.area_tree_export(selectors.area_list_visible_to(request.user, within=area.path if area else None))
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/geo+json")
    response["Content-Disposition"] = 'attachment; filename="areas.geojson"'
    return response


@login_required
def tree_import(request):
    require_perm_anywhere(request.user, services.CHANGE_AREA)
    form = TreeImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        try:
            result = services.area_tree_import(actor=request.user, payload=form.cleaned_data["file"].read())
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Import finished: %(c)d created, %(u)d updated, %(n)d unchanged.")
                             % {"c": result.created, "u": result.updated, "n": result.unchanged})
            return redirect("geography:map")
    return render(request, "geography/tree_import.html", {"form": form, "errors": errors})
