from yiwang.core.testing import RouteSpec

ROUTES = [
    RouteSpec("accounts:login", public=True, allowed=(), denied=()),
    RouteSpec("accounts:logout", allowed=(), denied=()),  # POST only
    RouteSpec("accounts:two_factor", allowed=("admin", "dispatcher_comm"), denied=()),
    RouteSpec("accounts:api_tokens", allowed=("staff", "admin", "resident"), denied=()),
    RouteSpec("accounts:api_token_revoke", kwargs=lambda w: {"pk": 1}, allowed=(), denied=()),  # POST only
    RouteSpec("accounts:area_switch", allowed=(), denied=()),  # POST only
    RouteSpec("api:department-list", api=True, allowed=("staff", "handler", "admin"), denied=(),
              marker=lambda w: w.people.department.name),
    RouteSpec("api:department-detail", api=True, kwargs=lambda w: {"pk": w.people.department.pk},
              allowed=("staff", "handler", "admin"), denied=("resident", "nobody")),
    RouteSpec("api:user-list", api=True, allowed=("staff", "admin", "dispatcher_sub"), denied=(),
              outsider="hidden", marker=lambda w: w.people.grid_worker.username),
    RouteSpec("api:user-detail", api=True, kwargs=lambda w: {"pk": w.people.grid_worker.pk},
              allowed=("staff", "admin", "dispatcher_sub"), denied=("resident", "grid_worker", "nobody"),
              outsider="404", marker=lambda w: w.people.grid_worker.username),
    RouteSpec("api:user-me", api=True, allowed=("staff", "resident", "nobody"), denied=()),
    RouteSpec("api:token-list", api=True, allowed=("staff", "resident"), denied=()),
    RouteSpec("api:token-revoke", api=True, kwargs=lambda w: {"pk": 1}, allowed=(), denied=()),  # POST only
]
