from yiwang.core.testing import RouteSpec

STAFF_LIKE = ("staff", "grid_worker", "dispatcher_comm", "dispatcher_sub", "admin")

ROUTES = [
    RouteSpec("home", allowed=(), denied=()),  # redirects to the map; anonymous goes to login
    RouteSpec("geography:map", allowed=STAFF_LIKE, denied=("resident", "volunteer", "nobody")),
    RouteSpec("geography:map_data", allowed=STAFF_LIKE, denied=("resident", "nobody"),
              outsider="hidden", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("geography:area_detail", kwargs=lambda w: {"pk": w.tree.grid_a1.pk}, allowed=STAFF_LIKE,
              denied=("resident", "volunteer", "nobody"), outsider="404", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("geography:tree_export", allowed=STAFF_LIKE, denied=("resident", "nobody"),
              outsider="hidden", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("geography:tree_import", allowed=("admin",), denied=("staff", "grid_worker", "resident")),
    RouteSpec("api:area-list", api=True, allowed=STAFF_LIKE, denied=(), outsider="hidden",
              marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("api:area-detail", api=True, kwargs=lambda w: {"pk": w.tree.grid_a1.pk}, allowed=STAFF_LIKE,
              denied=("resident", "nobody"), outsider="404", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("api:area-lookup", api=True, query="lon=111.105&lat=37.505", allowed=STAFF_LIKE,
              denied=("resident", "nobody"), outsider="404", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("api:area-export", api=True, allowed=STAFF_LIKE, denied=(), outsider="hidden",
              marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("api:area-import-tree", api=True, allowed=(), denied=()),  # POST only: see test_import
    RouteSpec("api:building-list", api=True, allowed=STAFF_LIKE, denied=(), outsider="hidden",
              marker=lambda w: w.building_a1.name),
    RouteSpec("api:building-detail", api=True, kwargs=lambda w: {"pk": w.building_a1.pk}, allowed=STAFF_LIKE,
              denied=("resident", "nobody"), outsider="404", marker=lambda w: w.building_a1.name),
]
