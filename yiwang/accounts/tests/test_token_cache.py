"""API tokens are read once per process and kept (accounts.authentication._TOKENS): a change made in this
process counts at once, one made in another process (here: written with update(), which sends no signal)
within RECHECK_SECONDS, one that leaves updated_at as it was within MAX_AGE_SECONDS."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from yiwang.accounts import authentication
from yiwang.accounts.models import ApiToken, Membership, User
from yiwang.accounts.services import api_token_create, api_token_revoke
from yiwang.core import refcache

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock(monkeypatch):
    now = [5000.0]
    monkeypatch.setattr(refcache, "monotonic", lambda: now[0])
    monkeypatch.setattr(authentication, "monotonic", lambda: now[0])
    return now


@pytest.fixture
def api(world):
    token, key = api_token_create(actor=world.people.staff, name="对接系统")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.token = token
    return client


def _areas(api) -> tuple[int, int | None]:
    response = api.get("/api/v1/areas/")
    return response.status_code, response.json().get("count")


def _token_reads(api) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert api.get("/api/v1/areas/").status_code == 200
    return sum('"accounts_apitoken"."digest"' in q["sql"] for q in captured.captured_queries)


def test_the_token_is_read_once_and_kept(api, clock):
    assert _token_reads(api) == 1
    assert _token_reads(api) == 0
    clock[0] += authentication.RECHECK_SECONDS + 1  # nothing changed: the signature says so, the rows stay
    assert _token_reads(api) == 0
    clock[0] += authentication.MAX_AGE_SECONDS
    assert _token_reads(api) == 1  # read again after the longest age, whatever the signature says


def test_revoked_in_this_process_is_refused_at_once(world, api, clock):
    assert _areas(api) == (200, 3)
    api_token_revoke(actor=world.people.staff, token=api.token)
    assert _areas(api)[0] == 401


def test_revoked_in_another_process_is_refused_within_the_recheck_interval(api, clock):
    assert _areas(api) == (200, 3)
    now = timezone.now()
    ApiToken.objects.filter(pk=api.token.pk).update(revoked_at=now, updated_at=now)  # no signal here
    assert _areas(api) == (200, 3)  # the documented lag: up to RECHECK_SECONDS
    clock[0] += authentication.RECHECK_SECONDS + 0.1
    assert _areas(api)[0] == 401


def test_a_membership_ended_in_another_process_narrows_the_scope_within_the_interval(world, api, clock):
    assert _areas(api) == (200, 3)
    Membership.objects.filter(user=world.people.staff).update(active=False, updated_at=timezone.now())
    clock[0] += authentication.RECHECK_SECONDS + 0.1
    status, count = _areas(api)
    assert status == 403 or count == 0


def test_a_change_that_leaves_updated_at_counts_after_the_longest_age(world, api, clock):
    assert _areas(api) == (200, 3)
    User.objects.filter(pk=world.people.staff.pk).update(is_active=False)  # past the model: updated_at unchanged
    clock[0] += authentication.RECHECK_SECONDS + 0.1
    assert _areas(api) == (200, 3)
    clock[0] += authentication.MAX_AGE_SECONDS
    assert _areas(api)[0] == 401


def test_unknown_keys_are_not_kept(world, clock):
    client = APIClient()
    for n in range(3):
        client.credentials(HTTP_AUTHORIZATION=f"Token guessed-{n}")
        assert client.get("/api/v1/areas/").status_code == 401
    assert authentication._TOKENS.get() == {}


def test_last_used_is_written_once_a_minute_not_on_every_request(api, clock):
    def updates() -> int:
        with CaptureQueriesContext(connection) as captured:
            api.get("/api/v1/areas/")
        return sum(q["sql"].lstrip().upper().startswith('UPDATE "ACCOUNTS_APITOKEN"')
                   for q in captured.captured_queries)

    assert updates() == 1  # never used before
    assert updates() == 0  # the kept rows know it was just written
    api.token.refresh_from_db()
    assert api.token.last_used_at is not None


def test_each_request_gets_objects_of_its_own(world, api, clock):
    digest = ApiToken.objects.get(pk=api.token.pk).digest
    first, second = authentication.token_with_user(digest), authentication.token_with_user(digest)
    assert first.user is not second.user and first.user.pk == second.user.pk
    first.user.display_name = "changed by one request"
    assert second.user.display_name != "changed by one request"
    assert first.user.active_memberships() is not second.user.active_memberships()
