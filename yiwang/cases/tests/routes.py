"""Permission specs for every cases route (see yiwang/tests/test_route_permissions.py).

Objects of community A are created lazily from the spec callables and cached on the world.
"""

from yiwang.core.testing import RouteSpec

STAFF_LIKE = ("staff", "grid_worker", "dispatcher_comm", "dispatcher_sub", "admin")
WITH_HANDLER = STAFF_LIKE + ("handler",)
CENTRES = ("staff", "dispatcher_comm", "dispatcher_sub", "admin")


def case_a(w):
    """A case in grid A1 (dispatched to the test department), with one photo."""
    if not hasattr(w, "_case_a"):
        from yiwang.cases.models import Category
        from yiwang.cases.services import case_create

        from .factories import BIN_LAT, BIN_LON, build_categories, jpeg

        if not Category.objects.filter(code="200102").exists():
            build_categories(w.people.department)
        w._case_a = case_create(actor=w.people.grid_worker, channel="grid_worker", category="200102", lon=BIN_LON,
                                lat=BIN_LAT, description="甲社区垃圾桶满溢", photos=[jpeg()])
    return w._case_a


def marker(w):
    return case_a(w).tracking_code


def ensure(w):
    case_a(w)
    return {}


def photo_a(w):
    return case_a(w).attachments.first()


ROUTES = [
    RouteSpec("cases:queue", kwargs=ensure, allowed=WITH_HANDLER, denied=("resident", "volunteer", "nobody"),
              outsider="hidden", marker=marker),
    RouteSpec("cases:bulk_act", allowed=(), denied=()),  # POST only: test_views
    RouteSpec("cases:new", allowed=STAFF_LIKE, denied=("resident", "volunteer", "nobody", "handler")),
    RouteSpec("cases:duplicates", kwargs=ensure, query="category=200102&lon=111.105&lat=37.505&description=垃圾桶",
              allowed=STAFF_LIKE, denied=("resident", "nobody"), outsider="hidden", marker=marker),
    RouteSpec("cases:buildings_near", query="lon=111.105&lat=37.505", allowed=STAFF_LIKE,
              denied=("resident", "nobody"), outsider="hidden", marker=lambda w: w.building_a1.name),
    RouteSpec("cases:detail", kwargs=lambda w: {"pk": case_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "volunteer", "nobody"), outsider="404", marker=marker),
    RouteSpec("cases:act", kwargs=lambda w: {"pk": case_a(w).pk, "action": "accept"}, allowed=(), denied=()),
    RouteSpec("cases:verify", kwargs=lambda w: {"pk": case_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "nobody"), outsider="404", marker=marker),
    RouteSpec("cases:reporter_reveal", kwargs=lambda w: {"pk": case_a(w).pk}, allowed=(), denied=()),  # POST: test_personal
    RouteSpec("cases:attachment", kwargs=lambda w: {"pk": photo_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "nobody"), outsider="404"),
    # Scoping of the figures is tested in test_indicators.py.
    RouteSpec("cases:indicators", allowed=CENTRES, denied=("grid_worker", "resident", "nobody")),
    RouteSpec("cases:public_new", public=True, allowed=("resident", "staff"), denied=()),
    RouteSpec("cases:public_send_code", public=True, allowed=(), denied=()),  # POST only: test_public
    RouteSpec("cases:track", public=True, allowed=("resident",), denied=()),
    RouteSpec("cases:track_detail", kwargs=lambda w: {"code": case_a(w).tracking_code}, public=True,
              allowed=("resident", "outsider"), denied=(), marker=lambda w: "暴露垃圾"),
    RouteSpec("cases:track_rate", kwargs=lambda w: {"code": case_a(w).tracking_code}, public=True, allowed=(),
              denied=()),
    RouteSpec("cases:public_photo", kwargs=lambda w: {"code": case_a(w).tracking_code, "pk": photo_a(w).pk},
              public=True, allowed=("resident",), denied=()),
    RouteSpec("api:case-list", api=True, kwargs=ensure, allowed=WITH_HANDLER, denied=("resident", "nobody"),
              outsider="hidden", marker=marker),
    RouteSpec("api:case-detail", api=True, kwargs=lambda w: {"pk": case_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "nobody"), outsider="404", marker=marker),
    RouteSpec("api:case-steps", api=True, kwargs=lambda w: {"pk": case_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "nobody"), outsider="404", marker=lambda w: "dispatch"),
    RouteSpec("api:case-actions", api=True, kwargs=lambda w: {"pk": case_a(w).pk}, allowed=WITH_HANDLER,
              denied=("resident", "nobody"), outsider="404"),
    RouteSpec("api:case-act", api=True, kwargs=lambda w: {"pk": case_a(w).pk}, allowed=(), denied=()),
    RouteSpec("api:case-reporter-reveal", api=True, kwargs=lambda w: {"pk": case_a(w).pk}, allowed=(),
              denied=()),  # POST only: test_personal
    RouteSpec("api:case-category-list", api=True, allowed=STAFF_LIKE, denied=()),
    RouteSpec("api:case-category-detail", api=True, kwargs=lambda w: (case_a(w), {"code": "200102"})[1],
              allowed=STAFF_LIKE, denied=()),
    RouteSpec("api:case-indicators", api=True, allowed=CENTRES, denied=("grid_worker", "resident", "nobody")),
]

# Open311 GeoReport v2: public by the spec (GET needs no key; POST is tested in test_open311.py).
ROUTES += [
    RouteSpec("open311:discovery", kwargs=lambda w: {"fmt": "json"}, public=True, allowed=("resident",), denied=()),
    RouteSpec("open311:services", kwargs=lambda w: (case_a(w), {"fmt": "xml"})[1], public=True,
              allowed=("resident",), denied=(), marker=lambda w: "暴露垃圾"),
    RouteSpec("open311:service_definition", kwargs=lambda w: (case_a(w), {"fmt": "json", "code": "900101"})[1],
              public=True, allowed=("resident",), denied=()),
    RouteSpec("open311:requests", kwargs=lambda w: (case_a(w), {"fmt": "json"})[1], public=True,
              allowed=("resident",), denied=(), marker=marker),
    RouteSpec("open311:request_detail", kwargs=lambda w: {"fmt": "json", "request_id": case_a(w).tracking_code},
              public=True, allowed=("resident",), denied=(), marker=marker),
    RouteSpec("open311:token", kwargs=lambda w: {"fmt": "xml", "token": case_a(w).tracking_code}, public=True,
              allowed=("resident",), denied=(), marker=marker),
    RouteSpec("open311:updates", kwargs=lambda w: {"fmt": "json"}, public=True, allowed=("resident",), denied=()),
    RouteSpec("open311:not_found", kwargs=lambda w: {"rest": "nothing.json"}, public=True, allowed=(), denied=()),
]
