from types import SimpleNamespace

import pytest

from yiwang.cases.tests.factories import build_categories

from .factories import households


@pytest.fixture
def field(world):
    """The shared world plus three households in grid A1, one in A2, and the case categories."""
    return SimpleNamespace(
        households=households(world.tree.grid_a1, 3),
        other_household=households(world.tree.grid_a2, 1)[0],
        cats=SimpleNamespace(**build_categories(world.people.department)),
    )
