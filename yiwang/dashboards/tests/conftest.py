from datetime import timedelta
from types import SimpleNamespace

import pytest

from yiwang.cases.tests.factories import build_categories
from yiwang.cases.workflow import Action

from .factories import GRID_C1, T0, act, full_loop, report


@pytest.fixture
def cats(world):
    return SimpleNamespace(**build_categories(world.people.department))


@pytest.fixture
def busy(world, cats, django_capture_on_commit_callbacks):
    """A week of cases in communities A and C moved through the workflow with refreshes on commit."""
    p = world.people
    with django_capture_on_commit_callbacks(execute=True):
        full_loop(world, cats, at=T0, rating=3)
        full_loop(world, cats, at=T0 + timedelta(hours=2), rating=2)
        full_loop(world, cats, at=T0 + timedelta(days=1), rating=1, late=True)
        full_loop(world, cats, at=T0 + timedelta(days=2), rating=None)
        c = full_loop(world, cats, at=T0 + timedelta(days=1), where=GRID_C1, rating=3,
                      verifier=p.dispatcher_district, reporter=p.admin)
        open_case = report(world, cats, at=T0 + timedelta(days=3))
        act(open_case, p.admin, Action.SUPERVISE, T0 + timedelta(days=3, hours=1), mark="red")
        report(world, cats, at=T0 + timedelta(days=3, hours=2), category=cats.noise)
        report(world, cats, at=T0 + timedelta(days=3, hours=3), resolve_on_spot=True, comment="当场处理")
    return c
