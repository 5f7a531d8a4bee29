"""Shared fixtures: a small area tree and one user per role (see the two factories modules)."""

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from yiwang.accounts.tests.factories import build_people
from yiwang.geography.tests.factories import build_tree


@pytest.fixture(autouse=True)
def default_language(settings):
    """Every test starts in the default language (Chinese). A test-client request with another language
    leaves it active in the thread (LocaleMiddleware does not reset it), which would leak into the next
    test that calls a service directly."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def fresh_reference_caches():
    """Every test starts without the per-process reference data (core.refcache) an earlier test read: its
    rows were rolled back without a signal."""
    from yiwang.core.refcache import forget_all

    forget_all()


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


# -- browser tests (Playwright driving Debian's Chromium) ------------------------------------------

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def reseed_reference_data(django_db_blocker):
    """For modules of transactional tests (browser tests): each such test ends with a flush that also
    empties the registry's seeded reference data (special groups, component categories); this puts it back
    after the module, for the tests that run after it."""
    yield
    from django.apps import apps

    from yiwang.registry.seed import load_seed

    with django_db_blocker.unblock():
        load_seed(apps)


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (the Debian package at /usr/bin/chromium), shared by the session."""
    import os

    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server DB access from the sync API
    executable = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}: install the Debian package 'chromium' (.ci/run does)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def screenshot_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
