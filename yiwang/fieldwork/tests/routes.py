from yiwang.core.testing import RouteSpec

STAFF_VIEW = ("staff", "dispatcher_comm", "dispatcher_sub", "admin")


def _household_a(w):
    """A household of grid A1 (community A), made once per test world."""
    if getattr(w, "_fieldwork_household", None) is None:
        from yiwang.registry.tests.factories import make_household, make_resident

        w._fieldwork_household = make_household(w.tree.grid_a1, make_resident(w.tree.grid_a1, "甲走访人"),
                                                number="甲走访户")
    return w._fieldwork_household


ROUTES = [
    RouteSpec("fieldwork:app", allowed=("grid_worker",), denied=("staff", "resident", "volunteer", "nobody")),
    RouteSpec("fieldwork:data", allowed=("grid_worker",), denied=("staff", "resident", "outsider", "nobody")),
    RouteSpec("fieldwork:manifest", public=True, allowed=("grid_worker",), denied=()),
    RouteSpec("fieldwork:service_worker", public=True, allowed=("grid_worker",), denied=()),
    RouteSpec("fieldwork:jsi18n", public=True, allowed=("grid_worker",), denied=()),  # UI strings only
    RouteSpec("fieldwork:coverage", allowed=STAFF_VIEW, denied=("grid_worker", "resident", "nobody"),
              outsider="hidden", marker=lambda w: w.tree.grid_a1.name),
    RouteSpec("fieldwork:interval", kwargs=lambda w: {"pk": _household_a(w).pk}, allowed=("staff", "admin"),
              denied=("grid_worker", "dispatcher_comm", "dispatcher_sub", "resident", "volunteer", "nobody"),
              outsider="404", marker=lambda w: "甲走访户"),
    # POST-only endpoints and per-owner uploads: see test_sync.py and test_uploads.py.
    RouteSpec("api:fieldwork-sync", api=True, allowed=(), denied=()),
    RouteSpec("api:fieldwork-upload-start", api=True, allowed=(), denied=()),
    RouteSpec("api:fieldwork-upload", api=True, kwargs=lambda w: {"upload_id": "00000000-0000-0000-0000-000000000001"},
              allowed=(), denied=("grid_worker", "staff")),
    RouteSpec("api:fieldwork-visit-list", api=True, allowed=STAFF_VIEW + ("grid_worker",), denied=()),
    RouteSpec("api:fieldwork-visit-detail", api=True, kwargs=lambda w: {"pk": 999999}, allowed=(),
              denied=("grid_worker", "staff", "resident")),
    RouteSpec("api:fieldwork-patrol-list", api=True, allowed=STAFF_VIEW + ("grid_worker",), denied=()),
    RouteSpec("api:fieldwork-patrol-detail", api=True, kwargs=lambda w: {"pk": 999999}, allowed=(),
              denied=("grid_worker", "staff", "resident")),
]

