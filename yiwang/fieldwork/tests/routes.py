from yiwang.core.testing import RouteSpec

STAFF_VIEW = ("staff", "dispatcher_comm", "dispatcher_sub", "admin")

ROUTES = [
    RouteSpec("fieldwork:app", allowed=("grid_worker",), denied=("staff", "resident", "volunteer", "nobody")),
    RouteSpec("fieldwork:data", allowed=("grid_worker",), denied=("staff", "resident", "outsider", "nobody")),
    RouteSpec("fieldwork:manifest", public=True, allowed=("grid_worker",), denied=()),
    RouteSpec("fieldwork:service_worker", public=True, allowed=("grid_worker",), denied=()),
    RouteSpec("fieldwork:jsi18n", public=True, allowed=("grid_worker",), denied=()),  # UI strings only
    RouteSpec("fieldwork:coverage", allowed=STAFF_VIEW, denied=("grid_worker", "resident", "nobody"),
              outsider="hidden", marker=lambda w: w.tree.grid_a1.name),
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
