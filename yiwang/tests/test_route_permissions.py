"""The generic permission suite: every page and API route, every kind of user.

Specs live in each app's tests/routes.py (see yiwang.core.testing.RouteSpec). Routes without a
spec fail `test_every_route_has_a_permission_spec`.
"""

import importlib
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from yiwang.audit.services import audit_record
from yiwang.core.testing import RouteSpec
from yiwang.geography.tests.factories import BuildingFactory

# Routes outside the suite, with the reason.
EXEMPT_PREFIXES = {
    "admin:": "Django admin: its own is_staff check, covered in accounts/tests/test_admin.py",
}
EXEMPT_ROUTES = {
    "set_language": "language switch, public by design",
    "healthz": "public health probe, covered in core/tests/test_health.py",
    "api-schema": "public OpenAPI schema, covered in core/tests/test_api_schema.py",
    "api-docs": "public API docs page, covered in core/tests/test_api_schema.py",
}


def collect_specs() -> list[RouteSpec]:
    specs = []
    for config in apps.get_app_configs():
        if not config.name.startswith("yiwang."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.tests.routes")
        except ModuleNotFoundError:
            continue
        specs.extend(module.ROUTES)
    return specs


SPECS = collect_specs()


def _route_names(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _route_names(pattern.url_patterns,
                                    f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield namespace + pattern.name


def test_every_route_has_a_permission_spec():
    covered = {spec.name for spec in SPECS}
    missing = sorted(
        name for name in set(_route_names(get_resolver().url_patterns))
        if name not in covered and name not in EXEMPT_ROUTES
        and not any(name.startswith(prefix) for prefix in EXEMPT_PREFIXES)
    )
    assert not missing, f"routes without a permission spec: {missing}"


@pytest.fixture
def scoped_world(world):
    """The shared world plus objects of community A that the specs refer to."""
    extra = SimpleNamespace(
        building_a1=BuildingFactory(grid=world.tree.grid_a1, name="甲一号楼"),
        audit_a=audit_record(actor=world.people.staff, action="test.write", obj=world.tree.grid_a1,
                             object_repr="甲社区审计对象"),
    )
    return SimpleNamespace(**vars(world), **vars(extra))


def _url(spec: RouteSpec, world) -> str:
    url = reverse(spec.name, kwargs=spec.kwargs(world))
    return f"{url}?{spec.query}" if spec.query else url


def _get(spec, world, user, client_for, api_for):
    if spec.api:
        return api_for(user).get(_url(spec, world), HTTP_ACCEPT_LANGUAGE="zh-hans")
    return client_for(user).get(_url(spec, world))


def _content(response) -> str:
    if response.get("Content-Type", "").startswith(("application/json", "application/geo+json")):
        return json.dumps(json.loads(response.content), ensure_ascii=False)
    return response.content.decode()


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.public], ids=str)
def test_anonymous_is_refused(spec, scoped_world, client_for, api_for):
    response = _get(spec, scoped_world, None, client_for, api_for)
    if spec.api:
        assert response.status_code in (401, 403), response.content
        assert "error" in response.json()
    else:
        assert response.status_code in (302, 405)
        if response.status_code == 302:
            assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("spec,role", [(s, r) for s in SPECS for r in s.allowed],
                         ids=lambda v: str(v) if isinstance(v, RouteSpec) else v)
def test_in_scope_user_is_served(spec, role, scoped_world, client_for, api_for):
    response = _get(spec, scoped_world, getattr(scoped_world.people, role), client_for, api_for)
    assert response.status_code == 200, (role, response.status_code, response.content[:300])
    if spec.marker and role != "handler":
        assert spec.marker(scoped_world) in _content(response)


@pytest.mark.parametrize("spec,role", [(s, r) for s in SPECS for r in s.denied],
                         ids=lambda v: str(v) if isinstance(v, RouteSpec) else v)
def test_wrong_role_is_refused(spec, role, scoped_world, client_for, api_for):
    response = _get(spec, scoped_world, getattr(scoped_world.people, role), client_for, api_for)
    if response.status_code == 200:
        # A list may answer 200 to an unauthorised role only if it is empty of A's data.
        assert spec.marker is not None and spec.marker(scoped_world) not in _content(response)
    else:
        assert response.status_code in (403, 404), (role, response.status_code)


@pytest.mark.parametrize("spec", [s for s in SPECS if s.outsider], ids=str)
def test_outsider_sees_nothing_of_community_a(spec, scoped_world, client_for, api_for):
    response = _get(spec, scoped_world, scoped_world.people.outsider, client_for, api_for)
    if spec.outsider == "404":
        assert response.status_code == 404, response.status_code
    else:
        assert response.status_code == 200
        assert spec.marker(scoped_world) not in _content(response)
