"""Declarations for the generic route permission suite (yiwang/tests/test_route_permissions.py).

Each app lists its routes in `<app>/tests/routes.py` as `ROUTES = [RouteSpec(...), ...]`. The suite
then checks, for every route: anonymous users are sent to sign in (pages) or refused (API); users
without the role are refused; an outsider from a sibling community gets 404 for an object of
community A, or a list without A's data; in-scope users get 200 and see the marker text.
A route with no spec fails the suite unless it is listed in EXEMPT_ROUTES with a reason.

`world` is the fixture from yiwang/conftest.py: world.tree.<area>, world.people.<role>.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class RouteSpec:
    name: str
    kwargs: Callable = lambda world: {}
    query: str = ""
    api: bool = False
    allowed: tuple[str, ...] = ("staff",)
    denied: tuple[str, ...] = ("resident",)
    # "404": the outsider (staff of sibling community B) gets 404 for this object of community A.
    # "hidden": the outsider gets 200 but must not see `marker`. None: not scoped to community A.
    outsider: str | None = None
    marker: Callable | None = None
    public: bool = False  # anonymous users allowed (health, public pages)

    def __str__(self) -> str:
        return self.name
