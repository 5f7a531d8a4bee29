from yiwang.core.testing import RouteSpec

ROUTES = [
    RouteSpec("audit:list", allowed=("admin",), denied=("staff", "grid_worker", "dispatcher_comm", "resident")),
    RouteSpec("api:audit-event-list", api=True, allowed=("admin",), denied=(), outsider=None,
              marker=lambda w: w.audit_a.object_repr),
    RouteSpec("api:audit-event-detail", api=True, kwargs=lambda w: {"pk": w.audit_a.pk}, allowed=("admin",),
              denied=("staff", "resident"), outsider="404"),
]
