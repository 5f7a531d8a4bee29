from types import SimpleNamespace

import pytest

from yiwang.cases.tests.factories import build_categories


@pytest.fixture
def cats(world):
    return SimpleNamespace(**build_categories(world.people.department))
