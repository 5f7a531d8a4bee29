"""Shared fixtures: a small area tree and one user per role (see the two factories modules)."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from yiwang.accounts.tests.factories import build_people
from yiwang.geography.tests.factories import build_tree


@pytest.fixture
def tree(db):
    return SimpleNamespace(**build_tree())


@pytest.fixture
def people(tree):
    return SimpleNamespace(**build_people(vars(tree)))


@pytest.fixture
def world(tree, people):
    """Tree and people together: world.tree.comm_a, world.people.staff, ..."""
    return SimpleNamespace(tree=tree, people=people)


@pytest.fixture
def client_for(client):
    """A Django test client signed in as the given user (or anonymous for None)."""

    def _client(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return _client


@pytest.fixture
def api_for():
    def _api(user):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        return api

    return _api
